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
 * The Qwen2 decoder (Qwen2, Qwen2.5), step for step as transformers' {@code Qwen2Model} with eager attention:
 *
 * <pre>
 * h = embed_tokens(ids)
 * for each layer:
 *     h = h + self_attn(input_layernorm(h))       q, k, v projections with biases
 *     h = h + mlp(post_attention_layernorm(h))
 * h = norm(h)
 * </pre>
 *
 * Llama's block with biases on q_proj, k_proj and v_proj (not o_proj, not the MLP): RMSNorm scales by {@code w},
 * grouped-query attention with RoPE, scores scaled by {@code head_dim^-0.5}, causal, and limited to the sliding
 * window on the layers config.json marks as sliding (none unless use_sliding_window); the MLP is
 * {@code down_proj(silu(gate_proj(x)) * up_proj(x))}.
 */
public final class Qwen2 extends StackedDecoder<Qwen2Config, Qwen2.Layer> {

    /** One Qwen2DecoderLayer. The arrays live on {@code device}. */
    public record Layer(Qwen2Config config, int index, Device device, RmsNorm inputLayernorm, LoraLinear qProj,
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

        /** Qwen2Attention.forward (eager) for {@code x = input_layernorm(h)}. */
        private NDArray selfAttn(NDArray x, Positions positions, boolean training) {
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            int d = config.headDim();
            NDArray q = positions.rotateQueries(qProj.forward(x, training).reshape(b, t, config.numAttentionHeads(), d));
            NDArray k = positions.rotateKeys(kProj.forward(x, training).reshape(b, t, config.numKeyValueHeads(), d));
            NDArray v = vProj.forward(x, training).reshape(b, t, config.numKeyValueHeads(), d);
            NDArray o = Attention.grouped(q, k, v, positions, config.isSliding(index), null);
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

    private Qwen2(Qwen2Config config, NDArray embedTokens, List<Layer> layers, RmsNorm norm) {
        super(config, embedTokens, layers, norm, new Rope(config.ropeTheta(), config.headDim(), config.ropeScaling()));
    }

    /** Tensor names and shapes of the decoder in a transformers checkpoint (without the head). */
    static Map<String, long[]> tensorShapes(Qwen2Config c) {
        long h = c.hiddenSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[] {h});
            Shapes.linear(m, p + "self_attn.q_proj", c.qDim(), h, true);
            Shapes.linear(m, p + "self_attn.k_proj", c.kvDim(), h, true);
            Shapes.linear(m, p + "self_attn.v_proj", c.kvDim(), h, true);
            Shapes.linear(m, p + "self_attn.o_proj", h, c.qDim(), false);
            m.put(p + "post_attention_layernorm.weight", new long[] {h});
            Shapes.linear(m, p + "mlp.gate_proj", c.intermediateSize(), h, false);
            Shapes.linear(m, p + "mlp.up_proj", c.intermediateSize(), h, false);
            Shapes.linear(m, p + "mlp.down_proj", h, c.intermediateSize(), false);
        }
        m.put("model.norm.weight", new long[] {h});
        return m;
    }

    static Qwen2 build(Qwen2Config c, WeightSource w) throws IOException {
        double eps = c.rmsNormEps();
        NDArray embed = w.load("model.embed_tokens.weight", -1);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new Layer(c, i, w.device(i), w.norm(p + "input_layernorm", i, eps, false),
                    w.linear(p + "self_attn.q_proj", i, true), w.linear(p + "self_attn.k_proj", i, true),
                    w.linear(p + "self_attn.v_proj", i, true), w.linear(p + "self_attn.o_proj", i, false),
                    w.norm(p + "post_attention_layernorm", i, eps, false), w.linear(p + "mlp.gate_proj", i, false),
                    w.linear(p + "mlp.up_proj", i, false), w.linear(p + "mlp.down_proj", i, false)));
        }
        return new Qwen2(c, embed, layers, w.norm("model.norm", c.numHiddenLayers(), eps, false));
    }

    /** Queries scaled by {@code head_dim^-0.5}; the sliding window when use_sliding_window is on. */
    @Override
    public Positions positions(TokenBatch batch, NDManager parent, Device device, DataType dtype) {
        return positions(batch, (float) (1.0 / Math.sqrt(config().headDim())),
                config().slidingWindow(), parent, device, dtype);
    }
}
