package arenakit.model.family;

import arenakit.model.io.ConfigJson;
import arenakit.model.layers.Activation;
import arenakit.model.layers.Rope;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The fields of a Hugging Face {@code Qwen2Config} (config.json) that change the math, plus the token ids and the
 * number of labels: Qwen2 and Qwen2.5.
 *
 * @param headDim config.json's head_dim when given (transformers reads it when present), else
 *     hidden_size / num_attention_heads
 * @param slidingWindow the window of sliding layers; null unless {@code use_sliding_window} is true (as in
 *     transformers, which then sets it aside)
 * @param layerTypes {@code sliding_attention} or {@code full_attention} per layer; by default layers from
 *     {@code max_window_layers} on slide when use_sliding_window is true
 */
public record Qwen2Config(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double ropeTheta,
        Rope.Scaling ropeScaling,
        double rmsNormEps,
        boolean useSlidingWindow,
        Integer slidingWindow,
        int maxWindowLayers,
        List<String> layerTypes,
        boolean tieWordEmbeddings,
        int maxPositionEmbeddings,
        Integer padTokenId,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        int numLabels,
        double initializerRange) implements DecoderConfig {

    public static final String MODEL_TYPE = "qwen2";

    public Qwen2Config {
        ConfigFields.checkSizes(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, numLabels);
        eosTokenIds = List.copyOf(eosTokenIds);
        layerTypes = ConfigFields.checkLayerTypes(layerTypes, numHiddenLayers);
        if (useSlidingWindow && (slidingWindow == null || slidingWindow <= 0)) {
            throw new IllegalArgumentException("use_sliding_window is true, so sliding_window must be a positive "
                    + "integer, got " + slidingWindow);
        }
        new Rope(ropeTheta, headDim, ropeScaling); // checks theta and scaling
        ropeScaling = ropeScaling == null ? Rope.NONE : ropeScaling;
    }

    /** transformers' Qwen2 defaults around the given sizes (rope_theta 1e6 as Qwen2.5, no sliding window). */
    public static Qwen2Config of(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
            int numAttentionHeads, int numKeyValueHeads, int headDim) {
        return new Qwen2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, 1000000.0, Rope.NONE, 1e-6, false, null, numHiddenLayers,
                fullLayers(numHiddenLayers), false, 32768, null, 2, List.of(1), 3, 0.02);
    }

    /** Qwen/Qwen2.5-7B as a 3-class sequence classifier (the Instruct model differs in eos and max positions). */
    public static Qwen2Config qwen25_7b() {
        return new Qwen2Config(152064, 3584, 18944, 28, 28, 4, 128, 1000000.0, Rope.NONE, 1e-6, false, null, 28,
                fullLayers(28), false, 131072, null, 151643, List.of(151643), 3, 0.02);
    }

    /** Qwen/Qwen2.5-14B as a 3-class sequence classifier (the Instruct model differs in eos and max positions). */
    public static Qwen2Config qwen25_14b() {
        return new Qwen2Config(152064, 5120, 13824, 48, 40, 8, 128, 1000000.0, Rope.NONE, 1e-5, false, null, 48,
                fullLayers(48), false, 131072, null, 151643, List.of(151643), 3, 0.02);
    }

    private static List<String> fullLayers(int layers) {
        return ConfigFields.layerTypes(layers, i -> false);
    }

    /** Sliding-window attention on layers {@code >= maxWindowLayers}, as transformers lays it out by default. */
    public Qwen2Config withSlidingWindow(int window, int fromLayer) {
        return new Qwen2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, ropeTheta, ropeScaling, rmsNormEps, true, window, fromLayer,
                ConfigFields.layerTypes(numHiddenLayers, i -> i >= fromLayer), tieWordEmbeddings,
                maxPositionEmbeddings, padTokenId, bosTokenId, eosTokenIds, numLabels, initializerRange);
    }

    @Override
    public Qwen2Config withNumLabels(int n) {
        return new Qwen2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, ropeTheta, ropeScaling, rmsNormEps, useSlidingWindow, slidingWindow,
                maxWindowLayers, layerTypes, tieWordEmbeddings, maxPositionEmbeddings, padTokenId, bosTokenId,
                eosTokenIds, n, initializerRange);
    }

    /** Whether layer {@code layer} attends within the sliding window. */
    public boolean isSliding(int layer) {
        return slidingWindow != null && layerTypes.get(layer).equals(ConfigFields.SLIDING);
    }

    @Override
    public String modelType() {
        return MODEL_TYPE;
    }

    @Override
    public String familyName() {
        return "Qwen2";
    }

    @Override
    public boolean unitOffsetNorms() {
        return false;
    }

    @Override
    public Map<String, long[]> tensorShapes() {
        return Qwen2.tensorShapes(this);
    }

    @Override
    public Decoder build(WeightSource weights) throws IOException {
        return Qwen2.build(this, weights);
    }

    /**
     * Parses a config.json tree (transformers field names). Read: the sizes (required: vocab_size, hidden_size,
     * intermediate_size, num_hidden_layers, num_attention_heads), num_key_value_heads (null or absent: MHA),
     * head_dim (null or absent: hidden_size / num_attention_heads), rope_theta (10000), rope_scaling /
     * rope_parameters (default, linear; Qwen2.5's yarn is refused), rms_norm_eps (1e-6), hidden_act (silu only),
     * use_sliding_window (false), sliding_window (4096), max_window_layers (28), layer_types, attention_dropout
     * (must be 0), tie_word_embeddings (false), max_position_embeddings (32768), pad/bos/eos_token_id (none),
     * num_labels or id2label, initializer_range.
     */
    public static Qwen2Config fromJson(ConfigJson c) {
        int hidden = c.requiredInt("hidden_size");
        int heads = c.requiredInt("num_attention_heads");
        int layers = c.requiredInt("num_hidden_layers");
        Integer kv = c.nullableInt("num_key_value_heads", null);
        ConfigFields.activation(c, "hidden_act", "silu", "Qwen2", Activation.SILU);
        ConfigFields.noAttentionDropout(c);
        boolean sliding = c.boolOr("use_sliding_window", false);
        Integer window = c.nullableInt("sliding_window", 4096);
        int maxWindowLayers = c.intOr("max_window_layers", 28);
        Integer effective = sliding ? window : null; // transformers drops the window unless use_sliding_window
        return new Qwen2Config(c.requiredInt("vocab_size"), hidden, c.requiredInt("intermediate_size"), layers, heads,
                kv == null ? heads : kv, LlamaConfig.headDim(c, hidden, heads), ConfigFields.ropeTheta(c, 10000.0),
                ConfigFields.ropeScaling(c), c.doubleOr("rms_norm_eps", 1e-6), sliding, effective, maxWindowLayers,
                ConfigFields.layerTypes(c, layers, i -> effective != null && i >= maxWindowLayers),
                c.boolOr("tie_word_embeddings", false), c.intOr("max_position_embeddings", 32768),
                c.nullableInt("pad_token_id", null), c.nullableInt("bos_token_id", null),
                c.intOrIntList("eos_token_id", List.of()), ConfigFields.numLabels(c),
                c.doubleOr("initializer_range", 0.02));
    }

    @Override
    public ObjectNode toJson(String torchDtype) {
        ObjectNode n = ConfigFields.header("Qwen2ForSequenceClassification", this);
        if (headDim * numAttentionHeads != hiddenSize) {
            n.put("head_dim", headDim); // transformers derives it otherwise
        }
        ConfigFields.putRope(n, ropeTheta, ropeScaling);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("hidden_act", "silu");
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("use_sliding_window", useSlidingWindow);
        ConfigFields.putNullable(n, "sliding_window", slidingWindow);
        n.put("max_window_layers", maxWindowLayers);
        layerTypes.forEach(n.putArray("layer_types")::add);
        ConfigFields.putTokenIds(n, padTokenId, bosTokenId, eosTokenIds);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        return ConfigFields.footer(n, this, torchDtype);
    }
}
