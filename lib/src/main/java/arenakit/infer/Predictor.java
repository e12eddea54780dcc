package arenakit.infer;

import arenakit.data.Conversation;
import arenakit.util.Progress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Class probabilities for conversations: encodes each row (and, with TTA, its swapped copy), packs the sequences
 * into length-sorted micro-batches under a token budget, hands them to a {@link BatchRunner}, and folds the
 * swapped predictions back (P(A) of the swapped row is P(B) of the original).
 *
 * <p>After the first few batches it logs the measured tokens/s and the time projected for the whole input, which
 * is the number to look at before committing a 9-hour Kaggle run.
 */
public final class Predictor {
    /** A Kaggle code competition's run-time limit for the whole hidden test set. */
    private static final double KAGGLE_LIMIT_SECONDS = 9 * 3600;
    private final BatchRunner runner;
    private final InferenceConfig config;
    private final Consumer<String> log;

    public Predictor(BatchRunner runner, InferenceConfig config, Consumer<String> log) {
        this.runner = runner;
        this.config = config;
        this.log = log;
    }

    /** Probabilities of {@code rows}, encoded with {@code encoder}; {@code task} names the progress bars. */
    public Predictions predict(List<Conversation> rows, Function<Conversation, int[]> encoder, String task) {
        return predict(rows, encode(rows, encoder, task), task);
    }

    /**
     * The sequences {@link #predict(List, List, String)} runs for {@code rows}: each row's token ids and, with TTA,
     * its swapped copy's. Rows predicted more than once (a held-out fold at every evaluation) are encoded once.
     */
    public List<int[]> encode(List<Conversation> rows, Function<Conversation, int[]> encoder, String task) {
        List<int[]> sequences = new ArrayList<>();
        try (Progress p = Progress.start(task + ": tokenize", rows.size(), "row")) {
            for (Conversation row : rows) {
                sequences.add(encoder.apply(row));
                if (config.tta()) {
                    sequences.add(encoder.apply(row.swapped()));
                }
                p.step();
            }
        }
        return sequences;
    }

    /** Probabilities of {@code rows} from their {@link #encode}d sequences. */
    public Predictions predict(List<Conversation> rows, List<int[]> sequences, String task) {
        int copies = config.tta() ? 2 : 1;
        if (sequences.size() != rows.size() * copies) {
            throw new IllegalArgumentException(sequences.size() + " sequences for " + rows.size() + " rows"
                    + (config.tta() ? " with TTA" : "") + ": encode them with this predictor");
        }
        float[][] logits = logits(sequences, task);
        double[][] probs = new double[rows.size()][];
        double[][] logs = new double[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            double[] p = config.tta() ? fold(logits[i * copies], logits[i * copies + 1]) : softmax(logits[i * copies]);
            probs[i] = p;
            logs[i] = logs(p);
        }
        return new Predictions(rows.stream().map(Conversation::id).toList(), probs, logs);
    }

    /** Logits of each sequence, in input order. */
    public float[][] logits(List<int[]> sequences, String task) {
        List<int[]> packed = MicroBatches.pack(sequences, config.maxTokens());
        List<List<int[]>> batches = new ArrayList<>(packed.size());
        long totalTokens = 0;
        for (int[] idx : packed) {
            List<int[]> batch = new ArrayList<>(idx.length);
            for (int i : idx) {
                batch.add(sequences.get(i));
                totalTokens += sequences.get(i).length;
            }
            batches.add(batch);
        }
        float[][] out = new float[sequences.size()][];
        try (Progress progress = Progress.start(task, totalTokens, "token");
                Throughput meter = new Throughput(totalTokens, batches.size())) {
            List<float[][]> results = runner.run(batches, (b, tokens) -> {
                synchronized (progress) {
                    progress.stepBy(tokens);
                    meter.add(tokens);
                }
            });
            for (int b = 0; b < packed.size(); b++) {
                int[] idx = packed.get(b);
                for (int k = 0; k < idx.length; k++) {
                    out[idx[k]] = results.get(b)[k];
                }
            }
        }
        return out;
    }

    /** Softmax of logits. */
    public static double[] softmax(float[] z) {
        double[] d = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            d[i] = z[i];
        }
        return softmax(d);
    }

    /** Softmax of logits. */
    public static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < z.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Swap TTA: the average of f(A,B) and the swapped-back f(B,A), from their logits. */
    public static double[] fold(float[] ab, float[] ba) {
        double[] p = softmax(ab);
        double[] swapped = softmax(ba);
        return new double[] {(p[0] + swapped[1]) / 2, (p[1] + swapped[0]) / 2, (p[2] + swapped[2]) / 2};
    }

    /** Probabilities of the swapped row as the original row's: P(A) and P(B) exchanged. */
    public static double[] swapBack(double[] p) {
        return new double[] {p[1], p[0], p[2]};
    }

    /** The logs of probabilities (floored at 1e-30), whose softmax gives them back. */
    public static double[] logs(double[] p) {
        double[] out = new double[p.length];
        for (int c = 0; c < p.length; c++) {
            out[c] = Math.log(Math.max(p[c], 1e-30));
        }
        return out;
    }

    /** Measures tokens/s and logs one projection once enough batches are done. */
    private final class Throughput implements AutoCloseable {
        private final long totalTokens;
        private final int totalBatches;
        private final long start = System.nanoTime();
        private long tokens;
        private int batches;

        Throughput(long totalTokens, int totalBatches) {
            this.totalTokens = totalTokens;
            this.totalBatches = totalBatches;
        }

        void add(long n) {
            tokens += n;
            batches++;
            if (batches == config.estimateAfterBatches() && batches < totalBatches) {
                double rate = tokens / seconds();
                double projected = totalTokens / rate;
                log.accept(String.format(Locale.ROOT,
                        "estimate after %d of %d batches (%s): %,.0f tokens/s -> %s for all %,d tokens%s",
                        batches, totalBatches, runner.describe(), rate, duration(projected), totalTokens,
                        projected > KAGGLE_LIMIT_SECONDS ? " (over Kaggle's 9-hour limit: drop TTA, lower max_length, "
                                + "or split the layers over both GPUs)" : ""));
            }
        }

        double seconds() {
            return Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        }

        @Override
        public void close() {
            if (batches == totalBatches && tokens > 0) {
                log.accept(String.format(Locale.ROOT, "%,d tokens in %s (%,.0f tokens/s, %s)", tokens,
                        duration(seconds()), tokens / seconds(), runner.describe()));
            }
        }
    }

    /** "4.2 s", "42 s", "12.5 min" or "3.2 h". */
    public static String duration(double seconds) {
        if (Math.abs(seconds) < 10) {
            return String.format(Locale.ROOT, "%.1f s", seconds);
        }
        if (seconds < 120) {
            return String.format(Locale.ROOT, "%.0f s", seconds);
        }
        if (seconds < 7200) {
            return String.format(Locale.ROOT, "%.1f min", seconds / 60);
        }
        return String.format(Locale.ROOT, "%.2f h", seconds / 3600);
    }
}
