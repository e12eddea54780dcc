package arenakit.train;

import arenakit.data.Winner;
import arenakit.infer.Predictions;
import arenakit.util.AtomicFiles;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Soft labels for unlabeled pairs: {@code id, winner_model_a, winner_model_b, winner_tie, logit_a, logit_b,
 * logit_tie}. The probabilities are the ensemble's average (each model's swap TTA included); the logits are their
 * logs, the teacher signal for distillation.
 *
 * <p>The pseudo-label stage makes them with an {@link arenakit.infer.Ensemble} (resumable chunks, a time budget);
 * this class is the file format. Files are written atomically.
 */
public final class PseudoLabels {
    private static final List<String> COLUMNS = List.of("id", Winner.A.column(), Winner.B.column(),
            Winner.TIE.column(), "logit_a", "logit_b", "logit_tie");
    private static final CsvMapper CSV = new CsvMapper();

    private PseudoLabels() {}

    /** One pseudo-labeled row. */
    public record Label(String id, float[] probs, float[] logits) {
        /** A row's label from its probabilities: as floats, with the logs of those floats as the logits. */
        public static Label of(String id, double[] probs) {
            float[] p = new float[3];
            float[] z = new float[3];
            for (int k = 0; k < 3; k++) {
                p[k] = (float) probs[k];
                z[k] = (float) Math.log(Math.max(p[k], 1e-30));
            }
            return new Label(id, p, z);
        }
    }

    /** The file of ids a time budget left without a label, in the stage folder (absent when there are none). */
    public static final String LEFT_OUT = "left_out.csv";

    /** Writes (or, for none, removes) {@code dir/left_out.csv}: one id per row, under an {@code id} header. */
    public static void writeLeftOut(Path dir, List<String> ids) throws IOException {
        Path file = dir.resolve(LEFT_OUT);
        if (ids.isEmpty()) {
            Files.deleteIfExists(file);
            return;
        }
        AtomicFiles.write(file, stream -> {
            Writer w = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
            CsvSchema schema = CsvSchema.builder().addColumn("id").build().withHeader();
            try (var seq = CSV.writer(schema).writeValues(w)) {
                for (String id : ids) {
                    seq.write(List.of(id));
                }
            }
        });
    }

    /** The ids {@code dir/left_out.csv} lists (none when it does not exist). */
    public static Set<String> leftOut(Path dir) throws IOException {
        Path file = dir.resolve(LEFT_OUT);
        Set<String> ids = new HashSet<>();
        if (Files.isRegularFile(file)) {
            try (MappingIterator<Map<String, String>> it =
                    CSV.readerFor(Map.class).with(CsvSchema.emptySchema().withHeader()).readValues(file.toFile())) {
                while (it.hasNextValue()) {
                    ids.add(it.nextValue().get("id"));
                }
            }
        }
        return ids;
    }

    /** Labels from predictions (probabilities and logits as floats). */
    public static List<Label> labels(Predictions p) {
        List<Label> out = new ArrayList<>(p.size());
        for (int i = 0; i < p.size(); i++) {
            float[] probs = new float[3];
            float[] logits = new float[3];
            for (int k = 0; k < 3; k++) {
                probs[k] = (float) p.probs()[i][k];
                logits[k] = (float) p.logits()[i][k];
            }
            out.add(new Label(p.ids().get(i), probs, logits));
        }
        return out;
    }

    /** Writes labels as CSV, atomically. */
    public static void write(Path file, List<Label> labels) throws IOException {
        AtomicFiles.write(file, stream -> {
            Writer w = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
            CsvSchema schema = CsvSchema.builder().addColumns(COLUMNS, CsvSchema.ColumnType.STRING).build()
                    .withHeader();
            try (var seq = CSV.writer(schema).writeValues(w)) {
                for (Label l : labels) {
                    seq.write(List.of(l.id(), num(l.probs()[0]), num(l.probs()[1]), num(l.probs()[2]),
                            num(l.logits()[0]), num(l.logits()[1]), num(l.logits()[2])));
                }
            }
        });
    }

    /** Reads a pseudo-label file; a malformed row is an error naming the file, line and column. */
    public static List<Label> read(Path file) throws IOException {
        CsvSchema schema = CsvSchema.emptySchema().withHeader();
        List<Label> out = new ArrayList<>();
        try (MappingIterator<Map<String, String>> it =
                CSV.readerFor(Map.class).with(schema).readValues(file.toFile())) {
            long line = 1; // the header; cells never span lines (ids and numbers)
            while (it.hasNextValue()) {
                Map<String, String> row = it.nextValue();
                line++;
                if (!row.keySet().containsAll(COLUMNS)) {
                    throw new IOException(file + ": expected columns " + COLUMNS + ", found " + row.keySet());
                }
                float[] p = new float[3];
                float[] z = new float[3];
                for (int k = 0; k < 3; k++) {
                    p[k] = parse(file, line, COLUMNS.get(1 + k), row);
                    z[k] = parse(file, line, COLUMNS.get(4 + k), row);
                }
                out.add(new Label(row.get("id"), p, z));
            }
        }
        return out;
    }

    /** The labels by id (for joining with the unlabeled rows). */
    public static Map<String, Label> byId(List<Label> labels) {
        Map<String, Label> m = new LinkedHashMap<>();
        for (Label l : labels) {
            if (m.put(l.id(), l) != null) {
                throw new IllegalArgumentException("pseudo-labels: id " + l.id() + " appears twice");
            }
        }
        return m;
    }

    private static float parse(Path file, long line, String column, Map<String, String> row) throws IOException {
        String v = row.get(column);
        try {
            float f = Float.parseFloat(v);
            if (!Float.isFinite(f)) {
                throw new NumberFormatException("not finite");
            }
            return f;
        } catch (NumberFormatException | NullPointerException e) {
            throw new IOException(file + " line " + line + ", column " + column + ": '" + v + "' is not a number");
        }
    }

    private static String num(float f) {
        return Float.toString(f);
    }
}
