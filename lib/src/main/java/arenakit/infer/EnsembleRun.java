package arenakit.infer;

import arenakit.data.Conversation;
import arenakit.util.Progress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * One {@link Ensemble#predict} call: the models one after another, each over the rows chunk by chunk, within the
 * time budget.
 *
 * <p><b>Projection.</b> After every batch the finish is projected: the elapsed time, plus for the model running the
 * batches still to do (its {@link CostModel} fitted to its measured batches), plus for each model still to run its
 * loading and its rows (the {@link DeviceTable} prior scaled by what the models measured so far). Rows' token counts
 * come from a pass over the rows before the first model loads (every row up to {@link #EXACT_ROWS} rows, a sample
 * beyond); the first batch after a load is CUDA's warm-up and is not fitted.
 *
 * <p><b>Degrade order.</b> When the projection passes the hard limit ({@link TimeBudget#hardLimit}), for the rows
 * still to do, one step after another until it fits: (1) swap TTA off; (2) drop the lowest-weight model still to
 * run (never the first, highest-weight one), then the next lowest; (3) a shorter max_length for every model: the
 * largest fraction of its configured max_length (steps of 5%; down to {@link #MIN_LENGTH} tokens, or a quarter of
 * a shorter max_length, at least 64) whose
 * projection is within 97% of the limit. Each decision is logged with its numbers. Later batches can take a step
 * further (a shorter max_length again) when the projection passes the limit once more. At the hard limit itself no
 * batch starts that would end after it; the rows left get what the other models predicted for them, else nothing
 * (the caller's fallback).
 */
final class EnsembleRun {
    static final int EXACT_ROWS = 100_000;
    static final int SAMPLE_ROWS = 20_000;
    static final int MIN_LENGTH = 256;
    static final double LENGTH_STEP = 0.05;
    static final double TARGET = 0.97;

    private enum State { PENDING, RUNNING, DONE, DROPPED, STOPPED }

    private final Ensemble ensemble;
    private final List<Conversation> rows;
    private final String task;
    private final LongSupplier clock;
    private final long start;
    private final Consumer<String> log;
    private final InferenceConfig inference;
    private final TimeBudget budget;
    private final String[] keys;
    private final List<Job> jobs = new ArrayList<>();
    private final List<String> decisions = new ArrayList<>();
    // the plan for the rows still to do
    private boolean tta;
    private double lengthFactor = 1;
    private boolean hardStopped;
    private double loadSecondsPerByte = -1;

    EnsembleRun(Ensemble ensemble, List<Conversation> rows, String task, LongSupplier clock) {
        this.ensemble = ensemble;
        this.rows = List.copyOf(rows);
        this.task = task;
        this.clock = clock;
        this.start = clock.getAsLong();
        this.log = ensemble.log();
        this.inference = ensemble.inference();
        this.budget = ensemble.budget();
        this.tta = inference.tta();
        this.keys = new String[rows.size()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = Fingerprint.row(rows.get(i));
        }
    }

    /** One model's state in this run. */
    private final class Job {
        final Ensemble.Member member;
        final int maxLength;
        final String fingerprint;
        final DeviceTable.Shape shape;
        final PredictionChunks chunks;
        final PredictionChunks.Row[] results = new PredictionChunks.Row[rows.size()];
        final BitSet remaining = new BitSet();
        final int[] lengths = new int[rows.size()]; // tokens at the configured max_length, -1 = not counted
        State state = State.PENDING;
        CostModel cost;
        int reused;
        int predicted;
        int withoutTta;
        int shortened;
        double loadSeconds;
        double predictSeconds;
        // the batches in flight
        List<CostModel.Work> runWork;
        boolean runTta;
        int runCap;
        boolean restart; // a degrade decision asks the run to stop and re-plan its rows
        boolean[] runDone;
        BitSet runRows;
        BitSet runRowsDone;
        int batchesSinceLoad;
        boolean estimated;
        long lastEvent;

        Job(Ensemble.Member member) throws IOException {
            this.member = member;
            this.maxLength = member.maxLength() / 16 * 16;
            this.fingerprint = member.fingerprint(inference);
            this.shape = member.shape(inference);
            this.chunks = ensemble.chunkRoot() == null ? null
                    : PredictionChunks.open(ensemble.chunkRoot(), member.name(), fingerprint, log);
            java.util.Arrays.fill(lengths, -1);
            for (int i = 0; i < results.length; i++) {
                PredictionChunks.Row r = chunks == null ? null : chunks.get(keys[i]);
                if (r != null && r.tta() == inference.tta() && r.maxLength() == maxLength) {
                    results[i] = r;
                    reused++;
                } else {
                    remaining.set(i);
                }
            }
        }

        String name() {
            return member.name();
        }

        int cap() {
            return capAt(lengthFactor);
        }

        /** The max_length at a fraction of the configured one, never below {@link #floor}. */
        int capAt(double factor) {
            if (factor >= 1) {
                return maxLength;
            }
            return Math.max(floor(), (int) (factor * maxLength) / 16 * 16);
        }

        /** The shortest max_length the budget may ask for: 256 tokens, or a quarter of a shorter one (>= 64). */
        int floor() {
            return Math.min(maxLength, Math.min(MIN_LENGTH, Math.max(64, maxLength / 4 / 16 * 16)));
        }

        boolean active() {
            return state == State.PENDING || state == State.RUNNING;
        }

        /** The model's cost: fitted once it ran batches, else the prior scaled by the models measured so far. */
        CostModel costModel() {
            if (cost == null) {
                cost = DeviceTable.prior(shape, inference, calibration());
            }
            return cost;
        }

        /** Seconds still to spend on this model under a plan (loading included when it has not loaded yet). */
        double seconds(boolean withTta, double factor) {
            if (!active() || remaining.isEmpty()) {
                return 0;
            }
            CostModel.Work work = CostModel.Work.NONE;
            BitSet todo = (BitSet) remaining.clone();
            if (runWork != null) {
                boolean samePlan = withTta == runTta && capAt(factor) == runCap;
                todo.andNot(runRowsDone);
                if (samePlan) {
                    todo.andNot(runRows);
                    for (int b = 0; b < runWork.size(); b++) {
                        if (!runDone[b]) {
                            work = work.plus(runWork.get(b));
                        }
                    }
                }
            }
            work = work.plus(work(todo, withTta ? 2 : 1, capAt(factor)));
            double load = state == State.PENDING ? loadEstimate() : 0;
            return load + costModel().seconds(work);
        }

        /** Work of these rows: counted lengths, and the mean of the counted ones for the others. */
        CostModel.Work work(BitSet todo, int copies, int cap) {
            double t = 0;
            double s = 0;
            int unknown = 0;
            for (int r = todo.nextSetBit(0); r >= 0; r = todo.nextSetBit(r + 1)) {
                int len = lengths[r];
                if (len < 0) {
                    unknown++;
                } else {
                    int l = Math.min(len, cap);
                    t += l;
                    s += (double) l * l;
                }
            }
            if (unknown > 0) {
                double kt = 0;
                double ks = 0;
                int known = 0;
                for (int len : lengths) {
                    if (len >= 0) {
                        int l = Math.min(len, cap);
                        kt += l;
                        ks += (double) l * l;
                        known++;
                    }
                }
                if (known == 0) { // nothing counted yet: every row at the cap, an upper bound
                    kt = cap;
                    ks = (double) cap * cap;
                    known = 1;
                }
                t += kt / known * unknown;
                s += ks / known * unknown;
            }
            return new CostModel.Work(t * copies, s * copies);
        }

        double loadEstimate() {
            return loadSecondsPerByte >= 0 ? loadSecondsPerByte * shape.weightBytes()
                    : DeviceTable.loadSeconds(shape.weightBytes());
        }
    }

    /** The models in run order: highest weight first, ties in the configured order (a stable sort). */
    private List<Job> start() throws IOException {
        for (Ensemble.Member m : ensemble.members()) {
            jobs.add(new Job(m));
        }
        List<Job> order = new ArrayList<>(jobs);
        order.sort(Comparator.comparingDouble((Job j) -> -j.member.weight()));
        for (Job j : jobs) {
            if (j.reused > 0) {
                log.accept(String.format(Locale.ROOT, "%s: %,d of %,d rows reused from earlier chunks", j.name(),
                        j.reused, rows.size()));
            }
        }
        return order;
    }

    /** Prints the memory plans and the time estimate, loading nothing; returns the estimated seconds. */
    double plan() throws IOException {
        List<Job> order = start();
        countTokens(order);
        return printEstimate(order);
    }

    Ensemble.Result run() throws IOException {
        List<Job> order = start();
        if (budget != null || ensemble.estimate()) {
            countTokens(order);
        }
        if (ensemble.estimate()) {
            printEstimate(order);
        }
        for (Job job : order) {
            if (hardStopped) {
                break;
            }
            if (!job.active()) {
                continue;
            }
            if (job.remaining.isEmpty()) {
                job.state = State.DONE;
                writeAllChunks(job);
                continue;
            }
            synchronized (this) {
                if (budget != null && haveEstimate(job)) {
                    degradeIfLate(job);
                }
            }
            if (!job.active()) {
                continue;
            }
            if (budget != null && budget.elapsed() + job.loadEstimate() >= budget.hardLimit()) {
                stopAtLimit(job, "before loading it (about " + Predictor.duration(job.loadEstimate()) + ")");
                break;
            }
            predict(job);
        }
        for (Job j : jobs) {
            if (j.state == State.PENDING) {
                j.state = hardStopped ? State.STOPPED : State.DONE;
            }
        }
        if (ensemble.chunkRoot() != null) {
            PredictionChunks.prune(ensemble.chunkRoot(), jobs.stream().map(j -> j.chunks).toList());
        }
        return combine();
    }

    // ------------------------------------------------------------------ one model

    private void predict(Job job) throws IOException {
        long t0 = clock.getAsLong();
        job.state = State.RUNNING;
        try (BatchRunner runner = job.member.open(inference)) {
            long t1 = clock.getAsLong();
            job.loadSeconds = (t1 - t0) / 1e9;
            if (job.shape.weightBytes() > 0) {
                loadSecondsPerByte = job.loadSeconds / job.shape.weightBytes();
            }
            job.lastEvent = t1;
            int chunkRows = Math.min(ensemble.chunkRows(), Math.max(1, rows.size()));
            for (int from = 0; from < rows.size(); from += chunkRows) {
                int to = Math.min(rows.size(), from + chunkRows);
                List<Integer> pending = new ArrayList<>();
                for (int r = job.remaining.nextSetBit(from); r >= 0 && r < to; r = job.remaining.nextSetBit(r + 1)) {
                    pending.add(r);
                }
                boolean fresh = false;
                if (!pending.isEmpty() && job.state == State.RUNNING && !hardStopped) {
                    fresh = predictRows(job, runner, pending);
                }
                writeChunk(job, from, to, fresh);
                if (hardStopped || job.state != State.RUNNING) {
                    break;
                }
            }
            job.predictSeconds = (clock.getAsLong() - t1) / 1e9;
        }
        if (job.state == State.RUNNING) {
            job.state = State.DONE;
            if (job.chunks != null) {
                job.chunks.dropOthers();
            }
        }
        log.accept(String.format(Locale.ROOT, "%s: %,d rows predicted in %s (loading %s); %s", job.name(),
                job.predicted, Predictor.duration(job.predictSeconds), Predictor.duration(job.loadSeconds),
                job.costModel().describe()));
    }

    /** Predicts these rows of one chunk (re-planning them after a degrade decision); true when any was predicted. */
    private boolean predictRows(Job job, BatchRunner runner, List<Integer> pending) throws IOException {
        boolean any = false;
        while (!pending.isEmpty()) {
            boolean withTta;
            int cap;
            synchronized (this) {
                withTta = tta;
                cap = job.cap();
            }
            Function<Conversation, int[]> encoder = job.member.encoder(cap);
            List<int[]> sequences = new ArrayList<>();
            List<Integer> owner = new ArrayList<>();
            try (Progress p = Progress.start(task + " " + job.name() + ": tokenize", pending.size())) {
                for (int r : pending) {
                    int[] ab = encoder.apply(rows.get(r));
                    sequences.add(ab);
                    owner.add(r);
                    if (cap == job.maxLength && job.lengths[r] < 0) {
                        job.lengths[r] = ab.length;
                    }
                    if (withTta) {
                        sequences.add(encoder.apply(rows.get(r).swapped()));
                        owner.add(-1 - r);
                    }
                    p.step();
                }
            }
            List<int[]> packed = MicroBatches.pack(sequences, inference.maxTokens());
            List<List<int[]>> batches = new ArrayList<>(packed.size());
            List<CostModel.Work> work = new ArrayList<>(packed.size());
            long totalTokens = 0;
            for (int[] idx : packed) {
                List<int[]> batch = new ArrayList<>(idx.length);
                for (int i : idx) {
                    batch.add(sequences.get(i));
                }
                batches.add(batch);
                CostModel.Work w = CostModel.Work.of(batch);
                work.add(w);
                totalTokens += (long) w.tokens();
            }
            BitSet runRows = new BitSet();
            pending.forEach(runRows::set);
            synchronized (this) {
                job.runWork = work;
                job.runDone = new boolean[batches.size()];
                job.runRows = runRows;
                job.runRowsDone = new BitSet();
                job.runTta = withTta;
                job.runCap = cap;
                job.restart = false;
            }
            List<float[][]> results;
            try (Progress progress = Progress.start(task + " " + job.name(), totalTokens)) {
                results = runner.run(batches, new BatchRunner.Listener() {
                    @Override
                    public boolean proceed(int batch) {
                        return allowed(job, batch);
                    }

                    @Override
                    public void done(int batch, long tokens) {
                        finished(job, packed.get(batch), owner, batch);
                        synchronized (progress) {
                            progress.stepBy(tokens);
                        }
                    }
                });
            }
            float[][] logits = new float[sequences.size()][];
            for (int b = 0; b < packed.size(); b++) {
                float[][] out = results.get(b);
                if (out != null) {
                    int[] idx = packed.get(b);
                    for (int k = 0; k < idx.length; k++) {
                        logits[idx[k]] = out[k];
                    }
                }
            }
            List<Integer> left = new ArrayList<>();
            for (int s = 0, i = 0; i < pending.size(); i++) {
                int r = pending.get(i);
                float[] ab = logits[s++];
                float[] ba = withTta ? logits[s++] : null;
                if (ab == null && ba == null) {
                    left.add(r);
                    continue;
                }
                double[] p = ab != null && ba != null ? Predictor.fold(ab, ba)
                        : ab != null ? Predictor.softmax(ab) : Predictor.swapBack(Predictor.softmax(ba));
                boolean rowTta = ab != null && ba != null;
                job.results[r] = new PredictionChunks.Row(rows.get(r).id(), keys[r], rowTta, cap, p,
                        Predictor.logs(p));
                job.remaining.clear(r);
                job.predicted++;
                job.withoutTta += rowTta || !inference.tta() ? 0 : 1;
                job.shortened += cap < job.maxLength ? 1 : 0;
                any = true;
            }
            synchronized (this) {
                job.runWork = null;
                if (hardStopped || job.state != State.RUNNING) {
                    return any;
                }
                if (!left.isEmpty() && !job.restart) {
                    throw new IllegalStateException(job.name() + ": " + left.size() + " rows came back without logits");
                }
            }
            pending = left;
        }
        return any;
    }

    /** Whether the runner may start this batch: not when a re-plan is due, nor when it would end past the limit. */
    private synchronized boolean allowed(Job job, int batch) {
        if (hardStopped || job.restart || job.state != State.RUNNING) {
            return false;
        }
        if (budget != null && job.runWork != null) {
            int inFlight = inference.mode().equals(InferenceConfig.SINGLE) ? 1 : 2;
            double need = inFlight * job.costModel().seconds(job.runWork.get(batch));
            if (budget.elapsed() + need > budget.hardLimit()) {
                stopAtLimit(job, String.format(Locale.ROOT, "its next batch would take about %s",
                        Predictor.duration(need)));
                return false;
            }
        }
        return true;
    }

    /** A batch is done: fit its time, mark its rows, and check the projection. */
    private synchronized void finished(Job job, int[] idx, List<Integer> owner, int batch) {
        long now = clock.getAsLong();
        double seconds = (now - job.lastEvent) / 1e9;
        job.lastEvent = now;
        if (job.runWork == null) {
            return;
        }
        if (job.batchesSinceLoad++ > 0) { // the first batch after loading is warm-up
            job.costModel().observe(job.runWork.get(batch), seconds);
        }
        job.runDone[batch] = true;
        for (int i : idx) {
            int o = owner.get(i);
            job.runRowsDone.set(o >= 0 ? o : -1 - o);
        }
        if (!job.estimated && job.batchesSinceLoad >= inference.estimateAfterBatches()) {
            job.estimated = true;
            logProjection(job);
        }
        if (budget != null && !hardStopped && job.state == State.RUNNING && haveEstimate(job) && degradeIfLate(job)) {
            job.restart = true;
        }
    }

    private boolean haveEstimate(Job job) {
        if (job.cost != null && job.cost.observations() >= 2) {
            return true;
        }
        return jobs.stream().anyMatch(j -> j != job && j.cost != null && j.cost.observations() > 0);
    }

    /** Measured over prior seconds, from the models measured so far (1 when none is). */
    private double calibration() {
        double sum = 0;
        int n = 0;
        for (Job j : jobs) {
            if (j.cost != null && j.cost.observations() > 0) {
                sum += j.cost.calibration();
                n++;
            }
        }
        return n == 0 ? 1 : sum / n;
    }

    private void stopAtLimit(Job job, String why) {
        if (hardStopped) {
            return;
        }
        int left = rowsToDo();
        hardStopped = true;
        job.state = State.STOPPED;
        String line = String.format(Locale.ROOT, "time budget %s: hard limit at %s: %s stops (%s); %,d row "
                + "prediction(s) of the ensemble not made", TimeBudget.format(budget.budget()),
                Predictor.duration(budget.hardLimit()), job.name(), why, left);
        decisions.add(line);
        log.accept(line);
    }

    // ------------------------------------------------------------------ the budget

    private double projection(boolean withTta, double factor) {
        double s = budget != null ? budget.elapsed() : (clock.getAsLong() - start) / 1e9;
        for (Job j : jobs) {
            s += j.seconds(withTta, factor);
        }
        return s;
    }

    private int rowsToDo() {
        int n = 0;
        for (Job j : jobs) {
            if (j.active()) {
                BitSet todo = (BitSet) j.remaining.clone();
                if (j.runRowsDone != null && j.runWork != null) {
                    todo.andNot(j.runRowsDone);
                }
                n += todo.cardinality();
            }
        }
        return n;
    }

    /** Applies the degrade steps while the projection passes the hard limit; true when the plan changed. */
    private boolean degradeIfLate(Job running) {
        double limit = budget.hardLimit();
        double projected = projection(tta, lengthFactor);
        if (projected <= limit) {
            return false;
        }
        boolean changed = false;
        if (tta) {
            int todo = rowsToDo();
            tta = false;
            double now = projection(false, lengthFactor);
            decide(String.format(Locale.ROOT, "swap TTA off for the %,d row prediction(s) still to do", todo),
                    projected, now);
            projected = now;
            changed = true;
        }
        while (projected > limit) {
            Job drop = jobs.stream().filter(j -> j != anchor() && j.active() && !j.remaining.isEmpty())
                    .min(Comparator.comparingDouble((Job j) -> j.member.weight())
                            .thenComparing(j -> -jobs.indexOf(j)))
                    .orElse(null);
            if (drop == null) {
                break;
            }
            int todo = drop.remaining.cardinality();
            drop.state = State.DROPPED;
            double now = projection(tta, lengthFactor);
            decide(String.format(Locale.ROOT, "drop %s (weight %s, the lowest still to run) for its %,d row(s) "
                    + "still to do", drop.name(), weight(drop), todo), projected, now);
            projected = now;
            changed |= drop == running;
        }
        if (projected > limit) {
            double f = lengthFactor >= 1 ? 1 : lengthFactor;
            double chosen = -1;
            for (double g = f - LENGTH_STEP; g > 0; g -= LENGTH_STEP) {
                if (projection(tta, g) <= limit * TARGET || (atFloor(g))) {
                    chosen = g;
                    break;
                }
            }
            if (chosen > 0 && capsChange(chosen)) {
                String caps = caps(chosen);
                int todo = rowsToDo();
                lengthFactor = chosen;
                double now = projection(tta, chosen);
                decide(String.format(Locale.ROOT, "max_length %s for the %,d row prediction(s) still to do%s", caps,
                        todo, now > limit ? " (the shortest allowed: the hard limit will cut the rest)" : ""),
                        projected, now);
                changed = true;
            }
        }
        return changed;
    }

    private boolean atFloor(double factor) {
        return jobs.stream().filter(Job::active).allMatch(j -> j.capAt(factor) == j.floor());
    }

    private boolean capsChange(double factor) {
        return jobs.stream().filter(Job::active).anyMatch(j -> j.capAt(factor) != j.cap());
    }

    private String caps(double factor) {
        List<String> out = new ArrayList<>();
        for (Job j : jobs) {
            if (j.active()) {
                out.add((jobs.size() > 1 ? j.name() + " " : "") + j.cap() + " -> " + j.capAt(factor));
            }
        }
        return String.join(", ", out);
    }

    private Job anchor() {
        Job best = jobs.get(0);
        for (Job j : jobs) {
            if (j.member.weight() > best.member.weight()) {
                best = j;
            }
        }
        return best;
    }

    private void decide(String what, double before, double after) {
        String line = String.format(Locale.ROOT, "time budget %s: projected finish %s (elapsed %s) passes the "
                + "hard limit %s: %s -> projected %s", TimeBudget.format(budget.budget()), Predictor.duration(before),
                Predictor.duration(budget.elapsed()), Predictor.duration(budget.hardLimit()), what,
                Predictor.duration(after));
        decisions.add(line);
        log.accept(line);
    }

    private void logProjection(Job job) {
        double left = job.seconds(tta, lengthFactor);
        double all = projection(tta, lengthFactor);
        log.accept(String.format(Locale.ROOT, "%s: estimate after %d batches (%s): %s left for this model, "
                + "projected finish %s%s", job.name(), job.batchesSinceLoad, job.costModel().describe(),
                Predictor.duration(left), Predictor.duration(all),
                budget != null ? " of the " + TimeBudget.format(budget.budget()) + " budget"
                        : all > 9 * 3600 ? " (over Kaggle's 9-hour limit: set inference.time_budget, drop TTA or "
                                + "lower max_length)" : ""));
    }

    private static String weight(Job j) {
        double w = j.member.weight();
        return w == Math.rint(w) ? String.valueOf((long) w) : String.valueOf(w);
    }

    // ------------------------------------------------------------------ before loading

    /** Token counts of the rows still to do per model (all up to EXACT_ROWS rows, else a sample). */
    private void countTokens(List<Job> order) throws IOException {
        for (Job j : order) {
            int todo = j.remaining.cardinality();
            if (todo == 0) {
                continue;
            }
            int stride = todo <= EXACT_ROWS ? 1 : Math.max(1, todo / SAMPLE_ROWS);
            Function<Conversation, int[]> encoder = j.member.encoder(j.maxLength);
            try (Progress p = Progress.start(task + " " + j.name() + ": count tokens", todo / stride)) {
                int k = 0;
                for (int r = j.remaining.nextSetBit(0); r >= 0; r = j.remaining.nextSetBit(r + 1), k++) {
                    if (k % stride == 0) {
                        j.lengths[r] = encoder.apply(rows.get(r)).length;
                        p.step();
                    }
                }
            }
        }
    }

    private double printEstimate(List<Job> order) throws IOException {
        String where = DeviceTable.describe(inference);
        double total = 0;
        for (Job j : order) {
            String plan = j.member.memoryPlan(inference);
            if (!plan.isBlank()) {
                log.accept(plan.strip());
            }
            if (j.remaining.isEmpty()) {
                continue;
            }
            CostModel prior = DeviceTable.prior(j.shape, inference, 1);
            int copies = tta ? 2 : 1;
            CostModel.Work w = j.work(j.remaining, copies, j.maxLength);
            double s = prior.seconds(w);
            double load = DeviceTable.loadSeconds(j.shape.weightBytes());
            total += s + load;
            log.accept(String.format(Locale.ROOT, "estimate before loading, %s: %,d rows, %.1fM tokens%s at "
                    + "max_length %d -> about %s on %s, + about %s loading", j.name(), j.remaining.cardinality(),
                    w.tokens() / 1e6, tta ? " (with swap TTA)" : "", j.maxLength, Predictor.duration(s), where,
                    Predictor.duration(load)));
        }
        log.accept(String.format(Locale.ROOT, "estimate before loading: about %s in all on %s%s (a cost-model "
                + "estimate from the device table in arenakit.infer.DeviceTable; measured batches replace it)",
                Predictor.duration(total), where, budget != null ? ", time budget " + TimeBudget.format(
                        budget.budget()) : ""));
        return total;
    }

    // ------------------------------------------------------------------ chunks and the result

    private void writeChunk(Job job, int from, int to, boolean fresh) throws IOException {
        if (job.chunks == null) {
            return;
        }
        List<PredictionChunks.Row> out = new ArrayList<>();
        for (int r = from; r < to; r++) {
            if (job.results[r] != null) {
                out.add(job.results[r]);
            }
        }
        if (!out.isEmpty()) {
            job.chunks.write(from, to, out, fresh);
        }
    }

    private void writeAllChunks(Job job) throws IOException {
        if (job.chunks == null) {
            return;
        }
        int chunkRows = Math.min(ensemble.chunkRows(), Math.max(1, rows.size()));
        for (int from = 0; from < rows.size(); from += chunkRows) {
            writeChunk(job, from, Math.min(rows.size(), from + chunkRows), false);
        }
        job.chunks.dropOthers();
    }

    private Ensemble.Result combine() {
        int n = rows.size();
        double[][] probs = new double[n][];
        double[][] logits = new double[n][];
        int full = 0;
        int partial = 0;
        int none = 0;
        int degraded = 0;
        boolean logitMean = ensemble.average() == Ensemble.Average.LOGITS;
        for (int i = 0; i < n; i++) {
            double w = 0;
            double[] acc = new double[3];
            int models = 0;
            boolean worse = false;
            for (Job j : jobs) {
                PredictionChunks.Row r = j.results[i];
                if (r == null) {
                    continue;
                }
                double wj = j.member.weight();
                double[] v = logitMean ? r.logits() : r.probs();
                for (int k = 0; k < 3; k++) {
                    acc[k] += wj * v[k];
                }
                w += wj;
                models++;
                worse |= (inference.tta() && !r.tta()) || r.maxLength() < j.maxLength;
            }
            if (models == 0) {
                none++;
                continue;
            }
            double[] p = new double[3];
            for (int k = 0; k < 3; k++) {
                p[k] = acc[k] / w;
            }
            if (logitMean) {
                p = Predictor.softmax(p);
            }
            probs[i] = p;
            logits[i] = Predictor.logs(p);
            full += models == jobs.size() ? 1 : 0;
            partial += models < jobs.size() ? 1 : 0;
            degraded += worse ? 1 : 0;
        }
        List<Ensemble.ModelReport> models = new ArrayList<>();
        for (Job j : jobs) {
            int notPredicted = (int) java.util.Arrays.stream(j.results).filter(r -> r == null).count();
            models.add(new Ensemble.ModelReport(j.name(), j.member.weight(), j.fingerprint, j.maxLength, j.reused,
                    j.predicted, j.withoutTta, j.shortened, notPredicted, status(j), j.loadSeconds, j.predictSeconds,
                    j.cost == null ? null : j.cost.describe()));
        }
        double seconds = (clock.getAsLong() - start) / 1e9;
        Ensemble.Report report = new Ensemble.Report(budget == null ? null : TimeBudget.format(budget.budget()),
                seconds, ensemble.average().name().toLowerCase(Locale.ROOT), List.copyOf(decisions), models, n, full,
                partial, none, degraded, hardStopped);
        return new Ensemble.Result(rows, probs, logits, report);
    }

    private static String status(Job j) {
        return switch (j.state) {
            case DONE -> "done";
            case DROPPED -> "dropped";
            case STOPPED -> "stopped";
            default -> "not run";
        };
    }
}
