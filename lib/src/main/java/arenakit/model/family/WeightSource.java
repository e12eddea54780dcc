package arenakit.model.family;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import arenakit.model.layers.RmsNorm;
import arenakit.model.lora.LinearWeight;
import arenakit.model.lora.LoraLinear;
import java.io.IOException;

/**
 * Where a decoder's tensors come from while it is built (a checkpoint), and where each goes: a tensor of layer
 * {@code i} on that layer's device, the embedding ({@code layer < 0}) with the first layers, the final norm
 * ({@code layer >= num_hidden_layers}) with the last.
 */
public interface WeightSource {

    /** The tensor {@code name}, in the compute type, on the device of {@code layer}. */
    NDArray load(String name, int layer) throws IOException;

    /** The device of {@code layer}. */
    Device device(int layer);

    /** The linear layer at {@code module} ({@code <module>.weight}, and {@code <module>.bias} when {@code bias}). */
    default LoraLinear linear(String module, int layer, boolean bias) throws IOException {
        return new LoraLinear(module, layer, linearWeight(module, layer),
                bias ? load(module + ".bias", layer) : null);
    }

    /** The base weight of the linear layer at {@code module}: dense in the compute type, unless a source quantizes. */
    default LinearWeight linearWeight(String module, int layer) throws IOException {
        return LinearWeight.dense(load(module + ".weight", layer));
    }

    /** The RMSNorm at {@code module}. */
    default RmsNorm norm(String module, int layer, double eps, boolean unitOffset) throws IOException {
        return new RmsNorm(load(module + ".weight", layer), (float) eps, unitOffset);
    }
}
