package arenakit.model.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import arenakit.model.tensor.Casts;
import arenakit.model.tensor.TorchScalar;

/**
 * RMSNorm over the last axis, {@code x * rsqrt(mean(x^2) + eps)} with the statistic in float32, then scaled by
 * {@code (1 + w)} (Gemma, whose weights start at 0) or by {@code w} (Llama, Qwen2: weights start at 1).
 *
 * @param unitOffset whether the scale is {@code 1 + w}
 */
public record RmsNorm(NDArray weight, float eps, boolean unitOffset) {
    private static final int[] LAST_AXIS = {-1};

    public NDArray forward(NDArray x) {
        NDArray x32 = Casts.toType(x, DataType.FLOAT32);
        long width = x.getShape().get(x.getShape().dimension() - 1);
        // mean(x^2) as |x|^2 / width: no temporary as large as x
        NDArray inv = x32.norm(2, LAST_AXIS, true).square().div(TorchScalar.of(x32, width)).add(eps)
                .pow(TorchScalar.of(x32, -0.5f));
        if (x32 != x) {
            inv = Casts.toType(inv, x.getDataType());
        }
        return Elementwise.current().mul(x.mul(inv), unitOffset ? weight.add(1f) : weight);
    }
}
