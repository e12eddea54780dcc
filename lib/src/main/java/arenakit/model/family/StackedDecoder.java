package arenakit.model.family;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import arenakit.model.layers.Positions;
import arenakit.model.layers.RmsNorm;
import arenakit.model.layers.Rope;
import arenakit.model.layers.TokenBatch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the three families' decoders have in common around their layers: {@code embed_tokens}, the stack of
 * layers, the final {@code norm}, and the RoPE frequencies of the config. A family adds its layer's forward, its
 * tensor names, and the numbers of its attention ({@link #positions}).
 */
abstract class StackedDecoder<C extends DecoderConfig, L extends DecoderLayer> implements Decoder {
    private final C config;
    private final NDArray embedTokens;
    private final List<L> layers;
    private final RmsNorm norm;
    private final float[] inverseFrequencies;

    StackedDecoder(C config, NDArray embedTokens, List<L> layers, RmsNorm norm, Rope rope) {
        this.config = config;
        this.embedTokens = embedTokens;
        this.layers = List.copyOf(layers);
        this.norm = norm;
        this.inverseFrequencies = rope.inverseFrequencies();
    }

    @Override
    public C config() {
        return config;
    }

    @Override
    public List<L> layers() {
        return layers;
    }

    /** {@code embed_tokens(ids)}: the rows of the embedding (gradients flow to it when it is trained). */
    @Override
    public NDArray embed(NDArray ids) {
        return embedTokens.getNDArrayInternal().embedding(ids, embedTokens, SparseFormat.DENSE).singletonOrThrow();
    }

    @Override
    public NDArray finalNorm(NDArray x) {
        return norm.forward(x);
    }

    /** The positions of {@code batch} with this decoder's RoPE, queries scaled by {@code queryScale}. */
    Positions positions(TokenBatch batch, float queryScale, Integer slidingWindow, NDManager parent, Device device,
            DataType dtype) {
        return new Positions(batch, inverseFrequencies, queryScale, slidingWindow, parent, device, dtype);
    }

    /** Norms by module name in the given order: {@code named("input_layernorm", a, "post_attention_layernorm", b)}. */
    static Map<String, RmsNorm> named(Object... nameThenNorm) {
        Map<String, RmsNorm> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenNorm.length; i += 2) {
            m.put((String) nameThenNorm[i], (RmsNorm) nameThenNorm[i + 1]);
        }
        return m;
    }

    @Override
    public Map<String, NDArray> tensors() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", embedTokens);
        layers.forEach(l -> m.putAll(l.tensors()));
        m.put("model.norm.weight", norm.weight());
        return m;
    }
}
