package arenakit.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import arenakit.infer.BatchRunner;
import arenakit.infer.DataParallelRunner;
import arenakit.infer.PipelinedRunner;
import arenakit.infer.SingleDeviceRunner;
import arenakit.model.DecoderClassifier;
import arenakit.model.SequenceClassifier;
import arenakit.model.SequenceClassifier.TrainBatch;
import arenakit.model.tensor.Autograd;
import arenakit.model.tensor.NoGrad;
import arenakit.util.Engines;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where a training step's micro-batches run ({@code train.mode}):
 * <ul>
 *   <li>{@code single}: one model on one device;</li>
 *   <li>{@code pipeline}: one model whose layers are split over devices; each micro-batch goes through the stages
 *       in turn, the hidden state crossing devices on the autograd graph (the stages take turns: the split is for
 *       memory, a model too large for one device, not for speed);</li>
 *   <li>{@code data_parallel}: a replica of the model per device, each on its own thread, taking the step's
 *       micro-batches in turn (replica r starts with micro-batch r, then takes the next one not taken). After each
 *       micro-batch a replica copies its gradients out and zeroes them; the copies are added on the first replica's
 *       device in micro-batch order, the order one device accumulates them in, so the step's gradients, and the
 *       update AdamW makes of them on the first replica, are those of the one-device run. {@link #broadcast} then
 *       gives every replica the updated weights.</li>
 * </ul>
 * The models belong to the caller; closing this stops the replicas' threads.
 */
public final class TrainDevices implements AutoCloseable {
    private static final NDIndex ALL = new NDIndex("...");

    private final List<SequenceClassifier> replicas;
    private final List<String> names;
    private final BatchRunner evaluator;
    private final String description;
    private final ExecutorService pool;

    private TrainDevices(List<SequenceClassifier> replicas, List<String> names, BatchRunner evaluator,
            String description) {
        this.replicas = List.copyOf(replicas);
        this.names = List.copyOf(names);
        this.evaluator = evaluator;
        this.description = description;
        this.pool = replicas.size() < 2 ? null : Executors.newFixedThreadPool(replicas.size(), r -> {
            Thread t = new Thread(r, "train-replica");
            t.setDaemon(true);
            return t;
        });
    }

    /** One model on one device (or pipelined inference-style evaluation when its layers span two devices). */
    public static TrainDevices single(SequenceClassifier model) {
        if (model instanceof DecoderClassifier g && g.stages().size() == 2) {
            return new TrainDevices(List.of(model), List.of(), PipelinedRunner.of(g), "pipeline " + g.stages());
        }
        return new TrainDevices(List.of(model), List.of(), new SingleDeviceRunner(model), "one device");
    }

    /** One model per device ({@code devices}: their names, for the log), the first one the optimizer's. */
    public static TrainDevices dataParallel(List<SequenceClassifier> replicas, List<String> devices) {
        if (replicas.size() < 2) {
            throw new IllegalArgumentException("data-parallel training needs at least two replicas");
        }
        return new TrainDevices(replicas, devices, new DataParallelRunner(replicas, devices),
                "data parallel, a replica on each of " + devices);
    }

    /** The model the optimizer updates, that is saved and checkpointed: the first replica. */
    public SequenceClassifier model() {
        return replicas.get(0);
    }

    /** Number of replicas (1 unless data parallel). */
    public int size() {
        return replicas.size();
    }

    /** Runs inference for the evaluations, on every device of the run. */
    public BatchRunner evaluator() {
        return evaluator;
    }

    public String describe() {
        return description;
    }

    /**
     * Forward and backward of the micro-batches; their gradients end up accumulated in {@link #model()}'s
     * trainable tensors. Returns the sum of their (unscaled) losses. Call {@link #broadcast} after the update.
     */
    public double backward(List<TrainBatch> work) {
        if (replicas.size() == 1) {
            SequenceClassifier model = replicas.get(0);
            double loss = 0;
            for (TrainBatch b : work) {
                loss += Autograd.recording(() -> model.backward(b));
            }
            return loss;
        }
        return parallel(work);
    }

    /** A replica's gradients of one micro-batch, copied out on its device. */
    private record Snapshot(float loss, NDManager manager, Map<String, NDArray> grads) {}

    private double parallel(List<TrainBatch> work) {
        int m = work.size();
        List<CompletableFuture<Snapshot>> done = new ArrayList<>();
        for (int j = 0; j < m; j++) {
            done.add(new CompletableFuture<>());
        }
        AtomicInteger next = new AtomicInteger(replicas.size());
        List<java.util.concurrent.Future<?>> workers = new ArrayList<>();
        for (int r = 0; r < replicas.size() && r < m; r++) {
            SequenceClassifier replica = replicas.get(r);
            int first = r;
            workers.add(pool.submit(() -> {
                int j = first;
                try {
                    for (; j < m; j = next.getAndIncrement()) {
                        TrainBatch b = work.get(j);
                        float loss = Autograd.recording(() -> replica.backward(b));
                        Snapshot snap = snapshot(replica, loss);
                        if (!done.get(j).complete(snap)) { // the step failed elsewhere meanwhile
                            snap.manager().close();
                        }
                    }
                } catch (RuntimeException | Error e) {
                    next.set(m); // the other replicas stop after their current micro-batch
                    done.get(j).completeExceptionally(e);
                    done.forEach(f -> f.completeExceptionally(new IllegalStateException("another replica failed")));
                }
            }));
        }
        try {
            return reduce(done);
        } finally {
            for (java.util.concurrent.Future<?> w : workers) { // no replica may still run when this returns
                try {
                    w.get();
                } catch (ExecutionException | InterruptedException | java.util.concurrent.CancellationException e) {
                    // reported through its micro-batch
                }
            }
        }
    }

    /** Adds the snapshots in micro-batch order into the first replica's gradients; returns the summed loss. */
    private double reduce(List<CompletableFuture<Snapshot>> done) {
        int m = done.size();
        SequenceClassifier primary = replicas.get(0);
        Device target = primary.trainable().values().iterator().next().getDevice();
        double loss = 0;
        try (NDManager sum = Engines.pytorch().newBaseManager(target); NoGrad g = NoGrad.enter()) {
            Map<String, NDArray> acc = new LinkedHashMap<>();
            RuntimeException failure = null;
            for (int j = 0; j < m; j++) {
                Snapshot s;
                try {
                    s = done.get(j).get();
                } catch (ExecutionException e) {
                    failure = failure != null ? failure : new IllegalStateException("training failed on a replica: "
                            + e.getCause().getMessage(), e.getCause());
                    continue;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
                if (failure == null) {
                    loss += s.loss();
                    for (Map.Entry<String, NDArray> e : s.grads().entrySet()) {
                        NDArray here = e.getValue().toDevice(target, true);
                        here.attach(sum);
                        NDArray a = acc.get(e.getKey());
                        if (a == null) {
                            acc.put(e.getKey(), here);
                        } else {
                            a.addi(here);
                            here.close();
                        }
                    }
                }
                s.manager().close();
            }
            if (failure != null) {
                throw failure;
            }
            for (Map.Entry<String, NDArray> e : primary.trainable().entrySet()) {
                try (NDArray grad = e.getValue().getGradient()) {
                    grad.set(ALL, acc.get(e.getKey()));
                }
            }
        }
        return loss;
    }

    /** Copies the replica's gradients out (on its device) and zeroes them for its next micro-batch. */
    private static Snapshot snapshot(SequenceClassifier replica, float loss) {
        Map<String, NDArray> params = replica.trainable();
        NDManager m = Engines.pytorch().newBaseManager(params.values().iterator().next().getDevice());
        Map<String, NDArray> grads = new LinkedHashMap<>();
        try (NoGrad g = NoGrad.enter()) {
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                try (NDArray grad = e.getValue().getGradient()) {
                    NDArray copy = grad.duplicate();
                    copy.attach(m);
                    grads.put(e.getKey(), copy);
                }
                JniUtils.zeroGrad((PtNDArray) e.getValue());
            }
        }
        return new Snapshot(loss, m, grads);
    }

    /** Gives every other replica the first one's trainable values (after an update, a restore, at the start). */
    public void broadcast() {
        if (replicas.size() == 1) {
            return;
        }
        Map<String, NDArray> source = replicas.get(0).trainable();
        try (NoGrad g = NoGrad.enter()) {
            for (SequenceClassifier replica : replicas.subList(1, replicas.size())) {
                for (Map.Entry<String, NDArray> e : replica.trainable().entrySet()) {
                    NDArray from = source.get(e.getKey());
                    if (from == null || !from.getShape().equals(e.getValue().getShape())) {
                        throw new IllegalStateException("replicas differ at " + e.getKey());
                    }
                    e.getValue().set(ALL, from);
                }
            }
        }
    }

    /** Device names of the replicas (empty for one model). */
    public List<String> devices() {
        return names;
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
