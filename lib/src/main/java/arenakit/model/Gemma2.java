package arenakit.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The Gemma-2 decoder, step for step as transformers' {@code Gemma2Model} with eager attention, over DJL arrays of
 * shape {@code [batch, tokens, hidden]}. Names follow the HF modules so a parity bug can be found by reading:
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
 * window on even layers; the MLP is {@code down_proj(gelu_tanh(gate_proj(x)) * up_proj(x))}.
 * Loading lives elsewhere ({@link Gemma2Classifier}); this class only holds weights and does the math.
 */
public final class Gemma2 {

    /** One decoder block. The arrays live on {@code device}. */
    public record Layer(int index, Device device, NDArray inputLayernorm, LoraLinear qProj, LoraLinear kProj,
            LoraLinear vProj, LoraLinear oProj, NDArray postAttentionLayernorm, NDArray preFeedforwardLayernorm,
            LoraLinear gateProj, LoraLinear upProj, LoraLinear downProj, NDArray postFeedforwardLayernorm) {

        public List<LoraLinear> projections() {
            return List.of(qProj, kProj, vProj, oProj, gateProj, upProj, downProj);
        }

        /** The four RMSNorm weights by their HF tensor names. */
        public Map<String, NDArray> norms() {
            String p = "model.layers." + index + ".";
            Map<String, NDArray> m = new LinkedHashMap<>();
            m.put(p + "input_layernorm.weight", inputLayernorm);
            m.put(p + "post_attention_layernorm.weight", postAttentionLayernorm);
            m.put(p + "pre_feedforward_layernorm.weight", preFeedforwardLayernorm);
            m.put(p + "post_feedforward_layernorm.weight", postFeedforwardLayernorm);
            return m;
        }
    }

    private static final float GELU_C1 = (float) (2 * Math.sqrt(2 / Math.PI));
    private static final float GELU_C2 = (float) (2 * Math.sqrt(2 / Math.PI) * 0.044715);
    private static final int[] LAST_AXIS = {-1};

    private final Gemma2Config config;
    private final NDArray embedTokens;
    private final List<Layer> layers;
    private final NDArray norm;

    Gemma2(Gemma2Config config, NDArray embedTokens, List<Layer> layers, NDArray norm) {
        this.config = config;
        this.embedTokens = embedTokens;
        this.layers = List.copyOf(layers);
        this.norm = norm;
    }

