package arenakit.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/**
 * The frozen base weight of a linear layer, {@code [out, in]}: a dense array in the compute type, or a quantized one
 * ({@code arenakit.model.quant.Int8Weight}: int8 codes with per-row scales, dequantized at use) under LoRA. The
 * adapter code sees only this interface; merging and PiSSA make a new weight of the same kind with {@link #plus}.
 */
public interface LinearWeight {

    /** {@code x W^T + bias} ({@code bias} may be null). */
    NDArray apply(NDArray x, NDArray bias);

    /**
     * W as a dense array of {@link #dataType()}: the weight itself for a dense weight (not a copy); for a quantized
     * one a new dequantized array the caller closes (see {@link #quantized()}).
     */
    NDArray dense();

    /**
     * {@code W + delta} ({@code delta} float32 {@code [out, in]}, not consumed) as a new weight of the same kind, on
     * the same manager; this one is left as it is. A quantized weight is requantized.
     */
    LinearWeight plus(NDArray delta);

    /** Whether the weight is stored quantized ({@link #dense()} then makes a new array). */
    default boolean quantized() {
        return false;
    }

    /** Bytes the weight occupies on its device (a quantized weight: its codes and scales). */
    long bytes();

    Shape shape();

    DataType dataType();

    /** The manager (and so the device) the weight lives in; adapters on it go there too. */
    NDManager manager();

    void close();

    /** A dense weight over {@code w} (which it then owns). */
    static LinearWeight dense(NDArray w) {
        return new Dense(w);
    }

    /** The plain array. */
    record Dense(NDArray weight) implements LinearWeight {
        @Override
        public NDArray apply(NDArray x, NDArray bias) {
            return Linear.linear(x, weight, bias).singletonOrThrow();
        }

        @Override
        public NDArray dense() {
            return weight;
        }

        @Override
        public LinearWeight plus(NDArray delta) {
            NDArray sum;
            try (NDScope scope = new NDScope()) {
                sum = weight.stopGradient().add(delta.toType(weight.getDataType(), false));
                NDScope.unregister(sum);
            }
            return new Dense(sum);
        }

        @Override
        public long bytes() {
            return weight.size() * weight.getDataType().getNumOfBytes();
        }

        @Override
        public Shape shape() {
            return weight.getShape();
        }

        @Override
        public DataType dataType() {
            return weight.getDataType();
        }

        @Override
        public NDManager manager() {
            return weight.getManager();
        }

        @Override
        public void close() {
            weight.close();
        }
    }
}
