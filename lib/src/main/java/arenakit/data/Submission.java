package arenakit.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Kaggle submissions ({@code id,winner_model_a,winner_model_b,winner_tie}): writing, reading and validating
 * against test.csv and sample_submission.csv.
 *
 * <p>A valid submission has exactly test.csv's ids, in sample_submission's order, and per row three finite
 * probabilities in [0, 1] summing to 1. The writer clips to [eps, 1-eps] and renormalises (log loss punishes a
 * confident 0 without bound) and writes atomically, so Kaggle never reads a half-written file.
 */
public final class Submission {
    /** Default clip for {@link #normalise}: far below any real prediction, far above log(0). */
    public static final double DEFAULT_EPS = 1e-6;
    private static final double SUM_TOLERANCE = 1e-6;

    private Submission() {}

    /**
     * What {@link #validate} found.
     *
     * @param rows number of rows
     * @param mean mean probability per class (A, B, tie)
     */
    public record Report(int rows, double[] mean) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d rows, mean P(A)=%.4f P(B)=%.4f P(tie)=%.4f", rows, mean[0],
                    mean[1], mean[2]);
        }
    }

    /** One submission row's probabilities and the line it was read from. */
    private record Row(long line, double[] p) {}

    /**
     * Reads a submission-shaped file (also sample_submission.csv): ids unique, three finite numbers per row.
     * The map keeps file order.
     */
    public static Map<String, double[]> read(Path file) {
        Map<String, double[]> out = new LinkedHashMap<>();
        readRows(file).forEach((id, row) -> out.put(id, row.p()));
        return out;
    }

    private static Map<String, Row> readRows(Path file) {
        Map<String, Row> out = new LinkedHashMap<>();
        Map<String, Long> firstLine = new HashMap<>();
        Repairs repairs = new Repairs();
        CsvRecords.read(file, DataKind.SUBMISSION.columns(), repairs, rec -> {
            String[] v = rec.values();
            KaggleCsv.Cells cells = new KaggleCsv.Cells(file, rec.line(), v[0], repairs);
            String id = cells.id(firstLine);
            double[] p = new double[3];
            for (Winner w : Winner.values()) {
                String raw = v[w.ordinal() + 1];
                try {
                    p[w.ordinal()] = Double.parseDouble(raw);
                } catch (NumberFormatException e) {
                    throw cells.error(w.column(), "'" + raw + "' is not a number");
                }
                if (!Double.isFinite(p[w.ordinal()])) {
                    throw cells.error(w.column(), "'" + raw + "' is not finite");
                }
            }
            out.put(id, new Row(rec.line(), p));
        });
        return out;
    }

    /** The ids of sample_submission.csv, in its order. */
    public static List<String> readIds(Path sampleSubmission) {
        return new ArrayList<>(read(sampleSubmission).keySet());
    }

    /**
     * Checks that test.csv and sample_submission.csv hold the same ids.
     *
     * @throws DataException naming both files and a few ids on each side otherwise
     */
    public static void checkTestIds(DataSet test, List<String> sampleIds, Path sampleFile) {
        List<String> testIds = test.rows().stream().map(Conversation::id).toList();
        String diff = difference(testIds, sampleIds, "in " + name(test.file()) + " only", "in " + name(sampleFile)
                + " only");
        if (diff != null) {
            throw DataException.ofFile(test.file(), "test ids do not match " + sampleFile + ": " + diff);
        }
    }

    /**
     * {@code p} clipped to [eps, 1-eps] and renormalised to sum 1.
     *
     * @throws IllegalArgumentException if a value is NaN or infinite (a model bug, not something to paper over)
     */
    public static double[] normalise(double[] p, double eps) {
        if (p.length != 3) {
            throw new IllegalArgumentException("expected 3 probabilities, got " + p.length);
        }
        double[] out = new double[3];
        double sum = 0;
        for (int i = 0; i < 3; i++) {
            if (!Double.isFinite(p[i])) {
                throw new IllegalArgumentException("probability " + Winner.ofIndex(i).column() + " is " + p[i]);
            }
            out[i] = Math.min(1 - eps, Math.max(eps, p[i]));
            sum += out[i];
        }
        for (int i = 0; i < 3; i++) {
            out[i] /= sum;
        }
        return out;
    }

    /**
     * Writes a submission atomically: rows in {@code order} (sample_submission's), each {@link #normalise}d.
     *
     * @throws IllegalArgumentException if the predicted ids are not exactly {@code order}'s, or a row is not finite
     */
    public static void write(Path file, Map<String, double[]> predictions, List<String> order, double eps)
            throws IOException {
        String diff = difference(predictions.keySet(), order, "predicted but not in the submission order",
                "in the submission order but not predicted");
        if (diff != null) {
            throw new IllegalArgumentException("prediction ids do not match: " + diff);
        }
        List<String[]> rows = new ArrayList<>(order.size());
        for (String id : order) {
            double[] p;
            try {
                p = normalise(predictions.get(id), eps);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("id " + id + ": " + e.getMessage(), e);
            }
            rows.add(new String[] {id, Double.toString(p[0]), Double.toString(p[1]), Double.toString(p[2])});
        }
        KaggleCsv.writeCsv(file, DataKind.SUBMISSION.columns(), rows);
    }

    /**
     * Writes a submission for test.csv in sample_submission's order, after checking the two agree.
     */
    public static void write(Path file, Map<String, double[]> predictions, Path testCsv, Path sampleSubmission)
            throws IOException {
        List<String> order = readIds(sampleSubmission);
        checkTestIds(KaggleCsv.readTest(testCsv), order, sampleSubmission);
        write(file, predictions, order, DEFAULT_EPS);
    }

    /**
     * Validates a submission file against test.csv and sample_submission.csv.
     *
     * @throws DataException naming file, line, id and column of the first problem
     */
    public static Report validate(Path submission, Path testCsv, Path sampleSubmission) {
        List<String> order = readIds(sampleSubmission);
        checkTestIds(KaggleCsv.readTest(testCsv), order, sampleSubmission);
        Map<String, Row> rows = readRows(submission);
        List<String> ids = new ArrayList<>(rows.keySet());
        String diff = difference(ids, order, "in the submission only", "in " + name(sampleSubmission) + " only");
        if (diff != null) {
            throw DataException.ofFile(submission, "ids do not match " + sampleSubmission + ": " + diff);
        }
        for (int i = 0; i < ids.size(); i++) {
            if (!ids.get(i).equals(order.get(i))) {
                throw new DataException(submission, rows.get(ids.get(i)).line(), ids.get(i), "id", "rows are not in "
                        + "sample_submission's order: expected id " + order.get(i) + " here");
            }
        }
        double[] mean = new double[3];
        for (Map.Entry<String, Row> e : rows.entrySet()) {
            long line = e.getValue().line();
            double[] p = e.getValue().p();
            double sum = 0;
            for (int k = 0; k < 3; k++) {
                if (p[k] < 0 || p[k] > 1) {
                    throw new DataException(submission, line, e.getKey(), Winner.ofIndex(k).column(),
                            p[k] + " is not a probability in [0, 1]");
                }
                sum += p[k];
                mean[k] += p[k] / rows.size();
            }
            if (Math.abs(sum - 1) > SUM_TOLERANCE) {
                throw new DataException(submission, line, e.getKey(), null, "probabilities sum to " + sum
                        + ", not 1");
            }
        }
        return new Report(rows.size(), mean);
    }

    /** Null when the two id collections hold the same ids (each once), else a short description. */
    private static String difference(java.util.Collection<String> left, java.util.Collection<String> right,
            String leftOnly, String rightOnly) {
        Set<String> l = new HashSet<>(left);
        Set<String> r = new HashSet<>(right);
        if (l.equals(r) && l.size() == left.size() && r.size() == right.size()) {
            return null;
        }
        List<String> lo = left.stream().filter(id -> !r.contains(id)).limit(5).toList();
        List<String> ro = right.stream().filter(id -> !l.contains(id)).limit(5).toList();
        long loN = left.stream().filter(id -> !r.contains(id)).count();
        long roN = right.stream().filter(id -> !l.contains(id)).count();
        StringBuilder sb = new StringBuilder();
        sb.append(loN).append(' ').append(leftOnly).append(lo.isEmpty() ? "" : " e.g. " + lo);
        sb.append(", ").append(roN).append(' ').append(rightOnly).append(ro.isEmpty() ? "" : " e.g. " + ro);
        if (l.size() != left.size() || r.size() != right.size()) {
            sb.append(", and repeated ids");
        }
        return sb.toString();
    }

    private static String name(Path p) {
        return p == null ? "<data>" : p.getFileName().toString();
    }
}
