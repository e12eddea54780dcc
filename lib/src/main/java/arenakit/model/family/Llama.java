package arenakit.model.family;

import static arenakit.model.layers.Elementwise.consume;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.layers.Activation;
import arenakit.model.layers.Attention;
import arenakit.model.layers.Elementwise;
import arenakit.model.layers.GatedMlp;
import arenakit.model.layers.Positions;
import arenakit.model.layers.RmsNorm;
import arenakit.model.layers.Rope;
import arenakit.model.layers.TokenBatch;
import arenakit.model.lora.LoraLinear;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Llama decoder (Llama-3, Llama-3.1), step for step as transformers' {@code LlamaModel} with eager attention:
 *
 * <pre>
 * h = embed_tokens(ids)
 * for each layer:
 *     h = h + self_attn(input_layernorm(h))
 *     h = h + mlp(post_attention_layernorm(h))
 * h = norm(h)
 * </pre>
 *
 * RMSNorm scales by {@code w}; attention is grouped-query with RoPE (its frequencies scaled as rope_scaling says,
 * e.g. llama3), scores scaled by {@code head_dim^-0.5}, causal; the MLP is
 * {@code down_proj(silu(gate_proj(x)) * up_proj(x))}. Biases on the projections when attention_bias / mlp_bias say so.
 */
public final class Llama extends StackedDecoder<LlamaConfig, Llama.Layer> {

    /** One LlamaDecoderLayer. The arrays live on {@code device}. */
    public record Layer(LlamaConfig config, int index, Device device, RmsNorm inputLayernorm, LoraLinear qProj,
            LoraLinear kProj, LoraLinear vProj, LoraLinear oProj, RmsNorm postAttentionLayernorm,
            LoraLinear gateProj, LoraLinear upProj, LoraLinear downProj) implements DecoderLayer {

        @Override
        public NDArray forward(NDArray x, Positions positions, boolean training) {
            Elementwise ew = Elementwise.current();
            NDArray h = inputLayernorm.forward(x);
            h = consume(h, n -> selfAttn(n, positions, training));
            NDArray mid = ew.add(h, x);

            h = postAttentionLayernorm.forward(mid);
            h = consume(h, n -> GatedMlp.forward(n, gateProj, upProj, downProj, Activation.SILU, training));
            NDArray out = ew.add(h, mid);
            mid.close();
            return out;
        }

        /** LlamaAttention.forward (eager) for {@code x = input_layernorm(h)}. */
        private NDArray selfAttn(NDArray x, Positions positions, boolean training) {
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            int d = config.headDim();
            NDArray q = positions.rotateQueries(qProj.forward(x, training).reshape(b, t, config.numAttentionHeads(), d));
            NDArray k = positions.rotateKeys(kProj.forward(x, training).reshape(b, t, config.numKeyValueHeads(), d));
            NDArray v = vProj.forward(x, training).reshape(b, t, config.numKeyValueHeads(), d);
            NDArray o = Attention.grouped(q, k, v, positions, false, null);
            return consume(o, a -> oProj.forward(a, training));
        }

        @Override
        public List<LoraLinear> projections() {
            return List.of(qProj, kProj, vProj, oProj, gateProj, upProj, downProj);
        }

        @Override
        public Map<String, RmsNorm> norms() {
            return named("input_layernorm", inputLayernorm, "post_attention_layernorm", postAttentionLayernorm);
        }
    }

    private Llama(LlamaConfig config, NDArray embedTokens, List<Layer> layers, RmsNorm norm) {
        super(config, embedTokens, layers, norm, new Rope(config.ropeTheta(), config.headDim(), config.ropeScaling()));
    }

    /** Tensor names and shapes of the decoder in a transformers checkpoint (without the head). */
    static Map<String, long[]> tensorShapes(LlamaConfig c) {
        long h = c.hiddenSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[] {h});
            Shapes.linear(m, p + "self_attn.q_proj", c.qDim(), h, c.attentionBias());
            Shapes.linear(m, p + "self_attn.k_proj", c.kvDim(), h, c.attentionBias());
            Shapes.linear(m, p + "self_attn.v_proj", c.kvDim(), h, c.attentionBias());
            Shapes.linear(m, p + "self_attn.o_proj", h, c.qDim(), c.attentionBias());
            m.put(p + "post_attention_layernorm.weight", new long[] {h});
            Shapes.linear(m, p + "mlp.gate_proj", c.intermediateSize(), h, c.mlpBias());
            Shapes.linear(m, p + "mlp.up_proj", c.intermediateSize(), h, c.mlpBias());
            Shapes.linear(m, p + "mlp.down_proj", h, c.intermediateSize(), c.mlpBias());
        }
        m.put("model.norm.weight", new long[] {h});
        return m;
    }

    static Llama build(LlamaConfig c, WeightSource w) throws IOException {
        double eps = c.rmsNormEps();
        boolean attn = c.attentionBias();
        boolean mlp = c.mlpBias();
        NDArray embed = w.load("model.embed_tokens.weight", -1);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new Layer(c, i, w.device(i), w.norm(p + "input_layernorm", i, eps, false),
                    w.linear(p + "self_attn.q_proj", i, attn), w.linear(p + "self_attn.k_proj", i, attn),
                    w.linear(p + "self_attn.v_proj", i, attn), w.linear(p + "self_attn.o_proj", i, attn),
                    w.norm(p + "post_attention_layernorm", i, eps, false), w.linear(p + "mlp.gate_proj", i, mlp),
                    w.linear(p + "mlp.up_proj", i, mlp), w.linear(p + "mlp.down_proj", i, mlp)));
        }
        return new Llama(c, embed, layers, w.norm("model.norm", c.numHiddenLayers(), eps, false));
    }

    /** Queries scaled by {@code head_dim^-0.5}; no sliding window. */
    @Override
    public Positions positions(TokenBatch batch, NDManager parent, Device device, DataType dtype) {
        return positions(batch, (float) (1.0 / Math.sqrt(config().headDim())), null, parent,
                device, dtype);
    }
}
