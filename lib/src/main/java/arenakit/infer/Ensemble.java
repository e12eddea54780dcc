package arenakit.infer;

import arenakit.data.Conversation;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Predicts rows with a weighted ensemble of models of any backbone: each model encodes the rows with its own
 * tokenizer, format and max length, runs on the configured devices, and is freed before the next one loads (two
 * 9B models do not fit on 2x T4 together). Models run in order of weight, highest first (ties in the configured
 * order), so when time runs short the predictions that count most are already there. Per row, the predictions of
 * the models that made one are averaged with their weights: probabilities, or logits ({@link Average}).
 *
 * <p>Optional, each a wither: resumable chunks ({@link #withChunks}: {@link PredictionChunks}), a time budget
 * ({@link #withBudget}: {@link TimeBudget}; degrade order in {@link Degrade}), and the estimate printed before
 * loading ({@link #withEstimate}). An ensemble holds no model between calls; {@link #predict} loads and frees them.
 *
 * <p>This is the API for "predict these rows with this stage's models and settings"; {@code Pipeline.ensemble(stage)}
 * builds one from a pseudo-label or submission stage of a setup.
 */
public final class Ensemble {

    /** How the models' predictions of a row are combined. */
    public enum Average {
        /** The weighted mean of the probabilities (each model's swap TTA averaged first). */
        PROBABILITIES,
        /** The softmax of the weighted mean of the logits: a weighted geometric mean of the probabilities. */
        LOGITS;

        /** "probabilities" (also null) or "logits". */
        public static Average of(String name) {
            if (name == null || name.equalsIgnoreCase("probabilities")) {
                return PROBABILITIES;
            }
            if (name.equalsIgnoreCase("logits")) {
                return LOGITS;
            }
            throw new IllegalArgumentException("average must be probabilities or logits, got '" + name + "'");
        }

        /**
         * One row's combined probabilities from each model's ({@code probs[j]}, null where model j has none) with
         * weights {@code weights[j]}, the weights renormalised over the models that have one; null when none has.
         * LOGITS averages the log-probabilities: a model's logits and its log-probabilities differ by a constant,
         * which the softmax cancels.
         */
        public double[] combine(double[][] probs, double[] weights) {
            double w = 0;
            double[] acc = new double[3];
            for (int j = 0; j < probs.length; j++) {
                if (probs[j] == null) {
                    continue;
                }
                double[] v = this == LOGITS ? Predictor.logs(probs[j]) : probs[j];
                for (int k = 0; k < 3; k++) {
                    acc[k] += weights[j] * v[k];
                }
                w += weights[j];
            }
            if (w == 0) {
                return null;
            }
            for (int k = 0; k < 3; k++) {
                acc[k] /= w;
            }
            return this == LOGITS ? Predictor.softmax(acc) : acc;
        }
    }

    /** One model of the ensemble, loaded only when {@link #open} is called. */
    public interface Member {
        /** For logs and chunk folders: the stage name or folder. */
        String name();

        /** Its share of the average (> 0). */
        double weight();

        /** Its configured input budget in tokens. */
        int maxLength();

        /**
         * What determines its predictions besides the row, TTA and the max length: model files, training config
         * (head, adapter shape), tokenizer, format and truncation, dtype. Chunks with another fingerprint are not
         * reused. {@code inference} names the devices (the dtype of {@code "auto"} follows them).
         */
        String fingerprint(InferenceConfig inference) throws IOException;

        /** Its own encoder (tokenizer, format, truncation) at an input budget of {@code maxLength} tokens. */
        Function<Conversation, int[]> encoder(int maxLength) throws IOException;

        /** Its size for the cost model's prior and the load-time estimate (from config.json, nothing loaded). */
        DeviceTable.Shape shape(InferenceConfig inference) throws IOException;

        /** The memory plan on these devices, printed before loading (empty when there is nothing to say). */
        default String memoryPlan(InferenceConfig inference) throws IOException {
            return "";
        }

        /** Loads it on the devices {@code inference} names; closing the runner frees the weights. */
        BatchRunner open(InferenceConfig inference) throws IOException;
    }

    private final List<Member> members;
    private final InferenceConfig inference;
    private final Average average;
    private final Consumer<String> log;
    private final Path chunkRoot;
    private final int chunkRows;
    private final TimeBudget budget;
    private final boolean estimate;

    public Ensemble(List<Member> members, InferenceConfig inference, Average average, Consumer<String> log) {
        this(members, inference, average, log, null, Integer.MAX_VALUE, null, false);
    }

    private Ensemble(List<Member> members, InferenceConfig inference, Average average, Consumer<String> log,
            Path chunkRoot, int chunkRows, TimeBudget budget, boolean estimate) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("an ensemble needs at least one model");
        }
        this.members = List.copyOf(members);
        this.inference = inference;
        this.average = average;
        this.log = log;
        this.chunkRoot = chunkRoot;
        this.chunkRows = chunkRows;
        this.budget = budget;
        this.estimate = estimate;
    }

    /** Checkpoints each model's predictions under {@code root}, {@code rows} rows per chunk file. */
    public Ensemble withChunks(Path root, int rows) {
        if (rows <= 0) {
            throw new IllegalArgumentException("chunk_rows must be > 0, got " + rows);
        }
        return new Ensemble(members, inference, average, log, root, rows, budget, estimate);
    }

    /** Predicts within {@code budget} (null = no budget). */
    public Ensemble withBudget(TimeBudget budget) {
        return new Ensemble(members, inference, average, log, chunkRoot, chunkRows, budget, estimate);
    }

    /** Prints the memory plan and a time estimate (cost model on the device table) before the first model loads. */
    public Ensemble withEstimate(boolean on) {
        return new Ensemble(members, inference, average, log, chunkRoot, chunkRows, budget, on);
    }

    /** Other devices, TTA or micro-batch budget (e.g. one GPU of a cluster node). */
    public Ensemble withInference(InferenceConfig other) {
        return new Ensemble(members, other, average, log, chunkRoot, chunkRows, budget, estimate);
    }

    public List<Member> members() {
        return members;
    }

    public InferenceConfig inference() {
        return inference;
    }

    public Average average() {
        return average;
    }

    /**
     * Predicts {@code rows}: every model in turn (loaded, run, freed), reusing checkpointed rows, within the budget.
     * {@code task} names the progress bars.
     */
    public Result predict(List<Conversation> rows, String task) throws IOException {
        LongSupplier clock = budget != null ? budget.clock() : System::nanoTime;
        return new EnsembleRun(this, rows, task, clock).run();
    }

    /**
     * Prints each model's memory plan and the time the rows would take on the configured devices (the cost model's
     * device-table prior on the rows' measured token counts, chunks already made counted as done), loading no
     * weights; returns the estimated seconds.
     */
    public double plan(List<Conversation> rows, String task) throws IOException {
        return new EnsembleRun(this, rows, task, System::nanoTime).plan();
    }

    // accessors for the run
    Consumer<String> log() {
        return log;
    }

    Path chunkRoot() {
        return chunkRoot;
    }

    int chunkRows() {
        return chunkRows;
    }

    TimeBudget budget() {
        return budget;
    }

    boolean estimate() {
        return estimate;
    }

    /**
     * The rows' combined predictions. A row that no model predicted (the time budget's hard limit came first) has
     * none: {@link #probs} and {@link #logits} are null there, and the caller decides (the class prior for a
     * submission; left out of pseudo-labels).
     */
    public static final class Result {
        private final List<Conversation> rows;
        private final double[][] probs;
        private final double[][] logits;
        private final Report report;

        Result(List<Conversation> rows, double[][] probs, double[][] logits, Report report) {
            this.rows = rows;
            this.probs = probs;
            this.logits = logits;
            this.report = report;
        }

        public int size() {
            return rows.size();
        }

        /** P(A), P(B), P(tie) of row {@code i}, or null. */
        public double[] probs(int i) {
            return probs[i];
        }

        /** Their logs (a softmax gives the probabilities back), or null. */
        public double[] logits(int i) {
            return logits[i];
        }

        /** The rows with a prediction, in input order. */
        public Predictions predictions() {
            List<String> ids = new ArrayList<>();
            List<double[]> p = new ArrayList<>();
            List<double[]> z = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                if (probs[i] != null) {
                    ids.add(rows.get(i).id());
                    p.add(probs[i]);
                    z.add(logits[i]);
                }
            }
            return new Predictions(ids, p.toArray(double[][]::new), z.toArray(double[][]::new));
        }

        public Report report() {
            return report;
        }
    }

    /**
     * What a prediction run did (written as the stage's {@code inference.json}).
     *
     * @param budget the time budget ("8h30m"), null for none
     * @param seconds the run's wall time, loading included
     * @param decisions every degrade decision, with its numbers, in order
     * @param full rows predicted by every model of the ensemble
     * @param partial rows predicted by some of them (a model dropped, or stopped by the hard limit)
     * @param none rows no model predicted
     * @param degraded rows with at least one prediction made without swap TTA or at a shorter max_length than
     *     configured
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Report(String budget, double seconds, String average, List<String> decisions,
            List<ModelReport> models, int rows, int full, int partial, int none, int degraded, boolean hardLimit) {

        /** One line for logs: "300 rows: 300 by every model" or with the partial / none counts. */
        public String summary() {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%,d rows: %,d by every model", rows, full));
            if (partial > 0) {
                b.append(String.format(Locale.ROOT, ", %,d by some of them", partial));
            }
            if (none > 0) {
                b.append(String.format(Locale.ROOT, ", %,d by none", none));
            }
            if (degraded > 0) {
                b.append(String.format(Locale.ROOT, ", %,d degraded (no TTA or shorter max_length)", degraded));
            }
            return b.toString();
        }
    }

    /**
     * One model's share of a run.
     *
     * @param status "done", "dropped" (by the time budget), "stopped" (at the hard limit) or "not run"
     * @param cost the fitted cost model, for the record
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ModelReport(String model, double weight, String fingerprint, int maxLength, int reused,
            int predicted, int withoutTta, int shortened, int notPredicted, String status, double loadSeconds,
            double predictSeconds, String cost) {}
}
