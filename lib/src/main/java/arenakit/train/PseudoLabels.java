package arenakit.train;

import arenakit.data.Conversation;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Soft labels for unlabeled pairs: {@code id, winner_model_a, winner_model_b, winner_tie, logit_a, logit_b,
 * logit_tie}. The probabilities are the ensemble's average (each model's swap TTA included); the logits are their
 * logs, the teacher signal for distillation.
 *
 * <p>Generation is resumable: each model's predictions are written chunk by chunk ({@code chunks/<model>/
 * chunk-00003.csv}, each atomically), so an interrupted run redoes at most one chunk per model. The merged file is
 * written last, atomically.
 */
public final class PseudoLabels {
    private static final List<String> COLUMNS = List.of("id", Winner.A.column(), Winner.B.column(),
            Winner.TIE.column(), "logit_a", "logit_b", "logit_tie");
    private static final CsvMapper CSV = new CsvMapper();

    private PseudoLabels() {}

    /** One pseudo-labeled row. */
    public record Label(String id, float[] probs, float[] logits) {}

    /** Something that predicts chunks of rows with one model (opened only when a chunk is missing). */
    public interface ModelPredictor extends AutoCloseable {
        Predictions predict(List<Conversation> rows);

        @Override
        void close();
    }

    /** Opens a model by name. */
    @FunctionalInterface
    public interface Opener {
        ModelPredictor open(String model) throws IOException;
    }

    /**
     * Predicts {@code rows} with every model (chunks that exist are reused), averages, and writes
     * {@code dir/pseudo_labels.csv}. Returns the labels in row order.
     */
    public static List<Label> generate(List<Conversation> rows, List<String> models, Opener opener, Path dir,
            int chunkRows, Consumer<String> log) throws IOException {
        int chunks = (rows.size() + chunkRows - 1) / chunkRows;
        double[][] sum = new double[rows.size()][3];
        for (String model : models) {
            Path modelDir = dir.resolve("chunks").resolve(model.replaceAll("[^A-Za-z0-9._-]", "_"));
            ModelPredictor predictor = null;
            try {
                int reused = 0;
                for (int c = 0; c < chunks; c++) {
                    List<Conversation> chunk = rows.subList(c * chunkRows, Math.min(rows.size(), (c + 1) * chunkRows));
                    Path file = modelDir.resolve(String.format(Locale.ROOT, "chunk-%05d.csv", c));
                    List<Label> labels;
                    if (Files.isRegularFile(file)) {
                        labels = read(file);
                        reused++;
                    } else {
                        if (predictor == null) {
                            predictor = opener.open(model);
                        }
                        Predictions p = predictor.predict(chunk);
                        labels = labels(p);
                        write(file, labels);
                    }
                    for (int i = 0; i < chunk.size(); i++) {
                        Label l = labels.get(i);
                        if (!l.id().equals(chunk.get(i).id())) {
                            throw new IOException(file + " row " + (i + 1) + " has id " + l.id() + " but the input row "
                                    + "there is " + chunk.get(i).id() + ": the unlabeled data changed; delete "
                                    + dir.resolve("chunks") + " to start over");
                        }
                        for (int k = 0; k < 3; k++) {
                            sum[c * chunkRows + i][k] += l.probs()[k];
                        }
                    }
                }
                if (reused > 0) {
                    log.accept(model + ": reused " + reused + " of " + chunks + " chunk(s) from an earlier run");
                }
            } finally {
                if (predictor != null) {
                    predictor.close();
                }
            }
        }
        List<Label> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            out.add(ensemble(rows.get(i).id(), sum[i], models.size()));
        }
        write(dir.resolve("pseudo_labels.csv"), out);
        return out;
    }

    /** The ensemble's label of a row from the sum of its models' probabilities: their mean, and its logs. */
    public static Label ensemble(String id, double[] probSum, int models) {
        float[] p = new float[3];
        float[] z = new float[3];
        for (int k = 0; k < 3; k++) {
            p[k] = (float) (probSum[k] / models);
            z[k] = (float) Math.log(Math.max(p[k], 1e-30));
        }
        return new Label(id, p, z);
    }

    /** One model's predictions as labels (probabilities and logits as floats, as the chunk files hold them). */
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
