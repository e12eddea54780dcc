package arenakit.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/** Small helpers shared by the batch runners. */
final class Inference {
    private Inference() {}

    /**
     * Stops a runner's threads and waits until they have ended: the caller may close the models next, and a
     * thread still inside a forward pass would then read freed weights. The wait is one batch at most: the threads
     * take no new batch once stopped, and a blocked hand-off is interrupted.
     */
    static void stop(ExecutorService threads) {
        threads.shutdownNow();
        boolean interrupted = false;
        while (true) {
            try {
                if (threads.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    static long tokens(List<int[]> batch) {
        long n = 0;
        for (int[] s : batch) {
            n += s.length;
        }
        return n;
    }

    /** Logits {@code [rows, classes]} (any dtype, any device) as Java rows. */
    static float[][] rows(NDArray logits) {
        int n = Math.toIntExact(logits.getShape().get(0));
        int c = Math.toIntExact(logits.getShape().get(1));
        float[] flat = logits.toType(DataType.FLOAT32, false).toFloatArray();
        float[][] out = new float[n][c];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * c, out[i], 0, c);
        }
        return out;
    }
}
