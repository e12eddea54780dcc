package arenakit.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.layers.TokenBatch;
import arenakit.model.tensor.NoGrad;
import arenakit.util.Engines;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Two-device pipelining (2nd place on 2x T4): the first half of the decoder layers on one device, the second half
 * on the other, and micro-batches flowing through both at once. A front thread runs the first half on batch
 * {@code i + 1} while a back thread runs the second half on batch {@code i}; the hidden states cross over through a
 * small bounded queue (at most two waiting, so device memory stays flat). Each thread has its own NDManagers and
 * grad mode off; the back thread takes ownership of the hand-off with {@code attach}.
 */
public final class PipelinedRunner implements BatchRunner {

    /** One half of the model. The front half gets {@code input == null}; the back half returns logits first. */
    @FunctionalInterface
    public interface Half {
        NDList forward(NDManager scope, List<int[]> batch, NDList input);
    }

    private final Half front;
    private final Half back;
    private final String description;

    public PipelinedRunner(Half front, Half back, String description) {
        this.front = front;
        this.back = back;
        this.description = description;
    }

    /**
     * The model's two layer stages as pipeline halves: embedding + the first device's layers, then the second
     * device's layers + final norm + head.
     */
    public static PipelinedRunner of(DecoderClassifier g) {
        List<Placement.Stage> stages = g.stages();
        if (stages.size() != 2) {
            throw new IllegalArgumentException("pipelining needs a model placed on two devices, got " + stages);
        }
        int split = stages.get(1).from();
        int layers = g.config().numHiddenLayers();
        PipelinedRunner.Half front = (scope, batch, input) -> {
            TokenBatch b = g.batch(batch);
            NDArray embedded = g.embed(scope, b, false);
            NDArray hidden = g.layers(scope, embedded, b, 0, split, false);
            return new NDList(hidden);
        };
        PipelinedRunner.Half back = (scope, batch, input) -> {
            TokenBatch b = g.batch(batch);
            NDArray hidden = g.layers(scope, input.get(0), b, split, layers, false);
            return new NDList(g.classify(scope, hidden, b, false));
        };
        return new PipelinedRunner(front, back, String.format(Locale.ROOT, "pipeline %s layers [0, %d) -> %s layers "
                + "[%d, %d)", stages.get(0).device(), split, stages.get(1).device(), split, layers));
    }

    private record Handoff(int batch, NDManager owner, NDList hidden, Throwable error) {
        static final Handoff END = new Handoff(-1, null, null, null);
    }

    @Override
    public List<float[][]> run(List<List<int[]>> batches, Listener listener) {
        float[][][] out = new float[batches.size()][][];
        BlockingQueue<Handoff> queue = new ArrayBlockingQueue<>(2);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?> producer = threads.submit(() -> {
                try (NoGrad g = NoGrad.enter()) {
                    for (int b = 0; b < batches.size() && listener.proceed(b); b++) {
                        NDManager scope = Engines.newManager();
                        try {
                            NDList hidden = front.forward(scope, batches.get(b), null);
                            queue.put(new Handoff(b, scope, hidden, null));
                        } catch (Throwable e) { // also an interrupted put: the hidden states were never handed off
                            scope.close();
                            throw e;
                        }
                    }
                    queue.put(Handoff.END);
                } catch (RuntimeException | Error e) {
                    queue.put(new Handoff(-1, null, null, e));
                }
                return null;
            });
            Future<?> consumer = threads.submit(() -> {
                try (NoGrad g = NoGrad.enter()) {
                    while (true) {
                        Handoff h = queue.take();
                        if (h.error() != null) {
                            throw new IllegalStateException("first pipeline stage failed: " + h.error().getMessage(),
                                    h.error());
                        }
                        if (h == Handoff.END) {
                            return null;
                        }
                        try (NDManager scope = Engines.newManager()) {
                            for (NDArray a : h.hidden()) {
                                a.attach(scope);
                            }
                            h.owner().close();
                            NDList result = back.forward(scope, batches.get(h.batch()), h.hidden());
                            out[h.batch()] = Inference.rows(result.get(0));
                        }
                        listener.done(h.batch(), Inference.tokens(batches.get(h.batch())));
                    }
                }
            });
            try {
                consumer.get();
            } catch (ExecutionException e) {
                producer.cancel(true);
                throw e;
            }
            producer.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new IllegalStateException("pipelined inference failed: " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("pipelined inference interrupted", e);
        } finally {
            Inference.stop(threads);
            drain(queue); // after the threads stopped, so nothing is handed off behind it
        }
        return Arrays.asList(out);
    }

    private static void drain(BlockingQueue<Handoff> queue) {
        for (Handoff h = queue.poll(); h != null; h = queue.poll()) {
            if (h.owner() != null) {
                h.owner().close();
            }
        }
    }

    @Override
    public String describe() {
        return description;
    }
}
