package arenakit.data;

import arenakit.util.AtomicFiles;
import com.fasterxml.jackson.databind.SequenceWriter;
import com.fasterxml.jackson.dataformat.csv.CsvGenerator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads and writes the competition's CSV files (train.csv, test.csv, the lmsys-33k external file) as
 * {@link Conversation}s, with strict validation.
 *
 * <p>Every problem is a {@link DataException} naming file, line, id and column: malformed JSON cells, cells that
 * are not arrays of strings/nulls, turn counts that differ between prompt and responses, missing / unexpected /
 * repeated columns, ragged records, labels that are not exactly one 1 among {@code 0/1} values, blank ids or
 * model names, duplicate ids, empty or header-only files, invalid UTF-8. The only changes made to the data are the
 * counted {@link Repairs}: byte order mark skipped, CRLF read as LF, lone surrogates replaced by U+FFFD.
 *
 * <p>The writers produce the Kaggle encoding byte for byte (header, minimal quoting, LF line ends,
 * {@link JsonCells} cells), so a read-then-write of a real file reproduces it.
 */
public final class KaggleCsv {
    private static final CsvMapper CSV = new CsvMapper();

    private KaggleCsv() {}

    /** Reads a file whose kind is guessed from its header ({@link DataKind#guess}); not for submissions. */
    public static DataSet read(Path file) {
        DataKind kind = DataKind.guessFrom(file);
        return switch (kind) {
            case TRAIN -> readTrain(file);
            case TEST -> readTest(file);
            case PREFERENCE -> PreferencePairs.read(file);
            case SUBMISSION -> throw DataException.ofFile(file,
                    "this is a submission-shaped file; read it with Submission.read");
        };
    }

    /** Kaggle train.csv: labeled rows with model names. */
    public static DataSet readTrain(Path file) {
        return readConversations(file, DataKind.TRAIN);
    }

    /** The lmsys-33k external file: the same columns and rules as train.csv. */
    public static DataSet readExternal(Path file) {
        return readConversations(file, DataKind.TRAIN);
    }

    /** Kaggle test.csv: unlabeled rows without model names. */
    public static DataSet readTest(Path file) {
        return readConversations(file, DataKind.TEST);
    }

    /** Reads a CSV of {@code kind} (train, test, external or preference rows) through a {@link RowReader}. */
    static DataSet readConversations(Path file, DataKind kind) {
        Repairs repairs = new Repairs();
        RowReader reader = RowReader.of(file, kind, repairs);
        List<Conversation> rows = new ArrayList<>();
        CsvRecords.read(file, kind.columns(), repairs, rec -> rows.add(reader.read(rec.line(), rec.values())));
        return new DataSet(file, kind, rows, repairs);
    }

    /**
     * Streams the validated rows of a CSV (train, test, external or preference; the kind is guessed from the header
     * as {@link #read} does) from {@code in}, which holds the file's bytes and is closed at the end; {@code file}
     * names it in messages. For files that are not on a local file system (a Hadoop path) or too large to hold as
     * a {@link DataSet}. Returns the reader, which tells the kind and the repairs.
     */
    public static RowReader stream(InputStream in, Path file, Consumer<Conversation> sink) {
        Repairs repairs = new Repairs();
        RowReader[] reader = new RowReader[1];
        CsvRecords.read(in, file, repairs, names -> {
            DataKind kind = DataKind.guess(names);
            reader[0] = RowReader.of(file, kind, repairs);
            return CsvRecords.checkHeader(file, names, kind.columns());
        }, rec -> sink.accept(reader[0].read(rec.line(), rec.values())));
        return reader[0];
    }

    /** Writes labeled rows as a Kaggle train.csv (also the lmsys-33k format). */
    public static void writeTrain(Path file, List<Conversation> rows) throws IOException {
        writeCsv(file, DataKind.TRAIN.columns(), rows.stream().map(c -> {
            if (!c.labeled() || c.modelA() == null || c.modelB() == null) {
                throw new IllegalArgumentException("row " + c.id() + " needs a label and model names for train.csv");
            }
            List<String> cells = new ArrayList<>(List.of(c.id(), c.modelA(), c.modelB()));
            cells.addAll(turnCells(c.turns(), Turn::prompt, Turn::responseA, Turn::responseB));
            for (Winner w : Winner.values()) {
                cells.add(c.winner() == w ? "1" : "0");
            }
            return cells.toArray(String[]::new);
        }).toList());
    }

