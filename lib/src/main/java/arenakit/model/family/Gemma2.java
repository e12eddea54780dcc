package arenakit.model.family;

import static arenakit.model.layers.Elementwise.consume;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.layers.Attention;
import arenakit.model.layers.Elementwise;
import arenakit.model.layers.GatedMlp;
import arenakit.model.layers.Positions;
import arenakit.model.layers.RmsNorm;
import arenakit.model.layers.Rope;
import arenakit.model.layers.TokenBatch;
import arenakit.model.lora.LoraLinear;
import arenakit.model.tensor.HalfFloats;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Gemma-2 decoder, step for step as transformers' {@code Gemma2Model} with eager attention. Names follow the HF
 * modules so a parity bug can be found by reading:
 *
 * <pre>
 * h = embed_tokens(ids) * sqrt(hidden)
 * for each layer:
 *     h = h + post_attention_layernorm(self_attn(input_layernorm(h)))
 *     h = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h)))
 * h = norm(h)
 * </pre>
 *
 * RMSNorm scales by {@code (1 + w)}; attention is grouped-query with RoPE, scores scaled by
 * {@code query_pre_attn_scalar^-0.5}, soft-capped {@code cap * tanh(s / cap)}, causal, and limited to a sliding
 * window on the local (even) layers; the MLP is {@code down_proj(gelu_tanh(gate_proj(x)) * up_proj(x))}.
 */
public final class Gemma2 extends StackedDecoder<Gemma2Config, Gemma2.Layer> {

    /** One Gemma2DecoderLayer. The arrays live on {@code device}. */
    public record Layer(Gemma2Config config, int index, Device device, RmsNorm inputLayernorm, LoraLinear qProj,
            LoraLinear kProj, LoraLinear vProj, LoraLinear oProj, RmsNorm postAttentionLayernorm,
            RmsNorm preFeedforwardLayernorm, LoraLinear gateProj, LoraLinear upProj, LoraLinear downProj,
            RmsNorm postFeedforwardLayernorm) implements DecoderLayer {

        @Override
        public NDArray forward(NDArray x, Positions positions, boolean training) {
            Elementwise ew = Elementwise.current();
            NDArray h = inputLayernorm.forward(x);
            h = consume(h, n -> selfAttn(n, positions, training));
            h = consume(h, postAttentionLayernorm::forward);
            NDArray mid = ew.add(h, x);

            h = preFeedforwardLayernorm.forward(mid);
            h = consume(h, n -> GatedMlp.forward(n, gateProj, upProj, downProj, config.hiddenActivation(), training));
            h = consume(h, postFeedforwardLayernorm::forward);
            NDArray out = ew.add(h, mid);
            mid.close();
            return out;
        }

        /** Gemma2Attention.forward (eager) for {@code x = input_layernorm(h)}. */
        private NDArray selfAttn(NDArray x, Positions positions, boolean training) {
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            int d = config.headDim();
            NDArray q = positions.rotateQueries(qProj.forward(x, training).reshape(b, t, config.numAttentionHeads(), d));
            NDArray k = positions.rotateKeys(kProj.forward(x, training).reshape(b, t, config.numKeyValueHeads(), d));
            NDArray v = vProj.forward(x, training).reshape(b, t, config.numKeyValueHeads(), d);
            Double cap = config.attnLogitSoftcapping();
            NDArray o = Attention.grouped(q, k, v, positions, config.isSliding(index),
                    cap == null ? null : cap.floatValue());
            return consume(o, a -> oProj.forward(a, training));
        }

        @Override
        public List<LoraLinear> projections() {
            return List.of(qProj, kProj, vProj, oProj, gateProj, upProj, downProj);
        }

        @Override
        public Map<String, RmsNorm> norms() {
            return named("input_layernorm", inputLayernorm, "post_attention_layernorm", postAttentionLayernorm,
                    "pre_feedforward_layernorm", preFeedforwardLayernorm, "post_feedforward_layernorm",
                    postFeedforwardLayernorm);
        }
    }

    private Gemma2(Gemma2Config config, NDArray embedTokens, List<Layer> layers, RmsNorm norm) {
        super(config, embedTokens, layers, norm, new Rope(config.ropeTheta(), config.headDim(), config.ropeScaling()));
    }

    /** Tensor names and shapes of the decoder in a transformers checkpoint (without the head). */
    static Map<String, long[]> tensorShapes(Gemma2Config c) {
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
            m.put(p + "pre_feedforward_layernorm.weight", new long[] {h});
            Shapes.linear(m, p + "mlp.gate_proj", c.intermediateSize(), h, false);
            Shapes.linear(m, p + "mlp.up_proj", c.intermediateSize(), h, false);
            Shapes.linear(m, p + "mlp.down_proj", h, c.intermediateSize(), false);
            m.put(p + "post_feedforward_layernorm.weight", new long[] {h});
        }
        m.put("model.norm.weight", new long[] {h});
        return m;
    }

    static Gemma2 build(Gemma2Config c, WeightSource w) throws IOException {
        double eps = c.rmsNormEps();
        boolean bias = c.attentionBias();
        NDArray embed = w.load("model.embed_tokens.weight", -1);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new Layer(c, i, w.device(i), w.norm(p + "input_layernorm", i, eps, true),
                    w.linear(p + "self_attn.q_proj", i, bias), w.linear(p + "self_attn.k_proj", i, bias),
                    w.linear(p + "self_attn.v_proj", i, bias), w.linear(p + "self_attn.o_proj", i, bias),
                    w.norm(p + "post_attention_layernorm", i, eps, true),
                    w.norm(p + "pre_feedforward_layernorm", i, eps, true),
                    w.linear(p + "mlp.gate_proj", i, false), w.linear(p + "mlp.up_proj", i, false),
                    w.linear(p + "mlp.down_proj", i, false), w.norm(p + "post_feedforward_layernorm", i, eps, true)));
        }
        return new Gemma2(c, embed, layers, w.norm("model.norm", c.numHiddenLayers(), eps, true));
    }

    /** {@code [B, T]} int64 ids to {@code [B, T, H]}, scaled by sqrt(hidden) rounded to the compute type. */
    @Override
    public NDArray embed(NDArray ids) {
        NDArray x = super.embed(ids);
        float root = (float) Math.sqrt(config().hiddenSize());
        float normalizer = x.getDataType() == DataType.FLOAT16 ? HalfFloats.halfToFloat(HalfFloats.floatToHalf(root))
                : root;
        return Elementwise.current().mul(x, normalizer);
    }

    /** Queries scaled by {@code query_pre_attn_scalar^-0.5} (and {@code 1 / cap}: see {@link Attention}). */
    @Override
    public Positions positions(TokenBatch batch, NDManager parent, Device device, DataType dtype) {
        float scale = (float) (1.0 / Math.sqrt(config().queryPreAttnScalar()));
        if (config().attnLogitSoftcapping() != null) {
            scale /= config().attnLogitSoftcapping().floatValue();
        }
        return positions(batch, scale, config().slidingWindow(), parent, device, dtype);
    }
}
