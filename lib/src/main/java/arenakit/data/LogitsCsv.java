package arenakit.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A logits file brought from outside, e.g. a Python teacher's out-of-fold logits: {@code id, logit_a, logit_b,
 * logit_tie} (any column order, no other columns), one row per conversation, read strictly like the other data files
 * (every problem a {@link DataException} naming the file, line, id and column).
 */
public final class LogitsCsv {
    public static final List<String> COLUMNS = List.of("id", "logit_a", "logit_b", "logit_tie");
    /** A decimal number as Python and numpy write them ({@code -1.5}, {@code 2}, {@code 3.1e-05}). */
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern NOT_FINITE = Pattern.compile("(?i)[+-]?(nan|inf|infinity)");

    /** One row: the id, the line its record starts on, logits over (A, B, tie). */
    public record Row(String id, long line, float[] logits) {}

    private LogitsCsv() {}

    /**
     * Every row of the file. Errors: a missing or unexpected column, a blank or repeated id (naming the first line),
     * a value that is not a finite number, an empty or header-only file, invalid UTF-8.
     */
    public static List<Row> read(Path file) {
        List<Row> rows = new ArrayList<>();
        Map<String, Long> firstLine = new HashMap<>();
        CsvRecords.read(file, COLUMNS, new Repairs(), rec -> {
            String id = rec.values()[0];
            if (id.isBlank()) {
                throw new DataException(file, rec.line(), null, "id", "blank id");
            }
            Long first = firstLine.putIfAbsent(id, rec.line());
            if (first != null) {
                throw new DataException(file, rec.line(), id, "id", "repeated id (first on line " + first + ")");
            }
            float[] logits = new float[3];
            for (int k = 0; k < 3; k++) {
                String column = COLUMNS.get(k + 1);
                String v = rec.values()[k + 1].trim();
                if (!NUMBER.matcher(v).matches()) {
                    throw new DataException(file, rec.line(), id, column, "'" + v + "' is not a "
                            + (NOT_FINITE.matcher(v).matches() ? "finite number" : "number"));
                }
                double x = Double.parseDouble(v);
                if (Math.abs(x) > Float.MAX_VALUE) {
                    throw new DataException(file, rec.line(), id, column, "'" + v + "' is not a finite number");
                }
                logits[k] = (float) x;
            }
            rows.add(new Row(id, rec.line(), logits));
        });
        return rows;
    }
}
