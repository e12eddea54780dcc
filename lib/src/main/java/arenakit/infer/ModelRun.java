package arenakit.infer;

import java.io.IOException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * One model's share of an {@link EnsembleRun}: which rows it has a prediction for (reused from its chunks or made
 * now), which it still has to do, their token counts, its cost model, and the batches it has in flight. What the
 * time budget asks of it: the seconds it still needs under a plan (TTA on or off, a fraction of its max_length).
 */
final class ModelRun {
    /** The shortest max_length a time budget asks for (a quarter of a shorter max_length, at least 64). */
    static final int MIN_LENGTH = 256;

    enum State { PENDING, RUNNING, DONE, DROPPED, STOPPED }

    final Ensemble.Member member;
    final int maxLength;
    final String fingerprint;
    final DeviceTable.Shape shape;
    final PredictionChunks chunks;
    final PredictionChunks.Row[] results;
    final BitSet remaining = new BitSet();
    /** Tokens of each row at the configured max_length; -1 = not counted. */
    final int[] lengths;
    private final InferenceConfig inference;
    State state = State.PENDING;
    private CostModel cost;
    int reused;
    int predicted;
    int withoutTta;
    int shortened;
    double loadSeconds;
    double predictSeconds;
    int batchesSinceLoad;
    boolean estimated;
    long lastEvent;
    /** The run in flight: its batches' work, plan and progress (null between runs). */
    List<CostModel.Work> runWork;
    boolean runTta;
    int runCap;
    boolean[] runDone;
    BitSet runRows;
    BitSet runRowsDone;
    /** A degrade decision asks the run in flight to stop and re-plan its rows. */
    boolean restart;

    /**
     * Reads the model's chunks (when {@code chunkRoot} is set) and takes every stored row whose key and settings
     * match as done.
     */
    ModelRun(Ensemble.Member member, InferenceConfig inference, String[] keys, java.nio.file.Path chunkRoot,
            java.util.function.Consumer<String> log) throws IOException {
        this.member = member;
        this.inference = inference;
        this.maxLength = member.maxLength() / 16 * 16;
        this.fingerprint = member.fingerprint(inference);
        this.shape = member.shape(inference);
        this.chunks = chunkRoot == null ? null : PredictionChunks.open(chunkRoot, member.name(), fingerprint, log);
        this.results = new PredictionChunks.Row[keys.length];
        this.lengths = new int[keys.length];
        Arrays.fill(lengths, -1);
        for (int i = 0; i < keys.length; i++) {
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

    double weight() {
        return member.weight();
    }

    boolean active() {
        return state == State.PENDING || state == State.RUNNING;
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

    /**
     * The model's cost: fitted to its batches once it runs; before, the prior scaled by {@code calibration} (what
     * the models measured so far found against their priors).
     */
    CostModel costModel(double calibration) {
        if (cost != null) {
            return cost;
        }
        CostModel prior = DeviceTable.prior(shape, inference, calibration);
        if (state != State.PENDING) {
            cost = prior; // from now on fitted to this model's own batches
        }
        return prior;
    }

    /** The fitted cost model, or null when the model never ran. */
    CostModel fitted() {
        return cost;
    }

    /**
     * Seconds still to spend on this model if the rows still to do ran with TTA {@code withTta} at
     * {@code factor} of its max_length (loading included when it has not loaded yet).
     */
    double seconds(boolean withTta, double factor, double calibration, double loadSecondsPerByte) {
        if (!active() || remaining.isEmpty()) {
            return 0;
        }
        CostModel.Work work = CostModel.Work.NONE;
        BitSet todo = (BitSet) remaining.clone();
        if (runWork != null) {
            todo.andNot(runRowsDone);
            if (withTta == runTta && capAt(factor) == runCap) { // the run in flight goes on as planned
                todo.andNot(runRows);
                for (int b = 0; b < runWork.size(); b++) {
                    if (!runDone[b]) {
                        work = work.plus(runWork.get(b));
                    }
                }
            }
        }
        work = work.plus(work(todo, withTta ? 2 : 1, capAt(factor)));
        double load = state == State.PENDING ? loadEstimate(loadSecondsPerByte) : 0;
        return load + costModel(calibration).seconds(work);
    }

    /** Rows still to do, less those the run in flight has done. */
    int rowsToDo() {
        if (!active()) {
            return 0;
        }
        BitSet todo = (BitSet) remaining.clone();
        if (runWork != null) {
            todo.andNot(runRowsDone);
        }
        return todo.cardinality();
    }

    /** Work of these rows: their counted lengths, and the mean of the counted ones for the others. */
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

    /** Seconds to load: as fast per byte as the last model loaded, else {@link DeviceTable#loadSeconds}. */
    double loadEstimate(double loadSecondsPerByte) {
        return loadSecondsPerByte >= 0 ? loadSecondsPerByte * shape.weightBytes()
                : DeviceTable.loadSeconds(shape.weightBytes());
    }

    Ensemble.ModelReport report() {
        int notPredicted = (int) Arrays.stream(results).filter(r -> r == null).count();
        String status = switch (state) {
            case DONE -> "done";
            case DROPPED -> "dropped";
            case STOPPED -> "stopped";
            default -> "not run";
        };
        return new Ensemble.ModelReport(name(), weight(), fingerprint, maxLength, reused, predicted, withoutTta,
                shortened, notPredicted, status, loadSeconds, predictSeconds, cost == null ? null : cost.describe());
    }
}
