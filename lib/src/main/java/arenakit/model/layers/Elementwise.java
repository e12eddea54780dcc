package arenakit.model.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import arenakit.model.tensor.TorchScalar;
import java.util.function.UnaryOperator;

/**
 * Elementwise steps on temporaries the forward owns. Without autograd they run in place: on a CPU a fresh
 * allocation (page faults, cold cache) costs about as much as the arithmetic, and a gated MLP would otherwise
 * allocate several arrays as wide as its intermediate size. With autograd recording they allocate, as the graph may
 * need the old values. Either way the first argument is used up (reused or closed).
 */
public record Elementwise(boolean inPlace) {
    private static final Elementwise IN_PLACE = new Elementwise(true);
    private static final Elementwise FUNCTIONAL = new Elementwise(false);

    /** In place unless this thread records autograd. */
    public static Elementwise current() {
        return JniUtils.isGradMode() ? FUNCTIONAL : IN_PLACE;
    }

    public NDArray mul(NDArray a, NDArray b) {
        return inPlace ? a.muli(b) : consume(a, x -> x.mul(b));
    }

    public NDArray mul(NDArray a, float b) {
        return inPlace ? a.muli(b) : consume(a, x -> x.mul(TorchScalar.of(x, b)));
    }

    public NDArray add(NDArray a, NDArray b) {
        return inPlace ? a.addi(b) : consume(a, x -> x.add(b));
    }

    public NDArray add(NDArray a, float b) {
        return inPlace ? a.addi(b) : consume(a, x -> x.add(b));
    }

    /**
     * Applies {@code op} and closes its input: keeps only the arrays still needed alive inside a layer (the
     * autograd graph holds its own references, so this is safe while training too).
     */
    public static NDArray consume(NDArray in, UnaryOperator<NDArray> op) {
        NDArray out = op.apply(in);
        if (out != in) {
            in.close();
        }
        return out;
    }
}