    /** Writes rows as a Kaggle test.csv (labels and model names are left out). */
    public static void writeTest(Path file, List<Conversation> rows) throws IOException {
        writeCsv(file, DataKind.TEST.columns(), rows.stream().map(c -> {
            List<String> cells = new ArrayList<>(List.of(c.id()));
            cells.addAll(turnCells(c.turns(), Turn::prompt, Turn::responseA, Turn::responseB));
            return cells.toArray(String[]::new);
        }).toList());
    }

    @SafeVarargs
    static List<String> turnCells(List<Turn> turns, java.util.function.Function<Turn, String>... fields) {
        List<String> out = new ArrayList<>();
        for (var f : fields) {
            out.add(JsonCells.write(turns.stream().map(f).toList()));
        }
        return out;
    }

    /** Writes a CSV in the Kaggle style (minimal quoting, LF), atomically. */
    static void writeCsv(Path file, List<String> header, Iterable<String[]> rows) throws IOException {
        AtomicFiles.write(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            try (SequenceWriter sw = CSV.writerFor(String[].class)
                    .with(CsvSchema.emptySchema())
                    .with(CsvGenerator.Feature.STRICT_CHECK_FOR_QUOTING)
                    .writeValues(w)) {
                sw.write(header.toArray(String[]::new));
                for (String[] row : rows) {
                    sw.write(row);
                }
            }
        });
    }

    /** Per-record cell parsing that knows where it is, for precise errors. */
    record Cells(Path file, long line, String rawId, Repairs repairs) {

        DataException error(String column, String problem) {
            return new DataException(file, line, rawId == null || rawId.isBlank() ? null : rawId, column, problem);
        }

        String id(Map<String, Long> firstLine) {
            if (rawId == null || rawId.isBlank()) {
                throw error("id", "blank id");
            }
            Long before = firstLine.putIfAbsent(rawId, line);
            if (before != null) {
                throw error("id", "duplicate id (first seen on line " + before + ")");
            }
            return rawId;
        }

        String nonBlank(String column, String value) {
            if (value == null || value.isBlank()) {
                throw error(column, "blank value");
            }
            return value;
        }

        List<String> json(String column, String cell) {
            try {
                JsonCells.Parsed parsed = JsonCells.parse(cell);
                repairs.add(Repairs.Kind.LONE_SURROGATE, parsed.loneSurrogates(),
                        DataException.where(file, line, rawId, column));
                return parsed.values();
            } catch (IllegalArgumentException e) {
                throw new DataException(file, line, rawId, column, e.getMessage(), e);
            }
        }

        /** Three parallel turn cells (prompt + two responses, in that order) zipped into turns. */
        List<Turn> turns(String[] columns, String prompt, String first, String second) {
            List<String> p = json(columns[0], prompt);
            List<String> a = json(columns[1], first);
            List<String> b = json(columns[2], second);
            if (a.size() != p.size() || b.size() != p.size()) {
                throw error(null, String.format("turn counts differ: %s has %d, %s has %d, %s has %d",
                        columns[0], p.size(), columns[1], a.size(), columns[2], b.size()));
            }
            List<Turn> turns = new ArrayList<>(p.size());
            for (int i = 0; i < p.size(); i++) {
                turns.add(new Turn(p.get(i), a.get(i), b.get(i)));
            }
            return turns;
        }

        Winner winner(String a, String b, String tie) {
            String[] raw = {a, b, tie};
            Winner found = null;
            for (Winner w : Winner.values()) {
                String v = raw[w.ordinal()];
                if (!v.equals("0") && !v.equals("1")) {
                    throw error(w.column(), "label is '" + raw[w.ordinal()] + "', expected 0 or 1");
                }
                if (v.equals("1")) {
                    if (found != null) {
                        throw error(w.column(), "two labels set (" + found.column() + " and " + w.column() + ")");
                    }
                    found = w;
                }
            }
            if (found == null) {
                throw error(null, "no label set (winner_model_a, winner_model_b and winner_tie are all 0)");
            }
            return found;
        }
    }
}
