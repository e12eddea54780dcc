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
 * <p><b>Degrade order.</b> When the projection passes the hard limit ({@link TimeBudget#hardLimit}), the rows still
 * to do lose, step by step until it fits: swap TTA, the lowest-weight models, max_length ({@link Degrade}). At the
 * hard limit itself no batch starts that would end after it; the rows left get what the other models predicted for
 * them, else nothing (the caller's fallback).
 */
final class EnsembleRun {
    static final int EXACT_ROWS = 100_000;
    static final int SAMPLE_ROWS = 20_000;

    private final Ensemble ensemble;
    private final List<Conversation> rows;
    private final String task;
    private final LongSupplier clock;
    private final long start;
    private final Consumer<String> log;
    private final InferenceConfig inference;
    private final TimeBudget budget;
    private final String[] keys;
    private final List<ModelRun> jobs = new ArrayList<>();
    private final Degrade plan; // TTA and max_length for the rows still to do
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
        this.plan = new Degrade(inference.tta(), budget, log);
        this.keys = new String[rows.size()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = PredictionChunks.rowKey(rows.get(i));
        }
    }

    /** The models in run order: highest weight first, ties in the configured order (a stable sort). */
    private List<ModelRun> start() throws IOException {
        for (Ensemble.Member m : ensemble.members()) {
            jobs.add(new ModelRun(m, inference, keys, ensemble.chunkRoot(), log));
        }
        List<ModelRun> order = new ArrayList<>(jobs);
        order.sort(Comparator.comparingDouble((ModelRun j) -> -j.weight()));
        for (ModelRun j : jobs) {
            if (j.reused > 0) {
                log.accept(String.format(Locale.ROOT, "%s: %,d of %,d rows reused from earlier chunks", j.name(),
                        j.reused, rows.size()));
            }
        }
        return order;
    }

    /** Prints the memory plans and the time estimate, loading nothing; returns the estimated seconds. */
    double plan() throws IOException {
        List<ModelRun> order = start();
        countTokens(order);
        return printEstimate(order);
    }

    Ensemble.Result run() throws IOException {
        List<ModelRun> order = start();
        if (budget != null || ensemble.estimate()) {
            countTokens(order);
        }
        if (ensemble.estimate()) {
            printEstimate(order);
        }
        for (ModelRun job : order) {
            if (hardStopped) {
                break;
            }
            if (!job.active()) {
                continue;
            }
            if (job.remaining.isEmpty()) {
                job.state = ModelRun.State.DONE;
                writeAllChunks(job);
                continue;
            }
            synchronized (this) {
                if (budget != null && haveEstimate(job)) {
                    plan.apply(jobs, job, this::projection);
                }
            }
            if (!job.active()) {
                continue;
            }
            if (budget != null && budget.elapsed() + job.loadEstimate(loadSecondsPerByte) >= budget.hardLimit()) {
                stopAtLimit(job, "before loading it (about " + Predictor.duration(job.loadEstimate(loadSecondsPerByte)) + ")");
                break;
            }
            predict(job);
        }
        for (ModelRun j : jobs) {
            if (j.state == ModelRun.State.PENDING) {
                j.state = hardStopped ? ModelRun.State.STOPPED : ModelRun.State.DONE;
            }
        }
        if (ensemble.chunkRoot() != null) {
            PredictionChunks.prune(ensemble.chunkRoot(), jobs.stream().map(j -> j.chunks).toList());
        }
        return combine();
    }

    // ------------------------------------------------------------------ one model

    private void predict(ModelRun job) throws IOException {
        long t0 = clock.getAsLong();
        job.state = ModelRun.State.RUNNING;
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
                if (!pending.isEmpty() && job.state == ModelRun.State.RUNNING && !hardStopped) {
                    fresh = predictRows(job, runner, pending);
                }
                writeChunk(job, from, to, fresh);
                if (hardStopped || job.state != ModelRun.State.RUNNING) {
                    break;
                }
            }
            job.predictSeconds = (clock.getAsLong() - t1) / 1e9;
        }
        if (job.state == ModelRun.State.RUNNING) {
            job.state = ModelRun.State.DONE;
            if (job.chunks != null) {
                job.chunks.dropOthers();
            }
        }
        log.accept(String.format(Locale.ROOT, "%s: %,d rows predicted in %s (loading %s); %s", job.name(),
                job.predicted, Predictor.duration(job.predictSeconds), Predictor.duration(job.loadSeconds),
                job.costModel(calibration()).describe()));
    }

    /** Predicts these rows of one chunk (re-planning them after a degrade decision); true when any was predicted. */
    private boolean predictRows(ModelRun job, BatchRunner runner, List<Integer> pending) throws IOException {
        boolean any = false;
        while (!pending.isEmpty()) {
            boolean withTta;
            int cap;
            synchronized (this) {
                withTta = plan.tta();
                cap = job.capAt(plan.lengthFactor());
            }
            Function<Conversation, int[]> encoder = job.member.encoder(cap);
            List<int[]> sequences = new ArrayList<>();
            List<Integer> owner = new ArrayList<>();
            try (Progress p = Progress.start(task + " " + job.name() + ": tokenize", pending.size(), "row")) {
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
            try (Progress progress = Progress.start(task + " " + job.name(), totalTokens, "token")) {
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
                if (hardStopped || job.state != ModelRun.State.RUNNING) {
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
    private synchronized boolean allowed(ModelRun job, int batch) {
        if (hardStopped || job.restart || job.state != ModelRun.State.RUNNING) {
            return false;
        }
        if (budget != null && job.runWork != null) {
            int inFlight = inference.mode().equals(InferenceConfig.SINGLE) ? 1 : 2;
            double need = inFlight * job.costModel(calibration()).seconds(job.runWork.get(batch));
            if (budget.elapsed() + need > budget.hardLimit()) {
                stopAtLimit(job, String.format(Locale.ROOT, "its next batch would take about %s",
                        Predictor.duration(need)));
                return false;
            }
        }
        return true;
    }

    /** A batch is done: fit its time, mark its rows, and check the projection. */
    private synchronized void finished(ModelRun job, int[] idx, List<Integer> owner, int batch) {
        long now = clock.getAsLong();
        double seconds = (now - job.lastEvent) / 1e9;
        job.lastEvent = now;
        if (job.runWork == null) {
            return;
        }
        if (job.batchesSinceLoad++ > 0) { // the first batch after loading is warm-up
            job.costModel(calibration()).observe(job.runWork.get(batch), seconds);
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
        if (budget != null && !hardStopped && job.state == ModelRun.State.RUNNING && haveEstimate(job)
                && plan.apply(jobs, job, this::projection)) {
            job.restart = true;
        }
    }

    private boolean haveEstimate(ModelRun job) {
        if (job.fitted() != null && job.fitted().observations() >= 2) {
            return true;
        }
        return jobs.stream().anyMatch(j -> j != job && j.fitted() != null && j.fitted().observations() > 0);
    }

    /** Measured over prior seconds, from the models measured so far (1 when none is). */
    private double calibration() {
        double sum = 0;
        int n = 0;
        for (ModelRun j : jobs) {
            if (j.fitted() != null && j.fitted().observations() > 0) {
                sum += j.fitted().calibration();
                n++;
            }
        }
        return n == 0 ? 1 : sum / n;
    }

    private void stopAtLimit(ModelRun job, String why) {
        if (hardStopped) {
            return;
        }
        int left = Degrade.rowsToDo(jobs);
        hardStopped = true;
        job.state = ModelRun.State.STOPPED;
        plan.note(String.format(Locale.ROOT, "time budget %s: hard limit at %s: %s stops (%s); %,d row "
                + "prediction(s) of the ensemble not made", TimeBudget.format(budget.budget()),
                Predictor.duration(budget.hardLimit()), job.name(), why, left));
    }

    // ------------------------------------------------------------------ the budget

    /** The projected finish (seconds from the start) if the rows still to do ran with these settings. */
    private double projection(boolean withTta, double factor) {
        double s = budget != null ? budget.elapsed() : (clock.getAsLong() - start) / 1e9;
        double calibration = calibration();
        for (ModelRun j : jobs) {
            s += j.seconds(withTta, factor, calibration, loadSecondsPerByte);
        }
        return s;
    }

    private void logProjection(ModelRun job) {
        double left = job.seconds(plan.tta(), plan.lengthFactor(), calibration(), loadSecondsPerByte);
        double all = projection(plan.tta(), plan.lengthFactor());
        log.accept(String.format(Locale.ROOT, "%s: estimate after %d batches (%s): %s left for this model, "
                + "projected finish %s%s", job.name(), job.batchesSinceLoad, job.costModel(calibration()).describe(),
                Predictor.duration(left), Predictor.duration(all),
                budget != null ? " of the " + TimeBudget.format(budget.budget()) + " budget"
                        : all > 9 * 3600 ? " (over Kaggle's 9-hour limit: set inference.time_budget, drop TTA or "
                                + "lower max_length)" : ""));
    }

    // ------------------------------------------------------------------ before loading

    /** Token counts of the rows still to do per model (all up to EXACT_ROWS rows, else a sample). */
    private void countTokens(List<ModelRun> order) throws IOException {
        for (ModelRun j : order) {
            int todo = j.remaining.cardinality();
            if (todo == 0) {
                continue;
            }
            int stride = todo <= EXACT_ROWS ? 1 : Math.max(1, todo / SAMPLE_ROWS);
            Function<Conversation, int[]> encoder = j.member.encoder(j.maxLength);
            try (Progress p = Progress.start(task + " " + j.name() + ": count tokens", todo / stride, "row")) {
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

    private double printEstimate(List<ModelRun> order) throws IOException {
        String where = DeviceTable.describe(inference);
        double total = 0;
        for (ModelRun j : order) {
            String memory = j.member.memoryPlan(inference);
            if (!memory.isBlank()) {
                log.accept(memory.strip());
            }
            if (j.remaining.isEmpty()) {
                continue;
            }
            CostModel prior = DeviceTable.prior(j.shape, inference, 1);
            int copies = plan.tta() ? 2 : 1;
            CostModel.Work w = j.work(j.remaining, copies, j.maxLength);
            double s = prior.seconds(w);
            double load = j.loadEstimate(-1);
            total += s + load;
            log.accept(String.format(Locale.ROOT, "estimate before loading, %s: %,d rows, %.1fM tokens%s at "
                    + "max_length %d -> about %s on %s, + about %s loading", j.name(), j.remaining.cardinality(),
                    w.tokens() / 1e6, plan.tta() ? " (with swap TTA)" : "", j.maxLength, Predictor.duration(s), where,
                    Predictor.duration(load)));
        }
        log.accept(String.format(Locale.ROOT, "estimate before loading: about %s in all on %s%s (a cost-model "
                + "estimate from the device table in arenakit.infer.DeviceTable; measured batches replace it)",
                Predictor.duration(total), where, budget != null ? ", time budget " + TimeBudget.format(
                        budget.budget()) : ""));
        return total;
    }

    // ------------------------------------------------------------------ chunks and the result

    private void writeChunk(ModelRun job, int from, int to, boolean fresh) throws IOException {
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

    private void writeAllChunks(ModelRun job) throws IOException {
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
        double[] weights = jobs.stream().mapToDouble(ModelRun::weight).toArray();
        for (int i = 0; i < n; i++) {
            double[][] each = new double[jobs.size()][];
            int models = 0;
            boolean worse = false;
            for (int j = 0; j < jobs.size(); j++) {
                PredictionChunks.Row r = jobs.get(j).results[i];
                if (r != null) {
                    each[j] = r.probs();
                    models++;
                    worse |= (inference.tta() && !r.tta()) || r.maxLength() < jobs.get(j).maxLength;
                }
            }
            double[] p = ensemble.average().combine(each, weights);
            if (p == null) {
                none++;
                continue;
            }
            probs[i] = p;
            logits[i] = Predictor.logs(p);
            full += models == jobs.size() ? 1 : 0;
            partial += models < jobs.size() ? 1 : 0;
            degraded += worse ? 1 : 0;
        }
        List<Ensemble.ModelReport> models = jobs.stream().map(ModelRun::report).toList();
        double seconds = (clock.getAsLong() - start) / 1e9;
        Ensemble.Report report = new Ensemble.Report(budget == null ? null : TimeBudget.format(budget.budget()),
                seconds, ensemble.average().name().toLowerCase(Locale.ROOT), plan.decisions(), models, n, full,
                partial, none, degraded, hardStopped);
        return new Ensemble.Result(rows, probs, logits, report);
    }
}
