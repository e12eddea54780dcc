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

        /**
         * Asked before a batch starts (from any thread): false stops the run, so it takes no further batch (a time
         * budget's hard limit, or a re-plan of the rows still to do). The batches in flight still finish.
         */
        default boolean proceed(int batch) {
            return true;
        }
    }

    /**
     * Logits {@code [rows][classes]} of each batch; {@code null} for a batch that did not run because the listener
     * declined it (or one declined before it).
     */
    List<float[][]> run(List<List<int[]>> batches, Listener listener);

    /** Human-readable description for logs ("pipeline cpu() -> cpu(), layers 0-1 | 2-3"). */
    String describe();

    @Override
    default void close() {}
}
