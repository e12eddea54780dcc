package arenakit.model.family;

import arenakit.model.io.ConfigJson;
import arenakit.model.layers.Activation;
import arenakit.model.layers.Rope;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Every field of a Hugging Face {@code Gemma2Config} (config.json) that changes the math, plus the token ids and
 * the number of labels. Fields missing from a config.json take transformers' defaults, except the sizes, which
 * must be present. {@code final_logit_softcapping} is kept for completeness: it caps the language-model head,
 * which a sequence classifier does not have.
 *
 * @param slidingWindow window of the local layers, null for none
 * @param layerTypes {@code sliding_attention} or {@code full_attention} per layer (default: even layers local)
 * @param attnLogitSoftcapping cap of attention scores ({@code cap * tanh(s / cap)}), null for none
 * @param attentionBias whether q, k, v and o projections have biases
 */
public record Gemma2Config(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double queryPreAttnScalar,
        Integer slidingWindow,
        List<String> layerTypes,
        Double attnLogitSoftcapping,
        Double finalLogitSoftcapping,
        double ropeTheta,
        Rope.Scaling ropeScaling,
        double rmsNormEps,
        Activation hiddenActivation,
        boolean attentionBias,
        int maxPositionEmbeddings,
        Integer padTokenId,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        int numLabels,
        double initializerRange) implements DecoderConfig {

    public static final String MODEL_TYPE = "gemma2";

    public Gemma2Config {
        ConfigFields.checkSizes(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, numLabels);
        eosTokenIds = List.copyOf(eosTokenIds);
        layerTypes = ConfigFields.checkLayerTypes(layerTypes, numHiddenLayers);
        if (hiddenActivation != Activation.GELU_TANH && hiddenActivation != Activation.GELU) {
            throw new IllegalArgumentException("hidden_activation " + hiddenActivation.hfName()
                    + " is not supported for Gemma-2 (gelu_pytorch_tanh or gelu)");
        }
        if (slidingWindow != null && slidingWindow <= 0) {
            throw new IllegalArgumentException("sliding_window must be positive, got " + slidingWindow);
        }
        ConfigFields.requirePositive("query_pre_attn_scalar", queryPreAttnScalar);
        new Rope(ropeTheta, headDim, ropeScaling); // checks theta and scaling
        ropeScaling = ropeScaling == null ? Rope.NONE : ropeScaling;
    }

    /** Gemma-2's pattern: local (sliding-window) attention on even layers, global on odd ones. */
    static List<String> defaultLayerTypes(int layers) {
        return ConfigFields.layerTypes(layers, i -> i % 2 == 0);
    }

    /** A config with transformers' Gemma-2 defaults around the given sizes (query_pre_attn_scalar = head_dim). */
    public static Gemma2Config of(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
            int numAttentionHeads, int numKeyValueHeads, int headDim) {
        return new Gemma2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, headDim, 4096, defaultLayerTypes(numHiddenLayers), 50.0, 30.0, 10000.0,
                Rope.NONE, 1e-6, Activation.GELU_TANH, false, 8192, 0, 2, List.of(1), 3, 0.02);
    }

    /** google/gemma-2-9b(-it) as a 3-class sequence classifier. */
    public static Gemma2Config gemma2_9b() {
        return new Gemma2Config(256000, 3584, 14336, 42, 16, 8, 256, 256, 4096, defaultLayerTypes(42), 50.0, 30.0,
                10000.0, Rope.NONE, 1e-6, Activation.GELU_TANH, false, 8192, 0, 2, List.of(1, 107), 3, 0.02);
    }

    /** google/gemma-2-2b(-it) as a 3-class sequence classifier. */
    public static Gemma2Config gemma2_2b() {
        return new Gemma2Config(256000, 2304, 9216, 26, 8, 4, 256, 256, 4096, defaultLayerTypes(26), 50.0, 30.0,
                10000.0, Rope.NONE, 1e-6, Activation.GELU_TANH, false, 8192, 0, 2, List.of(1, 107), 3, 0.02);
    }

    @Override
    public String modelType() {
        return MODEL_TYPE;
    }

    @Override
    public String familyName() {
        return "Gemma-2";
    }

    @Override
    public Gemma2Config withNumLabels(int n) {
        return new Gemma2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, queryPreAttnScalar, slidingWindow, layerTypes, attnLogitSoftcapping,
                finalLogitSoftcapping, ropeTheta, ropeScaling, rmsNormEps, hiddenActivation, attentionBias,
                maxPositionEmbeddings, padTokenId, bosTokenId, eosTokenIds, n, initializerRange);
    }

    public Gemma2Config withSlidingWindow(Integer window) {
        return new Gemma2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, queryPreAttnScalar, window, layerTypes, attnLogitSoftcapping,
                finalLogitSoftcapping, ropeTheta, ropeScaling, rmsNormEps, hiddenActivation, attentionBias,
                maxPositionEmbeddings, padTokenId, bosTokenId, eosTokenIds, numLabels, initializerRange);
    }

    public Gemma2Config withAttentionBias(boolean bias) {
        return new Gemma2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, queryPreAttnScalar, slidingWindow, layerTypes, attnLogitSoftcapping,
                finalLogitSoftcapping, ropeTheta, ropeScaling, rmsNormEps, hiddenActivation, bias,
                maxPositionEmbeddings, padTokenId, bosTokenId, eosTokenIds, numLabels, initializerRange);
    }

    /** Whether layer {@code layer} attends within the sliding window. */
    public boolean isSliding(int layer) {
        return slidingWindow != null && layerTypes.get(layer).equals(ConfigFields.SLIDING);
    }

    @Override
    public boolean unitOffsetNorms() {
        return true;
    }

    @Override
    public Map<String, long[]> tensorShapes() {
        return Gemma2.tensorShapes(this);
    }

    @Override
    public Decoder build(WeightSource weights) throws IOException {
        return Gemma2.build(this, weights);
    }

    /**
     * Parses a config.json tree (transformers field names). Read: the sizes (required: vocab_size, hidden_size,
     * intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads), head_dim (256),
     * query_pre_attn_scalar (256), sliding_window (4096; null: none), layer_types, attn_logit_softcapping (50),
     * final_logit_softcapping (30), rope_theta (10000), rope_scaling / rope_parameters, rms_norm_eps (1e-6),
     * hidden_activation or hidden_act (gelu_pytorch_tanh), attention_bias (false), attention_dropout (must be 0),
     * max_position_embeddings (8192), pad/bos/eos_token_id (0/2/1), num_labels or id2label, initializer_range.
     */
    public static Gemma2Config fromJson(ConfigJson c) {
        int layers = c.requiredInt("num_hidden_layers");
        ConfigFields.noAttentionDropout(c);
        String actKey = c.has("hidden_activation") ? "hidden_activation" : "hidden_act";
        return new Gemma2Config(
                c.requiredInt("vocab_size"), c.requiredInt("hidden_size"), c.requiredInt("intermediate_size"),
                layers, c.requiredInt("num_attention_heads"), c.requiredInt("num_key_value_heads"),
                c.intOr("head_dim", 256), c.doubleOr("query_pre_attn_scalar", 256), c.nullableInt("sliding_window", 4096),
                ConfigFields.layerTypes(c, layers, i -> i % 2 == 0),
                c.nullableDouble("attn_logit_softcapping", 50.0), c.nullableDouble("final_logit_softcapping", 30.0),
                ConfigFields.ropeTheta(c, 10000.0), ConfigFields.ropeScaling(c), c.doubleOr("rms_norm_eps", 1e-6),
                ConfigFields.activation(c, actKey, "gelu_pytorch_tanh", "Gemma-2", Activation.GELU_TANH, Activation.GELU),
                c.boolOr("attention_bias", false), c.intOr("max_position_embeddings", 8192),
                c.nullableInt("pad_token_id", 0), c.nullableInt("bos_token_id", 2),
                c.intOrIntList("eos_token_id", List.of(1)), ConfigFields.numLabels(c),
                c.doubleOr("initializer_range", 0.02));
    }

    @Override
    public ObjectNode toJson(String torchDtype) {
        ObjectNode n = ConfigFields.header("Gemma2ForSequenceClassification", this);
        n.put("head_dim", headDim);
        n.put("query_pre_attn_scalar", queryPreAttnScalar);
        ConfigFields.putNullable(n, "sliding_window", slidingWindow);
        layerTypes.forEach(n.putArray("layer_types")::add);
        ConfigFields.putNullable(n, "attn_logit_softcapping", attnLogitSoftcapping);
        ConfigFields.putNullable(n, "final_logit_softcapping", finalLogitSoftcapping);
        ConfigFields.putRope(n, ropeTheta, ropeScaling);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("hidden_activation", hiddenActivation.hfName());
        n.put("max_position_embeddings", maxPositionEmbeddings);
        ConfigFields.putTokenIds(n, padTokenId, bosTokenId, eosTokenIds);
        n.put("attention_bias", attentionBias);
        return ConfigFields.footer(n, this, torchDtype);
    }
}
