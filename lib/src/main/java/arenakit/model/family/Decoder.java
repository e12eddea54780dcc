package arenakit.model.family;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.layers.Positions;
import arenakit.model.layers.TokenBatch;
import arenakit.model.lora.LoraLinear;
import java.util.List;
import java.util.Map;

/**
 * What every decoder family offers, over arrays of shape {@code [batch, tokens, hidden]}: the embedding, the layers
 * (each callable on its own), the final norm, the per-batch positions and masks, and its tensors by checkpoint name.
 * The classifier composes these into a forward pass over one or several devices.
 */
public interface Decoder {

    DecoderConfig config();

    /** {@code [B, T]} int64 ids to {@code [B, T, H]} hidden states (on the embedding's device). */
    NDArray embed(NDArray ids);

    /** The decoder layers in order; layer {@code i} lives on its {@link DecoderLayer#device()}. */
    List<? extends DecoderLayer> layers();

    /** The final {@code norm} on hidden states of any leading shape. */
    NDArray finalNorm(NDArray x);

    /** RoPE tables and masks of {@code batch} for the layers on {@code device}, owned by a sub-manager of {@code parent}. */
    Positions positions(TokenBatch batch, NDManager parent, Device device, DataType dtype);

    /** Every tensor by its checkpoint name, in checkpoint order (embedding, layers, final norm). */
    Map<String, NDArray> tensors();

    /** Every projection of every layer (the LoRA targets), in order. */
    default List<LoraLinear> projections() {
        return layers().stream().flatMap(l -> l.projections().stream()).toList();
    }
}
