package arenakit.infer;

import java.util.List;

/**
 * Runs a model over micro-batches of token-id sequences and returns their logits. Implementations decide where
 * the work happens: one device, two devices each with a full model, or two devices each with half the layers.
 * Results come back in batch order whatever order the work finished in.
 */
public interface BatchRunner extends AutoCloseable {

    /** Told when a batch is done (from any thread; implementations of this must be thread-safe). */
    @FunctionalInterface
    interface Listener {
        void done(int batch, long tokens);
    }

    /** Logits {@code [rows][classes]} of each batch. */
    List<float[][]> run(List<List<int[]>> batches, Listener listener);

    /** Human-readable description for logs ("pipeline cpu() -> cpu(), layers 0-1 | 2-3"). */
    String describe();

    @Override
    default void close() {}
}
