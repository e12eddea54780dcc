package arenakit.model.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Type and device conversions that autograd records. DJL's {@code toType} and {@code toDevice} convert under
 * PyTorch's no-grad guard, so their result is cut off from the graph: in a float16 model the float32 LoRA weights
 * cast to float16 would get no gradient, nothing below the float32 head would either, and a model whose layers are
 * split over two GPUs would train only the layers on the last one. With grad mode on, the conversion here is a copy
 * into a new array of the target type or device (PyTorch's {@code copy_} converts and is differentiable: the
 * gradient flows back converted to the source type, onto the source device); with grad mode off, or for an array
 * that needs no gradient, it is the plain conversion.
 */
public final class Casts {
    private Casts() {}

    private static final NDIndex ALL = new NDIndex("...");

    /** {@code x} as {@code type} (itself when it already is), on the autograd graph when grad mode is on. */
    public static NDArray toType(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        if (!JniUtils.isGradMode()) {
            return x.toType(type, false);
        }
        NDArray out = x.getManager().create(x.getShape(), type, x.getDevice());
        out.set(ALL, x);
        return out;
    }

    /**
     * {@code x} on {@code device} (itself when it is there), on the autograd graph when grad mode is on: the device
     * move between the stages of a model split over devices. (Whether {@code x} is on the graph cannot be asked:
     * DJL's {@code hasGradient()} is false for every array autograd computed, so under grad mode it always copies.)
     */
    public static NDArray toDevice(NDArray x, Device device) {
        if (x.getDevice().equals(device)) {
            return x;
        }
        if (!JniUtils.isGradMode()) {
            return x.toDevice(device, false);
        }
        return copyTo(x, device);
    }

    /** A copy of {@code x} on {@code device} (which may be its own) that autograd records. */
    public static NDArray copyTo(NDArray x, Device device) {
        NDArray out = x.getManager().create(x.getShape(), x.getDataType(), device);
        out.set(ALL, x);
        return out;
    }
}