    /** Tensor names and shapes of the decoder in a transformers checkpoint (without the head). */
    public static Map<String, long[]> tensorShapes(Gemma2Config c) {
        long h = c.hiddenSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[] {h});
            m.put(p + "self_attn.q_proj.weight", new long[] {c.qDim(), h});
            m.put(p + "self_attn.k_proj.weight", new long[] {c.kvDim(), h});
            m.put(p + "self_attn.v_proj.weight", new long[] {c.kvDim(), h});
            m.put(p + "self_attn.o_proj.weight", new long[] {h, c.qDim()});
            m.put(p + "post_attention_layernorm.weight", new long[] {h});
            m.put(p + "pre_feedforward_layernorm.weight", new long[] {h});
            m.put(p + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), h});
            m.put(p + "mlp.up_proj.weight", new long[] {c.intermediateSize(), h});
            m.put(p + "mlp.down_proj.weight", new long[] {h, c.intermediateSize()});
            m.put(p + "post_feedforward_layernorm.weight", new long[] {h});
        }
        m.put("model.norm.weight", new long[] {h});
        return m;
    }

    public Gemma2Config config() {
        return config;
    }

    public NDArray embedTokens() {
        return embedTokens;
    }

    public List<Layer> layers() {
        return layers;
    }

    public NDArray norm() {
        return norm;
    }

    /** {@code [B, T]} int64 ids to {@code [B, T, H]}, scaled by sqrt(hidden) rounded to the compute type. */
    public NDArray embed(NDArray ids) {
        NDArray x = embedTokens.getNDArrayInternal().embedding(ids, embedTokens, SparseFormat.DENSE)
                .singletonOrThrow();
        float root = (float) Math.sqrt(config.hiddenSize());
        float normalizer = x.getDataType() == DataType.FLOAT16 ? HalfFloats.halfToFloat(HalfFloats.floatToHalf(root))
                : root;
        return Elementwise.current().mul(x, normalizer);
    }

    /** One decoder layer (Gemma2DecoderLayer.forward). */
    public NDArray decoderLayer(Layer l, NDArray x, Positions pos, boolean training) {
        Elementwise ew = Elementwise.current();
        NDArray residual = x;
        NDArray h = rmsNorm(x, l.inputLayernorm());
        h = consume(h, n -> selfAttention(l, n, pos, training));
        h = consume(h, a -> rmsNorm(a, l.postAttentionLayernorm()));
        NDArray mid = ew.add(h, residual);

        h = rmsNorm(mid, l.preFeedforwardLayernorm());
        h = consume(h, n -> mlp(l, n, training));
        h = consume(h, m -> rmsNorm(m, l.postFeedforwardLayernorm()));
        NDArray out = ew.add(h, mid);
        mid.close();
        return out;
    }

    /** Gemma2Attention.forward (eager) for {@code x = input_layernorm(h)}. */
    NDArray selfAttention(Layer l, NDArray x, Positions pos, boolean training) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();

        NDArray q = consume(l.qProj().forward(x, training).reshape(b, t, heads, d), p -> rope(p, pos.cosQ, pos.sinQ));
        NDArray k = consume(l.kProj().forward(x, training).reshape(b, t, kvHeads, d), p -> rope(p, pos.cosK, pos.sinK));
        NDArray v = l.vProj().forward(x, training).reshape(b, t, kvHeads, d);
        NDArray mask = config.isSliding(l.index()) ? pos.slidingMask : pos.causalMask;
        // Attention in pieces: each packed sequence on its own span; padded rows in groups whose scores stay
        // small (in cache on a CPU, bounded on a GPU). Results are exactly those of one big batched call.
        TokenBatch batch = pos.batch;
        List<NDIndex> spans = new ArrayList<>();
        List<NDArray> masks = new ArrayList<>();
        if (batch.packed()) {
            int[] lengths = batch.lengths();
            int[] offsets = batch.offsets();
            for (int i = 0; i < lengths.length; i++) {
                spans.add(new NDIndex(":, " + offsets[i] + ":" + (offsets[i] + lengths[i])));
                masks.add(mask.get(":" + lengths[i] + ", :" + lengths[i]));
            }
        } else {
            long scoresPerRow = (long) heads * t * t * x.getDataType().getNumOfBytes();
            long rows = Math.max(1, (x.getDevice().isGpu() ? 1L << 30 : 8L << 20) / scoresPerRow);
            for (long r = 0; r < b; r += rows) {
                spans.add(new NDIndex(r + ":" + Math.min(b, r + rows)));
                masks.add(mask);
            }
        }
        NDArray out;
        if (spans.size() == 1) {
            out = attend(q, k, v, mask);
        } else {
            NDList parts = new NDList();
            for (int i = 0; i < spans.size(); i++) {
                NDIndex span = spans.get(i);
                parts.add(attend(q.get(span), k.get(span), v.get(span), masks.get(i)));
            }
            out = NDArrays.concat(parts, batch.packed() ? 1 : 0);
            parts.close();
        }
        q.close();
        k.close();
        v.close();
        return consume(out, o -> l.oProj().forward(o, training));
    }

    /**
     * Scaled, soft-capped, masked softmax attention of {@code q [b, t, heads, d]} over {@code k, v [b, t, kvHeads, d]}
     * with an additive {@code [t, t]} mask; returns {@code [b, t, heads * d]}. Grouped-query attention without
     * repeat_kv: the query heads that share a kv head are stacked as {@code group * t} rows, one matmul per kv head
     * (head h uses kv head h / group, as transformers' repeat_kv).
     */
    private NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();
        int group = heads / kvHeads;
        Elementwise ew = Elementwise.current();

        NDArray qg = q.transpose(0, 2, 1, 3).reshape(b, kvHeads, group * t, d);
        NDArray scores = qg.matMul(k.transpose(0, 2, 3, 1));
        qg.close();
        if (config.attnLogitSoftcapping() != null) { // q was pre-divided by the cap
            scores = ew.mul(consume(scores, NDArray::tanh), config.attnLogitSoftcapping().floatValue());
        }
        NDArray probs = consume(ew.add(scores.reshape(b, kvHeads, group, t, t), mask), s -> s.softmax(-1));
        scores.close();
        NDArray out = consume(probs.reshape(b, kvHeads, group * t, t), p -> p.matMul(v.transpose(0, 2, 1, 3)));
        probs.close();
        return consume(out, o -> o.reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d));
    }

    /** Rotary embedding: {@code x * cos + rotate_half(x) * sin}, with rotate_half's sign folded into sin. */
    private static NDArray rope(NDArray x, NDArray cos, NDArray sin) {
        Elementwise ew = Elementwise.current();
        Shape s = x.getShape();
        NDArray rotated = ew.mul(x.reshape(s.get(0), s.get(1), s.get(2), 2, s.get(3) / 2).flip(3).reshape(s), sin);
        NDArray out = ew.add(ew.mul(x, cos), rotated);
        rotated.close();
        return out;
    }

    /** Gemma2MLP: {@code down_proj(act(gate_proj(x)) * up_proj(x))}. */
    NDArray mlp(Layer l, NDArray x, boolean training) {
        Shape shape = x.getShape();
        long tokens = shape.size() / shape.get(shape.dimension() - 1);
        // Token blocks keep the intermediate (4.5x wider than hidden) small: in cache on a CPU (about 4 MB per
        // array), and a fraction of the micro-batch's memory on a GPU.
        long block = Math.max(64, (x.getDevice().isGpu() ? 1L << 24 : 1L << 20) / config.intermediateSize());
        if (tokens <= block) {
            return mlpBlock(l, x, training);
        }
        NDArray flat = x.reshape(tokens, shape.get(shape.dimension() - 1));
        NDList parts = new NDList();
        for (long start = 0; start < tokens; start += block) {
            parts.add(mlpBlock(l, flat.get(start + ":" + Math.min(tokens, start + block)), training));
        }
        NDArray out = NDArrays.concat(parts, 0).reshape(shape);
        parts.close();
        return out;
    }

    private NDArray mlpBlock(Layer l, NDArray x, boolean training) {
        NDArray gate = consume(l.gateProj().forward(x, training), this::gelu);
        NDArray up = l.upProj().forward(x, training);
        NDArray h = Elementwise.current().mul(gate, up);
        up.close();
        return consume(h, a -> l.downProj().forward(a, training));
    }

    /**
     * gelu_pytorch_tanh: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, computed as the identical
     * {@code x * sigmoid(2 sqrt(2/pi) x (1 + 0.044715 x^2))} (fewer passes over the widest activation).
     */
    private NDArray gelu(NDArray x) {
        if (!config.tanhGelu()) {
            return x.getNDArrayInternal().gelu();
        }
        Elementwise ew = Elementwise.current();
        NDArray inner = ew.mul(ew.add(ew.mul(x.square(), GELU_C2), GELU_C1), x);
        return ew.mul(consume(inner, s -> s.getNDArrayInternal().sigmoid()), x);
    }

    /** Gemma2RMSNorm: {@code x * rsqrt(mean(x^2) + eps) * (1 + w)}, the statistic in float32. */
    public NDArray rmsNorm(NDArray x, NDArray w) {
        NDArray x32 = Casts.toType(x, DataType.FLOAT32);
        NDArray inv = x32.norm(2, LAST_AXIS, true).square().div(TorchScalar.of(x32, config.hiddenSize()))
                .add(config.rmsNormEps()).pow(TorchScalar.of(x32, -0.5f));
        if (x32 != x) {
            inv = Casts.toType(inv, x.getDataType());
        }
        return Elementwise.current().mul(x.mul(inv), w.add(1f));
    }

    /** The final {@code norm} on hidden states of any leading shape. */
    public NDArray finalNorm(NDArray x) {
        return rmsNorm(x, norm);
    }

    /**
     * Elementwise steps on temporaries the forward owns. Without autograd they run in place: on a CPU a fresh
     * allocation (page faults, cold cache) costs about as much as the arithmetic, and the Gemma-2 MLP would
     * otherwise allocate six arrays as wide as its intermediate size. With autograd recording they allocate, as
     * the graph may need the old values. Either way the first argument is used up (reused or closed).
     */
    private record Elementwise(boolean inPlace) {
        private static final Elementwise IN_PLACE = new Elementwise(true);
        private static final Elementwise FUNCTIONAL = new Elementwise(false);

        static Elementwise current() {
            return JniUtils.isGradMode() ? FUNCTIONAL : IN_PLACE;
        }

        NDArray mul(NDArray a, NDArray b) {
            return inPlace ? a.muli(b) : consume(a, x -> x.mul(b));
        }

        NDArray mul(NDArray a, float b) {
            return inPlace ? a.muli(b) : consume(a, x -> x.mul(TorchScalar.of(x, b)));
        }

        NDArray add(NDArray a, NDArray b) {
            return inPlace ? a.addi(b) : consume(a, x -> x.add(b));
        }

        NDArray add(NDArray a, float b) {
            return inPlace ? a.addi(b) : consume(a, x -> x.add(b));
        }
    }

    /**
     * Applies {@code op} and closes its input: keeps only the arrays still needed alive inside a layer (the
     * autograd graph holds its own references, so this is safe while training too).
     */
    static NDArray consume(NDArray in, UnaryOperator<NDArray> op) {
        NDArray out = op.apply(in);
        if (out != in) {
            in.close();
        }
        return out;
    }

    /** RoPE tables and attention masks for one batch layout on one device. */
    public static final class Positions implements AutoCloseable {
        private final NDManager manager;
        private final Device device;
        final TokenBatch batch;
        final NDArray cosQ;
        final NDArray sinQ;
        final NDArray cosK;
        final NDArray sinK;
        final NDArray causalMask;
        final NDArray slidingMask;

        /**
         * Tables for {@code batch} in {@code dtype}, owned by a sub-manager of {@code parent} on {@code device}: RoPE
         * per position (padded) or per token (packed), computed in float32 as transformers does, the query tables
         * also carrying {@code query_pre_attn_scalar^-0.5} and {@code 1 / attn_logit_softcapping}; causal and
         * sliding-window masks for the longest sequence (a sequence of the packed layout uses their top-left corner).
         */
        public Positions(Gemma2Config c, TokenBatch batch, NDManager parent, Device device, DataType dtype) {
            this.manager = parent.newSubManager(device);
            this.device = device;
            this.batch = batch;
            int length = batch.maxLength();
            int d = c.headDim();
            int half = d / 2;
            float[] invFreq = new float[half];
            for (int i = 0; i < half; i++) {
                invFreq[i] = 1.0f / (float) Math.pow(c.ropeTheta(), (float) (2 * i) / (float) d);
            }
            float qScale = (float) (1.0 / Math.sqrt(c.queryPreAttnScalar()));
            if (c.attnLogitSoftcapping() != null) {
                qScale /= c.attnLogitSoftcapping().floatValue();
            }
            // Angles and their cos/sin in float32 PyTorch ops, as transformers computes them. Only the positions and
            // frequencies come from Java: arrays made from Java data sit in direct buffers that are freed at garbage
            // collection only (and must not back anything autograd keeps, hence duplicate()).
            long[] positions = batch.positions();
            int n = positions.length;
            NDArray pos = manager.create(positions).duplicate().toType(DataType.FLOAT32, false).reshape(n, 1);
            NDArray freq = manager.create(invFreq).duplicate().reshape(1, half);
            NDArray angle = pos.mul(freq);
            NDArray cosHalf = angle.cos();
            NDArray sinHalf = angle.sin();
            NDArray cos = cosHalf.concat(cosHalf, 1).reshape(n, 1, d);
            NDArray sin = sinHalf.neg().concat(sinHalf, 1).reshape(n, 1, d); // rotate_half's sign folded in
            NDArray scale = TorchScalar.of(cos, qScale);
            this.cosQ = cos.mul(scale).toType(dtype, false);
            this.sinQ = sin.mul(scale).toType(dtype, false);
            this.cosK = cos.toType(dtype, false);
            this.sinK = sin.toType(dtype, false);

            NDArray idx = manager.arange(length);
            NDArray back = idx.reshape(length, 1).sub(idx.reshape(1, length)); // query - key
            NDArray minusInf = manager.full(new Shape(length, length), Float.NEGATIVE_INFINITY, dtype);
            NDArray zero = manager.zeros(new Shape(length, length), dtype);
            this.causalMask = NDArrays.where(back.lt(0), minusInf, zero);
            this.slidingMask = c.slidingWindow() == null ? causalMask
                    : NDArrays.where(back.lt(0).logicalOr(back.gte(c.slidingWindow())), minusInf, zero);
        }

        public Device device() {
            return device;
        }

        @Override
        public void close() {
            manager.close();
        }
    }
}
