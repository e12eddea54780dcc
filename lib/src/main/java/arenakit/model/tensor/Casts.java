package arenakit.model.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Type conversion that autograd records. DJL's {@code toType} converts under PyTorch's no-grad guard, so its result
 * is cut off from the graph: in a float16 model the float32 LoRA weights cast to float16 would get no gradient, and
 * nothing below the float32 head would either. With grad mode on, the conversion here is a copy into a new array of
 * the target type (PyTorch's {@code copy_} converts and is differentiable: the gradient flows back converted to the
 * source type); with grad mode off it is the plain {@code toType}.
 */
public final class Casts {
    private Casts() {}

    /** {@code x} as {@code type} (itself when it already is), on the autograd graph when grad mode is on. */
    public static NDArray toType(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        if (!JniUtils.isGradMode()) {
            return x.toType(type, false);
        }
        NDArray out = x.getManager().create(x.getShape(), type, x.getDevice());
        out.set(new NDIndex("..."), x);
        return out;
    }
}
