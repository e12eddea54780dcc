package arenakit.train;

import arenakit.data.DataException;
import arenakit.data.LogitsCsv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Teacher logits brought from outside (e.g. out-of-fold logits of a Llama-3-70B or Qwen2-72B teacher computed in
 * Python) attached to a stage's labeled training rows, for distillation ({@link DistillConfig#teachers()}).
 *
 * <p>Several teachers combine as the weighted mean of their probabilities at the distillation temperature T:
 * {@code p = sum_k w_k softmax(l_k / T) / sum_k w_k}, over the teachers that have the row (so a row two of three
 * teachers cover is taught by those two). The combined target is handed to the loss as the logits {@code T log p},
 * whose {@code softmax(. / T)} is exactly {@code p}; with one teacher that is its own distribution at T. Averaging
 * probabilities (not logits) keeps a confident teacher from outvoting the others' uncertainty by its scale alone.
 *
 * <p>A training row without teacher logits trains on plain cross-entropy; those rows are counted. An id that names
 * no row of the labeled data is an error naming the file, line and id; ids of labeled rows the stage does not train
 * on (the held-out fold, a source the stage leaves out, external rows dropped as duplicates of train) are counted
 * and ignored.
 */
public final class TeacherLogits {
    private TeacherLogits() {}

    /**
     * What attaching found.
     *
     * @param teachers the files with their weights and row counts, in config order
     * @param distilled training rows that got teacher logits
     * @param plain training rows without any (plain cross-entropy)
     * @param partial distilled rows that only some of the teachers cover
     * @param ignored ids of labeled rows this stage does not train on, by reason
     */
    @com.fasterxml.jackson.databind.annotation.JsonNaming(
            com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Report(List<String> teachers, long distilled, long plain, long partial, Map<String, Long> ignored) {
        /** One line for the stage log (the temperature is the stage's {@code distill.temperature}). */
        public String describe(double temperature) {
            StringBuilder sb = new StringBuilder("teacher logits: ").append(String.join(", ", teachers));
            if (teachers.size() > 1) {
                sb.append(String.format(Locale.ROOT, ", combined as the weighted mean of their probabilities at T = %s",
                        trim(temperature)));
            }
            sb.append("; ").append(distilled).append(" of ").append(distilled + plain)
                    .append(" labeled training rows distilled, ").append(plain)
                    .append(" on plain cross-entropy (no teacher logits)");
            if (partial > 0) {
                sb.append(", ").append(partial).append(" covered by only some teachers");
            }
            if (!ignored.isEmpty()) {
                List<String> parts = new ArrayList<>();
                ignored.forEach((why, n) -> parts.add(n + " " + why));
                sb.append("; ignored: ").append(String.join(", ", parts));
            }
            return sb.toString();
        }

        private static String trim(double x) {
            return x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
        }
    }

    /** The training rows with teacher logits attached, and the report. */
    public record Result(List<Example> rows, Report report) {}

    /**
     * Attaches the teachers' combined logits to the labeled rows of {@code rows} (rows that carry teacher logits
     * already, pseudo-labels, are left as they are).
     *
     * @param notTrained ids of labeled rows of the data that this stage does not train on, each with the reason
     *     (e.g. "held-out rows"): teacher rows for them are ignored and counted
     * @throws DataException for a malformed file, or an id that names no labeled row
     */
    public static Result attach(List<DistillConfig.Teacher> teachers, double temperature, List<Example> rows,
            Map<String, String> notTrained) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            if (rows.get(i).teacherLogits() == null && index.putIfAbsent(rows.get(i).row().id(), i) != null) {
                index.put(rows.get(i).row().id(), -1); // two training rows share the id: a teacher row is ambiguous
            }
        }
        double[][] sum = new double[rows.size()][];
        double[] weights = new double[rows.size()];
        int[] covers = new int[rows.size()];
        Map<String, Long> ignored = new LinkedHashMap<>();
        List<String> described = new ArrayList<>();
        for (DistillConfig.Teacher t : teachers) {
            Path file = Path.of(t.logits());
            List<LogitsCsv.Row> logits = LogitsCsv.read(file);
            described.add(file.getFileName() + " (weight " + Report.trim(t.weight()) + ", " + logits.size() + " rows)");
            for (LogitsCsv.Row r : logits) {
                Integer i = index.get(r.id());
                if (i == null) {
                    String why = notTrained.get(r.id());
                    if (why == null) {
                        throw new DataException(file, r.line(), r.id(), "id", "names no labeled row of the data "
                                + "(train and external files): teacher logits must be for the rows this setup reads");
                    }
                    ignored.merge(why, 1L, Long::sum);
                    continue;
                }
                if (i < 0) {
                    throw new DataException(file, r.line(), r.id(), "id", "two labeled training rows have this id, "
                            + "so its teacher logits are ambiguous");
                }
                double[] p = softmax(r.logits(), temperature);
                if (sum[i] == null) {
                    sum[i] = new double[3];
                }
                for (int k = 0; k < 3; k++) {
                    sum[i][k] += t.weight() * p[k];
                }
                weights[i] += t.weight();
                covers[i]++;
            }
        }
        List<Example> out = new ArrayList<>(rows.size());
        long distilled = 0;
        long plain = 0;
        long partial = 0;
        for (int i = 0; i < rows.size(); i++) {
            Example e = rows.get(i);
            if (e.teacherLogits() != null) {
                out.add(e);
            } else if (sum[i] == null) {
                out.add(e);
                plain++;
            } else {
                float[] logits = new float[3];
                for (int k = 0; k < 3; k++) {
                    // T log p: softmax(. / T) of it is p; a class no teacher gives any mass stays finite
                    logits[k] = (float) (temperature * Math.log(Math.max(sum[i][k] / weights[i], Double.MIN_NORMAL)));
                }
                out.add(new Example(e.row(), e.target(), logits));
                distilled++;
                partial += covers[i] < teachers.size() ? 1 : 0;
            }
        }
        return new Result(out, new Report(described, distilled, plain, partial, ignored));
    }

    /** softmax(logits / T), in double. */
    static double[] softmax(float[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l / temperature);
        }
        double[] p = new double[logits.length];
        double z = 0;
        for (int k = 0; k < logits.length; k++) {
            p[k] = Math.exp(logits[k] / temperature - max);
            z += p[k];
        }
        for (int k = 0; k < p.length; k++) {
            p[k] /= z;
        }
        return p;
    }
}
