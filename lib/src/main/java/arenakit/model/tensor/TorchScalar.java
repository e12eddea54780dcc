package arenakit.model.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scalars for arithmetic that autograd records. DJL's scalar arithmetic ({@code x.mul(2f)}, {@code x.div(t)})
 * makes the scalar from a Java direct buffer and closes it at once; autograd keeps the scalar of a mul, div or pow
 * for the backward pass, and once the garbage collector frees that buffer the backward reads freed memory
 * (non-finite or garbage gradients, out-of-range indices). A scalar from here lives in memory PyTorch owns.
 */
public final class TorchScalar {
    private TorchScalar() {}

    /** {@code value} as a 0-d array of {@code like}'s type on its device, in {@code like}'s manager. */
    public static NDArray of(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, like.getDataType()).toDevice(like.getDevice(), false);
    }
}
