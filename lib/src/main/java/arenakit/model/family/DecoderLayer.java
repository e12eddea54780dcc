package arenakit.model.family;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import arenakit.model.layers.Positions;
import arenakit.model.layers.RmsNorm;
import arenakit.model.lora.LoraLinear;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One decoder block of any family: its forward on its own, its projections and tensors. */
public interface DecoderLayer {

    int index();

    /** Where the layer's weights live (its input must be there too). */
    Device device();

    /**
     * The block's forward ({@code *DecoderLayer.forward}) on {@code x [B, T, H]}, with the batch's positions and
     * masks on this layer's device; {@code x} is not closed. Allocates in the current NDScope.
     */
    NDArray forward(NDArray x, Positions positions, boolean training);

    /** The linear layers (q, k, v, o, gate, up, down), in checkpoint order. */
    List<LoraLinear> projections();

    /** The block's RMSNorms by module name ({@code input_layernorm}, ...). */
    Map<String, RmsNorm> norms();

    /** Every tensor of the block by its checkpoint name: the norms' weights, then the projections'. */
    default Map<String, NDArray> tensors() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        norms().forEach((name, norm) -> m.put("model.layers." + index() + "." + name + ".weight", norm.weight()));
        projections().forEach(p -> m.putAll(p.tensors()));
        return m;
    }

    /** The projection named {@code name} (e.g. {@code q_proj}). */
    default LoraLinear projection(String name) {
        return projections().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("layer " + index() + " has no projection " + name));
    }
}
