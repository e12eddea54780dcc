package arenakit.model.family;

import arenakit.model.io.ConfigJson;
import arenakit.model.layers.Activation;
import arenakit.model.layers.Rope;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The fields of a Hugging Face {@code LlamaConfig} (config.json) that change the math, plus the token ids and the
 * number of labels: Llama-3, Llama-3.1 ({@code rope_scaling} type llama3) and Llama-architecture reward models
 * such as ArmoRM.
 *
 * @param headDim given by config.json's head_dim, else hidden_size / num_attention_heads
 * @param attentionBias biases on q, k, v and o ({@code attention_bias})
 * @param mlpBias biases on gate, up and down ({@code mlp_bias})
 * @param tieWordEmbeddings kept for round trips only: a classifier has no language-model head to tie
 * @param padTokenId null when the config names none (Llama-3's): padding then uses id 0, which nothing reads
 */
public record LlamaConfig(
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
        boolean attentionBias,
        boolean mlpBias,
        boolean tieWordEmbeddings,
        int maxPositionEmbeddings,
        Integer padTokenId,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        int numLabels,
        double initializerRange) implements DecoderConfig {

    public static final String MODEL_TYPE = "llama";

    public LlamaConfig {
        ConfigFields.checkSizes(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, numLabels);
        eosTokenIds = List.copyOf(eosTokenIds);
        new Rope(ropeTheta, headDim, ropeScaling); // checks theta and scaling
        ropeScaling = ropeScaling == null ? Rope.NONE : ropeScaling;
    }

    /** transformers' Llama defaults around the given sizes (rope_theta 500000 as Llama-3, no pad token). */
    public static LlamaConfig of(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
            int numAttentionHeads, int numKeyValueHeads, int headDim) {
        return new LlamaConfig(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, 500000.0, Rope.NONE, 1e-5, false, false, false, 8192, null, 2, List.of(1),
                3, 0.02);
    }

    /**
     * meta-llama/Meta-Llama-3-8B as a 3-class sequence classifier (also the sizes of Llama-3-8B-Instruct and of
     * Llama-3-8B reward models such as ArmoRM).
     */
    public static LlamaConfig llama3_8b() {
        return new LlamaConfig(128256, 4096, 14336, 32, 32, 8, 128, 500000.0, Rope.NONE, 1e-5, false, false, false,
                8192, null, 128000, List.of(128001), 3, 0.02);
    }

    /** meta-llama/Llama-3.1-8B: Llama-3-8B's sizes with the llama3 RoPE scaling to 128k positions. */
    public static LlamaConfig llama31_8b() {
        return new LlamaConfig(128256, 4096, 14336, 32, 32, 8, 128, 500000.0, new Rope.Llama3(8.0, 1.0, 4.0, 8192),
                1e-5, false, false, false, 131072, null, 128000, List.of(128001), 3, 0.02);
    }

    public LlamaConfig withRopeScaling(Rope.Scaling scaling) {
        return new LlamaConfig(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, ropeTheta, scaling, rmsNormEps, attentionBias, mlpBias, tieWordEmbeddings,
                maxPositionEmbeddings, padTokenId, bosTokenId, eosTokenIds, numLabels, initializerRange);
    }

    public LlamaConfig withBiases(boolean attention, boolean mlp) {
        return new LlamaConfig(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, ropeTheta, ropeScaling, rmsNormEps, attention, mlp, tieWordEmbeddings,
                maxPositionEmbeddings, padTokenId, bosTokenId, eosTokenIds, numLabels, initializerRange);
    }

    @Override
    public LlamaConfig withNumLabels(int n) {
        return new LlamaConfig(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, ropeTheta, ropeScaling, rmsNormEps, attentionBias, mlpBias,
                tieWordEmbeddings, maxPositionEmbeddings, padTokenId, bosTokenId, eosTokenIds, n, initializerRange);
    }

    @Override
    public String modelType() {
        return MODEL_TYPE;
    }

    @Override
    public String familyName() {
        return "Llama";
    }

    @Override
    public boolean unitOffsetNorms() {
        return false;
    }

    @Override
    public Map<String, long[]> tensorShapes() {
        return Llama.tensorShapes(this);
    }

    @Override
    public Decoder build(WeightSource weights) throws IOException {
        return Llama.build(this, weights);
    }

    /**
     * Parses a config.json tree (transformers field names). Read: the sizes (required: vocab_size, hidden_size,
     * intermediate_size, num_hidden_layers, num_attention_heads), num_key_value_heads (null or absent: MHA),
     * head_dim (null or absent: hidden_size / num_attention_heads), rope_theta (10000), rope_scaling /
     * rope_parameters (default, linear, llama3), rms_norm_eps (1e-6), hidden_act (silu only), attention_bias,
     * mlp_bias (false), attention_dropout (must be 0), tie_word_embeddings (false), max_position_embeddings (2048),
     * pad/bos/eos_token_id (none/1/2), num_labels or id2label, initializer_range. pretraining_tp is ignored, as
     * transformers does (its slices compute the same product).
     */
    public static LlamaConfig fromJson(ConfigJson c) {
        int hidden = c.requiredInt("hidden_size");
        int heads = c.requiredInt("num_attention_heads");
        Integer kv = c.nullableInt("num_key_value_heads", null);
        ConfigFields.activation(c, "hidden_act", "silu", "Llama", Activation.SILU);
        ConfigFields.noAttentionDropout(c);
        return new LlamaConfig(c.requiredInt("vocab_size"), hidden, c.requiredInt("intermediate_size"),
                c.requiredInt("num_hidden_layers"), heads, kv == null ? heads : kv, headDim(c, hidden, heads),
                ConfigFields.ropeTheta(c, 10000.0), ConfigFields.ropeScaling(c), c.doubleOr("rms_norm_eps", 1e-6),
                c.boolOr("attention_bias", false), c.boolOr("mlp_bias", false), c.boolOr("tie_word_embeddings", false),
                c.intOr("max_position_embeddings", 2048), c.nullableInt("pad_token_id", null),
                c.nullableInt("bos_token_id", 1), c.intOrIntList("eos_token_id", List.of(2)), ConfigFields.numLabels(c),
                c.doubleOr("initializer_range", 0.02));
    }

    /** head_dim, or hidden / heads (which must divide) when absent or null. */
    static int headDim(ConfigJson c, int hidden, int heads) {
        Integer given = c.nullableInt("head_dim", null);
        if (given != null) {
            return given;
        }
        if (heads <= 0 || hidden % heads != 0) {
            throw new IllegalArgumentException("hidden_size (" + hidden + ") is not a multiple of num_attention_heads ("
                    + heads + "), so head_dim must be given");
        }
        return hidden / heads;
    }

    @Override
    public ObjectNode toJson(String torchDtype) {
        ObjectNode n = ConfigFields.header("LlamaForSequenceClassification", this);
        n.put("head_dim", headDim);
        ConfigFields.putRope(n, ropeTheta, ropeScaling);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("hidden_act", "silu");
        n.put("max_position_embeddings", maxPositionEmbeddings);
        ConfigFields.putTokenIds(n, padTokenId, bosTokenId, eosTokenIds);
        n.put("attention_bias", attentionBias);
        n.put("mlp_bias", mlpBias);
        n.put("pretraining_tp", 1);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        return ConfigFields.footer(n, this, torchDtype);
    }
}
