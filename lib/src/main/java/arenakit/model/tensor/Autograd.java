package arenakit.model.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

/**
 * The autograd calls the training code makes directly, without DJL's GradientCollector (of which only one may be
 * open in a process, while data-parallel replicas run backward passes on their own threads): grad mode per thread,
 * backward from a scalar or with a given output gradient, and detached leaves whose gradient is read afterwards
 * (the input of a recomputed layer in activation checkpointing).
 */
public final class Autograd {
    private Autograd() {}

    /** Runs {@code body} with grad mode on for this thread, then restores the thread's setting. */
    public static <T> T recording(Supplier<T> body) {
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(before);
        }
    }

    /** {@code loss.backward()} of a scalar: gradients accumulate into the leaves that require them. */
    public static void backward(NDArray loss) {
        try (NDArray ones = loss.onesLike()) {
            backward(loss, ones);
        }
    }

    /** {@code out.backward(gradient)}: the vector-Jacobian product of the graph behind {@code out}. */
    public static void backward(NDArray out, NDArray gradient) {
        JniUtils.backward((PtNDArray) out, (PtNDArray) gradient, false, false);
    }

    /** {@code x} detached from any graph, as a new leaf that requires a gradient (sharing x's memory). */
    public static NDArray leaf(NDArray x) {
        NDArray leaf = x.stopGradient();
        leaf.setRequiresGradient(true);
        return leaf;
    }
}
