package arenakit.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import arenakit.data.BalancedOrder;
import arenakit.data.Conversation;
import arenakit.data.Winner;
import arenakit.infer.InferenceConfig;
import arenakit.infer.MicroBatches;
import arenakit.infer.Predictions;
import arenakit.infer.Predictor;
import arenakit.model.SequenceClassifier;
import arenakit.model.tensor.Dropouts;
import arenakit.model.tensor.TorchScalar;
import arenakit.util.Fingerprint;
import arenakit.util.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Fine-tunes a {@link SequenceClassifier} for one stage.
 *
 * <p>An optimizer step takes {@code loader.batch_size} rows in the epoch's order (shuffled, or class-balanced),
 * adds their swapped copies as the swap mode says, sorts the step's sequences by length and runs them as
 * micro-batches under {@code loader.max_tokens}, on the devices of {@link TrainDevices} (one, a model split over
 * several, or a replica per device); the micro-batch gradients accumulate into the step (so with full swap the (A,B)
 * and (B,A) copies of a row land in the same update), are clipped, and AdamW applies them at the scheduled rate. A
 * float16 model trains with dynamic loss scaling ({@link LossScaler}): a step whose scaled gradients overflowed is
 * skipped and logged. Every step runs in its own {@code NDScope}; micro-batch k of step s draws its dropout masks
 * from a seed of (train.seed, s, k), so dropout and the data order depend only on the step number (not on the
 * devices, nor on activation checkpointing) and a resumed run continues exactly where the interrupted one stopped
 * (loss scale included).
 */
public final class Trainer {
    private final TrainDevices devices;
    private final SequenceClassifier model;
    private final TrainConfig config;
    private final Function<Conversation, int[]> encoder;
    private final Ordering ordering;
    private final Checkpoints.Exporter exporter;
    private final Consumer<String> log;
    private final Predictor evaluator;
    private Fingerprint inputs = Fingerprint.builder().build();

    /** The row order of one epoch (a permutation of 0..n-1). */
    @FunctionalInterface
    public interface Ordering {
        int[] order(List<Example> rows, int epoch, long seed);
    }

