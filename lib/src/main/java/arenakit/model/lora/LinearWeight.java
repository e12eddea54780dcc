package arenakit.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/**
 * The frozen base weight of a linear layer, {@code [out, in]}: today a dense array in the compute type; the seam
 * where a quantized weight (int8 with scales, dequantized or fused at use) would plug in under LoRA.
 */
public interface LinearWeight {

    /** {@code x W^T + bias} ({@code bias} may be null). */
    NDArray apply(NDArray x, NDArray bias);

    /** W as a dense array of {@link #dataType()}: the weight itself for a dense weight (not a copy). */
    NDArray dense();

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
