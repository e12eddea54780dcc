package arenakit.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;

/** Small helpers shared by the batch runners. */
final class Inference {
    private Inference() {}

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