    /**
     * How the run went (the stage's metrics.json). {@code stopped} is true when it paused early
     * ({@code stopAfter}) with a checkpoint. {@code objective} says what the history's training loss is
     * ({@link #objective}); null in metrics written before it was recorded.
     */
    @com.fasterxml.jackson.databind.annotation.JsonNaming(
            com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Result(long steps, long totalSteps, long tokens, double seconds,
            @arenakit.util.StrictJson.Nullable Double valLogLoss, @arenakit.util.StrictJson.Nullable Double valAccuracy,
            @arenakit.util.StrictJson.Nullable Double priorLogLoss, List<TrainLog> history, boolean stopped,
            @arenakit.util.StrictJson.Default("null") String objective) {}

    /**
     * What a stage's training loss is, for labels and logs: "cross-entropy" on labeled rows, or, when distilling on
     * pseudo-labels, the mix of the two terms with their weights and temperature. The held-out log loss is always
     * cross-entropy against human labels, so only on labeled rows do the two read on the same scale.
     */
    public static String objective(TrainConfig config, boolean distilling) {
        DistillConfig d = config.distill();
        if (!distilling || d == null) {
            return "cross-entropy";
        }
        return String.format(Locale.ROOT, "distillation mix: %s x T^2 KL at T = %s + %s x cross-entropy on the "
                + "row's target (a pseudo-label's probabilities, or the human label)", trim(d.softWeight()),
                trim(d.temperature()), trim(1 - d.softWeight()));
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.3f", v).replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    /**
     * @param encoder conversation to token ids (the stage's prompt format and truncation)
     * @param ordering the row order of each epoch ({@link #shuffled} or {@link #balanced})
     * @param exporter writes the model's usable form into each checkpoint folder
     */
    public Trainer(SequenceClassifier model, TrainConfig config, Function<Conversation, int[]> encoder,
            Ordering ordering, Checkpoints.Exporter exporter, Consumer<String> log) {
        this(TrainDevices.single(model), config, encoder, ordering, exporter, log);
    }

    /**
     * A trainer over the devices of {@code devices} (one model, one split over devices, or replicas): the optimizer
     * updates, checkpoints and exports {@link TrainDevices#model()}.
     */
    public Trainer(TrainDevices devices, TrainConfig config, Function<Conversation, int[]> encoder,
            Ordering ordering, Checkpoints.Exporter exporter, Consumer<String> log) {
        this.devices = devices;
        this.model = devices.model();
        this.config = config;
        this.encoder = encoder;
        this.ordering = ordering;
        this.exporter = exporter;
        this.log = log;
        InferenceConfig inference = new InferenceConfig(config.train().evalTta(), List.of("cpu"),
                InferenceConfig.SINGLE, null, config.loader().maxTokens(), null, Integer.MAX_VALUE);
        this.evaluator = new Predictor(devices.evaluator(), inference, s -> {});
    }

    /**
     * What the run is made from besides its config and rows (which the trainer fingerprints itself): e.g. the
     * base model and the model it starts from. Checkpoints record it; a resume under other inputs is refused.
     */
    public Trainer withInputs(Fingerprint modelInputs) {
        this.inputs = modelInputs;
        return this;
    }

    /** A seeded shuffle, different every epoch. */
    public static int[] shuffled(List<Example> rows, int epoch, long seed) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            idx.add(i);
        }
        java.util.Collections.shuffle(idx, new Random(seed * 1_000_003L + epoch));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The data layer's class-balanced order (every prefix keeps the class shares), reshuffled within classes every
     * epoch; soft-labeled rows count as their most probable class.
     */
    public static int[] balanced(List<Example> rows, int epoch, long seed) {
        java.util.Map<Conversation, Integer> index = new java.util.IdentityHashMap<>();
        List<Conversation> labeled = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Conversation c = rows.get(i).row();
            Conversation l = new Conversation(c.id(), c.modelA(), c.modelB(), c.turns(),
                    Winner.ofIndex(rows.get(i).majorityClass()), c.line());
            index.put(l, i);
            labeled.add(l);
        }
        return BalancedOrder.of(labeled, seed * 1_000_003L + epoch).stream().mapToInt(index::get).toArray();
    }

    /**
     * Trains on {@code train}, evaluating on the labeled {@code holdout} (may be empty), checkpointing into
     * {@code stageDir}. Resumes from the newest checkpoint there if one exists. With {@code stopAfter > 0} it stops
     * (with a checkpoint) after that many steps of this call: a resumable pause.
     */
    public Result fit(List<Example> train, List<Conversation> holdout, Path stageDir, int stopAfter)
            throws IOException {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training rows");
        }
        // rows with teacher logits (pseudo-labels, or labeled rows with logits of outside teachers) are distilled,
        // the others train on plain cross-entropy
        boolean distilling = train.stream().anyMatch(e -> e.teacherLogits() != null);
        if (distilling && config.distill() == null) {
            throw new IllegalArgumentException("training rows carry teacher logits but the config has no distill "
                    + "section");
        }
        String objective = objective(config, distilling);
        Plan plan = new Plan(encode(train));
        long total = plan.totalSteps();
        LrSchedule schedule = new LrSchedule(config.optimizer().lr(), total, config.schedule());
        Checkpoints checkpoints = new Checkpoints(stageDir);
        HeldOut heldOut = holdout.isEmpty() ? null : heldOut(holdout);
        Fingerprint runInputs = runInputs(plan.rows, heldOut);
        // the bar to beat: predicting the fold's own class shares for every row (the same in every stage on the fold)
        Double prior = heldOut == null ? null
                : Metrics.priorLogLoss(Metrics.prior(heldOut.labels(), Winner.values().length), heldOut.labels());

        LossScaler scaler = LossScaler.of(config.optimizer(), model.dtype()).orElse(null);
        try (AdamW optimizer = new AdamW(model.trainable(), config.optimizer())) {
            long step = 0;
            long tokens = 0;
            double secondsBefore = 0;
            List<TrainLog> history = new ArrayList<>();
            double lossSum = 0;
            double normSum = 0;
            int lossCount = 0;
            int skipped = 0;
            Optional<Path> resume = checkpoints.latest();
            if (resume.isPresent()) {
                Checkpoints.State state = Checkpoints.state(resume.get());
                // before restoring: a changed LoRA or head would not even fit, other data would mix two runs
                refuseOtherInputs(resume.get(), state, runInputs, stageDir);
                Checkpoints.restore(resume.get(), model, optimizer);
                step = state.step();
                tokens = state.tokens();
                secondsBefore = state.seconds();
                history.addAll(state.history());
                lossSum = state.lossSum();
                normSum = state.gradNormSum();
                lossCount = state.sinceLine();
                skipped = state.skippedSinceLine();
                if (scaler != null && state.lossScaler() != null) {
                    scaler.restore(state.lossScaler());
                }
                log.accept("resuming from " + resume.get() + " at step " + step + " of " + total);
            }
            devices.broadcast(); // replicas start from the (restored) first one
            if (scaler != null) {
                log.accept(String.format(Locale.ROOT, "dynamic loss scaling (%s model): scale %s, x%s after %d "
                        + "finite steps in a row, x%s and the step skipped on a gradient overflow",
                        model.dtype().toString().toLowerCase(Locale.ROOT), LossScaler.format(scaler.scale()),
                        LossScaler.format(LossScaler.GROWTH_FACTOR), config.optimizer().lossScaleGrowthInterval(),
                        LossScaler.BACKOFF_FACTOR));
            }
            long start = System.nanoTime();
            double before = secondsBefore;
            java.util.function.DoubleSupplier elapsed = () -> before + (System.nanoTime() - start) / 1e9;
            long firstStep = step;
            Double valLoss = null;
            Double valAcc = null;
            try (Progress bar = Progress.start("train " + stageDir.getFileName(), total, "step")) {
                bar.stepBy(step);
                long savedAt = -1; // the step of the last checkpoint this call wrote
                while (step < total) {
                    if (stopAfter > 0 && step - firstStep >= stopAfter) {
                        if (savedAt != step) { // re-saving would delete the checkpoint latest.json names first
                            checkpoints.save(model, exporter, optimizer,
                                    new Checkpoints.State(step, tokens, elapsed.getAsDouble(), history, config,
                                            lossSum, normSum, lossCount, skipped,
                                            scaler == null ? null : scaler.state(), runInputs));
                        }
                        log.accept("paused at step " + step + " of " + total
                                + " with a checkpoint; run again to resume");
                        return new Result(step, total, tokens, elapsed.getAsDouble(), valLoss, valAcc, prior, history,
                                true, objective);
                    }
                    double lr = schedule.lr(step);
                    List<Sequence> seqs = plan.step(step);
                    Engine.getInstance().setRandomSeed((int) (config.train().seed() * 1_000_003L + step));
                    double[] lossAndNorm = step(seqs, lr, optimizer, scaler, step + 1);
                    for (Sequence s : seqs) {
                        tokens += s.ids().length;
                    }
                    step++;
                    lossSum += lossAndNorm[0];
                    if (Double.isFinite(lossAndNorm[1])) {
                        normSum += lossAndNorm[1];
                    } else {
                        skipped++;
                    }
                    lossCount++;
                    bar.message(String.format(Locale.ROOT, "loss %.4f lr %.1e", lossSum / lossCount, lr));
                    bar.step();
                    boolean last = step == total;
                    int every = config.train().evalEvery();
                    int logEvery = config.train().logEvery();
                    boolean evaluating = last || (every > 0 && step % every == 0);
                    if (evaluating || (logEvery > 0 && step % logEvery == 0)) {
                        Double lineLoss = null;
                        Double lineAcc = null;
                        if (evaluating && heldOut != null) {
                            double[] m = evaluate(heldOut);
                            valLoss = m[0];
                            valAcc = m[1];
                            lineLoss = valLoss;
                            lineAcc = valAcc;
                        }
                        TrainLog line = new TrainLog(step, plan.epochOf(step - 1), lr, lossSum / lossCount,
                                lossCount > skipped ? normSum / (lossCount - skipped) : null, lineLoss, lineAcc,
                                elapsed.getAsDouble(), scaler == null ? null : scaler.scale(), skipped);
                        history.add(line);
                        log.accept(describe(line, prior, objective));
                        lossSum = 0;
                        normSum = 0;
                        lossCount = 0;
                        skipped = 0;
                    }
                    int ckpt = config.train().checkpointEvery();
                    if (!last && ckpt > 0 && step % ckpt == 0) {
                        checkpoints.save(model, exporter, optimizer,
                                new Checkpoints.State(step, tokens, elapsed.getAsDouble(), history, config,
                                        lossSum, normSum, lossCount, skipped, scaler == null ? null : scaler.state(),
                                        runInputs));
                        savedAt = step;
                    }
                }
            }
            return new Result(step, total, tokens, elapsed.getAsDouble(), valLoss, valAcc, prior, history, false,
                    objective);
        }
    }

    /** The caller's inputs plus the config, the training rows as the model sees them and the held-out rows. */
    private Fingerprint runInputs(List<Encoded> rows, HeldOut heldOut) {
        Fingerprint.Hasher data = Fingerprint.hasher();
        for (Encoded r : rows) {
            data.ints(r.ids()).ints(r.swappedIds() == null ? new int[0] : r.swappedIds())
                    .floats(r.example().target()).floats(r.example().teacherLogits());
        }
        Fingerprint.Hasher held = Fingerprint.hasher();
        if (heldOut != null) {
            heldOut.sequences().forEach(held::ints);
            held.ints(heldOut.labels());
        }
        return inputs.with(Fingerprint.builder().json(CONFIG, config.fingerprintJson()).part(ROWS, data.hex())
                .part(HOLDOUT, held.hex()).build());
    }

    private static final String CONFIG = "config";
    private static final String ROWS = "rows";
    private static final String HOLDOUT = "holdout";

    private void refuseOtherInputs(Path checkpoint, Checkpoints.State state, Fingerprint now, Path stageDir) {
        List<String> changed = state.inputs().differences(now);
        if (changed.isEmpty()) {
            return;
        }
        List<String> what = new ArrayList<>();
        for (String part : changed) {
            what.add(switch (part) {
                case CONFIG -> "the stage config (" + String.join("; ", arenakit.util.Json.differences(
                        arenakit.util.Json.MAPPER.valueToTree(state.config()),
                        arenakit.util.Json.MAPPER.valueToTree(config))) + ")";
                case ROWS -> "the training rows as tokens (the data, the tokenizer, the prompt format or truncation)";
                case HOLDOUT -> "the held-out rows";
                default -> part;
            });
        }
        String head = changed.contains(CONFIG) ? checkpoint + " was written under a different config"
                + (changed.size() > 1 ? " and other inputs" : "") : checkpoint + " was made from other inputs";
        throw new IllegalStateException(head + ": " + String.join("; ", what) + " changed since. Resuming would mix "
                + "two runs: delete " + stageDir.resolve("checkpoints") + " to start the stage over, or restore "
                + "what changed");
    }

    /** Log loss and accuracy on labeled rows (with TTA when {@code train.eval_tta}). */
    public double[] evaluate(List<Conversation> holdout) {
        return evaluate(heldOut(holdout));
    }

    /** Labeled rows to evaluate on, tokenized once for all the evaluations of a run. */
    private record HeldOut(List<Conversation> rows, List<int[]> sequences, int[] labels) {}

    private HeldOut heldOut(List<Conversation> rows) {
        return new HeldOut(rows, evaluator.encode(rows, encoder, "evaluate"),
                rows.stream().mapToInt(c -> c.winner().ordinal()).toArray());
    }

    private double[] evaluate(HeldOut h) {
        Predictions p = evaluator.predict(h.rows(), h.sequences(), "evaluate");
        return new double[] {Metrics.logLoss(p.probs(), h.labels()), Metrics.accuracy(p.probs(), h.labels())};
    }

    private static String describe(TrainLog line, Double prior, String objective) {
        String loss = objective.startsWith("distillation") ? "train loss (distillation mix)" : "train loss";
        String s = String.format(Locale.ROOT, "step %d: %s %.4f, grad norm %s, lr %.2e", line.step(), loss,
                line.trainLoss(), line.gradNorm() == null ? "-" : String.format(Locale.ROOT, "%.3f", line.gradNorm()),
                line.lr());
        if (line.lossScale() != null) {
            s += ", loss scale " + LossScaler.format(line.lossScale());
            if (line.skippedSteps() > 0) {
                s += " (" + line.skippedSteps() + " steps skipped for gradient overflow)";
            }
        }
        if (line.valLogLoss() != null) {
            s += String.format(Locale.ROOT, ", val log loss %.4f (class prior %.4f), accuracy %.3f",
                    line.valLogLoss(), prior, line.valAccuracy());
        }
        return s;
    }

    /**
     * Optimizer step {@code number} (1-based), loss-scaled when {@code scaler} is not null; returns {mean loss,
     * gradient norm}, the norm not finite when the step was skipped for a gradient overflow.
     */
    private double[] step(List<Sequence> seqs, double lr, AdamW optimizer, LossScaler scaler, long number) {
        try (NDScope stepScope = new NDScope()) {
            double scale = scaler == null ? 1 : scaler.scale();
            double loss = accumulate(devices, seqs, config.loader().maxTokens(), config.distill(), (float) scale,
                    Dropouts.mix(config.train().seed(), number));
            if (!Double.isFinite(loss)) { // a forward overflow or divergence: no loss scale can help
                throw new IllegalStateException("training loss is " + loss + " at step " + number);
            }
            if (scaler == null) {
                double norm = optimizer.step(lr);
                devices.broadcast();
                return new double[] {loss, norm};
            }
            double norm = optimizer.scaledStep(lr, scale);
            devices.broadcast();
            boolean finite = Double.isFinite(norm);
            if (!finite && scale <= 1) { // the gradients overflow unscaled: skipping would go on for ever
                throw new IllegalStateException("gradient norm is " + norm + " at step " + number + " even at loss "
                        + "scale " + LossScaler.format(scale) + ": the training diverged (lower optimizer.lr, or use "
                        + "float32)");
            }
            scaler.update(finite);
            if (!finite) {
                log.accept("step " + number + ": gradient overflow at loss scale " + LossScaler.format(scale)
                        + ", step skipped, scale -> " + LossScaler.format(scaler.scale()));
            }
            return new double[] {loss, norm};
        }
    }

    /** One training sequence of a step: token ids, target distribution, teacher logits (or null). */
    public record Sequence(int[] ids, float[] target, float[] teacher) {}

    /**
     * Forward and backward over one optimizer step's sequences on one model (grad mode on, e.g. inside
     * {@code collector}), packed into micro-batches under {@code maxTokens}: see
     * {@link #accumulate(TrainDevices, List, int, DistillConfig, float, long)}.
     */
    public static double accumulate(SequenceClassifier model, GradientCollector collector, List<Sequence> seqs,
            int maxTokens, DistillConfig distill, float lossScale) {
        try (TrainDevices one = TrainDevices.single(model)) {
            return accumulate(one, seqs, maxTokens, distill, lossScale, 0);
        }
    }

    /**
     * Forward and backward over one optimizer step's sequences, packed into micro-batches under
     * {@code maxTokens} and run on {@code devices}: each micro-batch's summed loss is divided by the step's sequence
     * count, so the gradients that accumulate in the parameters are those of the step's mean loss whatever the
     * packing or the devices (times {@code lossScale}: 1 = unscaled). Micro-batch k draws its dropout masks from
     * {@code mix(seed, k)}. Returns that mean loss, unscaled.
     */
    public static double accumulate(TrainDevices devices, List<Sequence> seqs, int maxTokens, DistillConfig distill,
            float lossScale, long seed) {
        List<int[]> ids = seqs.stream().map(Sequence::ids).toList();
        List<SequenceClassifier.TrainBatch> work = new ArrayList<>();
        List<int[]> micros = MicroBatches.pack(ids, maxTokens);
        for (int m = 0; m < micros.size(); m++) {
            int[] micro = micros.get(m);
            List<int[]> batch = new ArrayList<>(micro.length);
            float[] targets = new float[micro.length * 3];
            float[] teacher = new float[micro.length * 3];
            boolean[] distilled = new boolean[micro.length];
            boolean anyTeacher = false;
            for (int k = 0; k < micro.length; k++) {
                Sequence s = seqs.get(micro[k]);
                batch.add(s.ids());
                System.arraycopy(s.target(), 0, targets, k * 3, 3);
                if (s.teacher() != null) {
                    System.arraycopy(s.teacher(), 0, teacher, k * 3, 3);
                    distilled[k] = true;
                    anyTeacher = true;
                }
            }
            boolean withTeacher = anyTeacher;
            int count = seqs.size();
            work.add(new SequenceClassifier.TrainBatch(batch, logits -> {
                NDManager scope = logits.getManager();
                Shape shape = new Shape(micro.length, 3);
                NDArray t = scope.create(targets, shape).toDevice(logits.getDevice(), false);
                NDArray teacherLogits = !withTeacher ? null
                        : scope.create(teacher, shape).toDevice(logits.getDevice(), false);
                NDArray perRow = distill == null ? Losses.crossEntropy(logits, t)
                        : Losses.objective(logits, t, teacherLogits, distill, distilled);
                return stepMean(perRow.sum(), count);
            }, lossScale, Dropouts.mix(seed, m)));
        }
        return devices.backward(work);
    }

    /** A micro-batch's summed loss as its share of the mean over the step's {@code sequences}. */
    static NDArray stepMean(NDArray sum, int sequences) {
        return sum.div(TorchScalar.of(sum, sequences));
    }

    private List<Encoded> encode(List<Example> rows) {
        boolean swap = !config.data().swap().equals("none");
        List<Encoded> out = new ArrayList<>(rows.size());
        try (Progress p = Progress.start("tokenize", rows.size(), "row")) {
            for (Example e : rows) {
                Example s = swap ? e.swapped() : null;
                out.add(new Encoded(e, encoder.apply(e.row()), s == null ? null : encoder.apply(s.row())));
                p.step();
            }
        }
        return out;
    }

    private record Encoded(Example example, int[] ids, int[] swappedIds) {}

    /** Which sequences each global step trains on; a pure function of (rows, config, step). */
    private final class Plan {
        private final List<Encoded> rows;
        private final int stepsPerEpoch;
        private int cachedEpoch = -1;
        private int[] cachedOrder;
        private boolean[] cachedSwaps;

        Plan(List<Encoded> rows) {
            this.rows = rows;
            this.stepsPerEpoch = (rows.size() + config.loader().batchSize() - 1) / config.loader().batchSize();
        }

        long totalSteps() {
            long all = (long) stepsPerEpoch * config.train().epochs();
            return config.train().maxSteps() > 0 ? Math.min(all, config.train().maxSteps()) : all;
        }

        int epochOf(long step) {
            return (int) (step / stepsPerEpoch);
        }

        List<Sequence> step(long step) {
            int epoch = epochOf(step);
            if (epoch != cachedEpoch) {
                long seed = config.train().seed();
                cachedOrder = ordering.order(rows.stream().map(Encoded::example).toList(), epoch, seed);
                Random coin = new Random(seed * 7_919L + epoch);
                cachedSwaps = new boolean[rows.size()];
                for (int i = 0; i < cachedSwaps.length; i++) {
                    cachedSwaps[i] = coin.nextBoolean();
                }
                cachedEpoch = epoch;
            }
            int from = (int) (step % stepsPerEpoch) * config.loader().batchSize();
            int to = Math.min(rows.size(), from + config.loader().batchSize());
            List<Sequence> out = new ArrayList<>();
            String swap = config.data().swap();
            for (int k = from; k < to; k++) {
                Encoded r = rows.get(cachedOrder[k]);
                Example e = r.example();
                boolean swapped = swap.equals("random") && cachedSwaps[cachedOrder[k]];
                if (!swapped) {
                    out.add(new Sequence(r.ids(), e.target(), e.teacherLogits()));
                }
                if (swapped || swap.equals("full")) {
                    Example s = e.swapped();
                    out.add(new Sequence(r.swappedIds(), s.target(), s.teacherLogits()));
                }
            }
            return out;
        }
    }
}
