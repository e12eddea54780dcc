package arenakit.model.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scalars for arithmetic that autograd records. DJL's scalar arithmetic ({@code x.mul(2f)}, {@code x.div(t)})
 * makes the scalar from a Java direct buffer and closes it at once; autograd keeps the scalar of a mul, div or pow
 * for the backward pass, and once the garbage collector frees that buffer the backward reads freed memory
 * (non-finite or garbage gradients, out-of-range indices). A scalar from here lives in memory PyTorch owns.
 *
 * <p>The scalars are constants of the model (eps, scales, caps, widths) and of the losses, so each (value, type,
 * device) is made once and shared: a training step would otherwise allocate and fill thousands of 0-d arrays.
 * Shared scalars are never closed by their users (they belong to no scope); beyond {@link #CACHED} distinct values
 * a scalar is made in {@code like}'s manager as before.
 */
public final class TorchScalar {
    private TorchScalar() {}

    private record Key(Device device, DataType type, int bits) {}

    private static final int CACHED = 4096;
    private static final Map<Key, NDArray> SCALARS = new ConcurrentHashMap<>();
    private static final Map<Device, NDManager> MANAGERS = new ConcurrentHashMap<>();

    /** {@code value} as a 0-d array of {@code like}'s type on its device; shared, do not close it. */
    public static NDArray of(NDArray like, float value) {
        Key key = new Key(like.getDevice(), like.getDataType(), Float.floatToIntBits(value));
        NDArray cached = SCALARS.get(key);
        if (cached != null) {
            return cached;
        }
        if (SCALARS.size() >= CACHED) {
            return like.getManager().full(new Shape(), value, like.getDataType(), like.getDevice());
        }
        return SCALARS.computeIfAbsent(key, k -> {
            NDManager m = MANAGERS.computeIfAbsent(k.device(), d -> like.getManager().getEngine().newBaseManager(d));
            NDArray a = m.full(new Shape(), value, k.type(), k.device());
            NDScope.unregister(a); // owned by the shared manager, not by the scope that happens to be open
            return a;
        });
    }
}
