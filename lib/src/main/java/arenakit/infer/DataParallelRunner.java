package arenakit.infer;

import arenakit.model.SequenceClassifier;
import arenakit.model.tensor.NoGrad;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One full model per device (the public Kaggle notebook's layout: a model copy on each T4), each on its own
 * thread taking the next batch from a shared counter, so a device that finishes early simply takes more.
 * The caller owns (and closes) the replicas.
 */
public final class DataParallelRunner implements BatchRunner {
    private final List<SequenceClassifier> replicas;
    private final List<String> devices;

    public DataParallelRunner(List<SequenceClassifier> replicas, List<String> devices) {
        if (replicas.size() < 2) {
            throw new IllegalArgumentException("data-parallel inference needs at least two model replicas");
        }
        this.replicas = List.copyOf(replicas);
        this.devices = List.copyOf(devices);
    }

    @Override
    public List<float[][]> run(List<List<int[]>> batches, Listener listener) {
        float[][][] out = new float[batches.size()][][];
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(replicas.size());
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (SequenceClassifier model : replicas) {
                workers.add(pool.submit(() -> {
                    try (NoGrad g = NoGrad.enter()) {
                        for (int b = next.getAndIncrement(); b < batches.size(); b = next.getAndIncrement()) {
                            if (!listener.proceed(b)) {
                                next.set(batches.size()); // no device takes a later batch either
                                break;
                            }
                            out[b] = SingleDeviceRunner.logits(model, batches.get(b));
                            listener.done(b, Inference.tokens(batches.get(b)));
                        }
                    } catch (RuntimeException | Error e) {
                        next.set(batches.size()); // the other devices stop after their current batch
                        throw e;
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get();
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("inference failed on a device: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("inference interrupted", e);
        } finally {
            next.set(batches.size());
            Inference.stop(pool);
        }
        return Arrays.asList(out);
    }

    @Override
    public String describe() {
        return "data parallel, one model per device " + devices;
    }
}
