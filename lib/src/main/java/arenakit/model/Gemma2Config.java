package arenakit.model;

import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Every field of a Hugging Face {@code Gemma2Config} (config.json) that changes the math, plus the token ids and
 * the number of labels. Fields missing from a config.json take transformers' defaults, except the sizes, which
 * must be present. {@code final_logit_softcapping} is kept for completeness: it caps the language-model head,
 * which a sequence classifier does not have.
 *
 * @param slidingWindow window of the even (local) layers, null for none
 * @param attnLogitSoftcapping cap of attention scores ({@code cap * tanh(s / cap)}), null for none
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
        Double attnLogitSoftcapping,
        Double finalLogitSoftcapping,
        double ropeTheta,
        double rmsNormEps,
        String hiddenActivation,
        int maxPositionEmbeddings,
        int padTokenId,
        int bosTokenId,
        List<Integer> eosTokenIds,
        int numLabels,
        double initializerRange) {

    public Gemma2Config {
        eosTokenIds = List.copyOf(eosTokenIds);
        requirePositive("vocab_size", vocabSize);
        requirePositive("hidden_size", hiddenSize);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("num_hidden_layers", numHiddenLayers);
        requirePositive("num_attention_heads", numAttentionHeads);
        requirePositive("num_key_value_heads", numKeyValueHeads);
        requirePositive("head_dim", headDim);
        requirePositive("num_labels", numLabels);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads
                    + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + headDim);
        }
        if (!isTanhGelu(hiddenActivation) && !hiddenActivation.equals("gelu")) {
            throw new IllegalArgumentException("hidden_activation " + hiddenActivation
                    + " is not supported (gelu_pytorch_tanh or gelu)");
        }
        if (slidingWindow != null && slidingWindow <= 0) {
            throw new IllegalArgumentException("sliding_window must be positive, got " + slidingWindow);
        }
    }

    private static void requirePositive(String field, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(field + " must be positive, got " + v);
        }
    }

    private static boolean isTanhGelu(String act) {
        return act.equals("gelu_pytorch_tanh") || act.equals("gelu_tanh") || act.equals("gelu_new");
    }

    /** A config with transformers' Gemma-2 defaults around the given sizes (query_pre_attn_scalar = head_dim). */
    public static Gemma2Config of(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
            int numAttentionHeads, int numKeyValueHeads, int headDim) {
        return new Gemma2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, headDim, 4096, 50.0, 30.0, 10000.0, 1e-6, "gelu_pytorch_tanh", 8192,
                0, 2, List.of(1), 3, 0.02);
    }

    /** google/gemma-2-9b(-it) as a 3-class sequence classifier. */
    public static Gemma2Config gemma2_9b() {
        return new Gemma2Config(256000, 3584, 14336, 42, 16, 8, 256, 256, 4096, 50.0, 30.0, 10000.0, 1e-6,
                "gelu_pytorch_tanh", 8192, 0, 2, List.of(1, 107), 3, 0.02);
    }

    /** google/gemma-2-2b(-it) as a 3-class sequence classifier. */
    public static Gemma2Config gemma2_2b() {
        return new Gemma2Config(256000, 2304, 9216, 26, 8, 4, 256, 256, 4096, 50.0, 30.0, 10000.0, 1e-6,
                "gelu_pytorch_tanh", 8192, 0, 2, List.of(1, 107), 3, 0.02);
    }

    /** A preset by name: gemma-2-9b or gemma-2-2b. */
    public static Gemma2Config preset(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "gemma-2-9b", "gemma2-9b", "gemma-2-9b-it" -> gemma2_9b();
            case "gemma-2-2b", "gemma2-2b", "gemma-2-2b-it" -> gemma2_2b();
            default -> throw new IllegalArgumentException("unknown preset " + name + " (gemma-2-9b, gemma-2-2b)");
        };
    }

    public Gemma2Config withNumLabels(int n) {
        return new Gemma2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, queryPreAttnScalar, slidingWindow, attnLogitSoftcapping,
                finalLogitSoftcapping, ropeTheta, rmsNormEps, hiddenActivation, maxPositionEmbeddings, padTokenId,
                bosTokenId, eosTokenIds, n, initializerRange);
    }

    public Gemma2Config withSlidingWindow(Integer window) {
        return new Gemma2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, queryPreAttnScalar, window, attnLogitSoftcapping, finalLogitSoftcapping,
                ropeTheta, rmsNormEps, hiddenActivation, maxPositionEmbeddings, padTokenId, bosTokenId, eosTokenIds,
                numLabels, initializerRange);
    }

    /** Output width of q_proj. */
    public int qDim() {
        return numAttentionHeads * headDim;
    }

    /** Output width of k_proj and v_proj. */
    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    /** Gemma-2 alternates local (sliding-window) and global attention, starting with local at layer 0. */
    public boolean isSliding(int layer) {
        return slidingWindow != null && layer % 2 == 0;
    }

    /** Whether the MLP uses the tanh approximation of GELU (Gemma-2's gelu_pytorch_tanh). */
    public boolean tanhGelu() {
        return isTanhGelu(hiddenActivation);
    }

    /** Reads a config.json; errors name the file and the field. */
    public static Gemma2Config read(Path configJson) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            throw new IOException(configJson + " not found");
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(configJson.toFile());
        } catch (IOException e) {
            throw new IOException(configJson + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** Parses a config.json tree (transformers field names). */
    public static Gemma2Config fromJson(JsonNode n) {
        String type = n.path("model_type").asText("gemma2");
        if (!type.equals("gemma2")) {
            throw new IllegalArgumentException("model_type is " + type + ", expected gemma2");
        }
        int numLabels = n.has("num_labels") ? n.get("num_labels").asInt()
                : n.has("id2label") ? n.get("id2label").size() : 2;
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = n.path("eos_token_id");
        if (eosNode.isArray()) {
            eosNode.forEach(e -> eos.add(e.asInt()));
        } else {
            eos.add(eosNode.asInt(1));
        }
        String act = n.hasNonNull("hidden_activation") ? n.get("hidden_activation").asText()
                : n.path("hidden_act").asText("gelu_pytorch_tanh");
        int headDim = n.path("head_dim").asInt(256);
        return new Gemma2Config(
                required(n, "vocab_size"), required(n, "hidden_size"), required(n, "intermediate_size"),
                required(n, "num_hidden_layers"), required(n, "num_attention_heads"),
                required(n, "num_key_value_heads"), headDim,
                n.path("query_pre_attn_scalar").asDouble(256),
                n.has("sliding_window") ? (n.get("sliding_window").isNull() ? null : n.get("sliding_window").asInt())
                        : 4096,
                optionalDouble(n, "attn_logit_softcapping", 50.0),
                optionalDouble(n, "final_logit_softcapping", 30.0),
                n.path("rope_theta").asDouble(10000.0), n.path("rms_norm_eps").asDouble(1e-6), act,
                n.path("max_position_embeddings").asInt(8192), n.path("pad_token_id").asInt(0),
                n.path("bos_token_id").asInt(2), eos, numLabels, n.path("initializer_range").asDouble(0.02));
    }

    private static int required(JsonNode n, String field) {
        if (!n.hasNonNull(field)) {
            throw new IllegalArgumentException("missing field " + field);
        }
        return n.get(field).asInt();
    }

    private static Double optionalDouble(JsonNode n, String field, double fallback) {
        if (!n.has(field)) {
            return fallback;
        }
        return n.get(field).isNull() ? null : n.get(field).asDouble();
    }

    /** The config.json transformers writes for Gemma2ForSequenceClassification. */
    public ObjectNode toJson(String torchDtype) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.putArray("architectures").add("Gemma2ForSequenceClassification");
        n.put("model_type", "gemma2");
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("num_key_value_heads", numKeyValueHeads);
        n.put("head_dim", headDim);
        n.put("query_pre_attn_scalar", queryPreAttnScalar);
        putNullable(n, "sliding_window", slidingWindow);
        putNullable(n, "attn_logit_softcapping", attnLogitSoftcapping);
        putNullable(n, "final_logit_softcapping", finalLogitSoftcapping);
        n.put("rope_theta", ropeTheta);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("hidden_activation", hiddenActivation);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("pad_token_id", padTokenId);
        n.put("bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) {
            n.put("eos_token_id", eosTokenIds.get(0));
        } else {
            eosTokenIds.forEach(n.putArray("eos_token_id")::add);
        }
        n.put("attention_bias", false);
        n.put("attention_dropout", 0.0);
        n.put("initializer_range", initializerRange);
        n.put("torch_dtype", torchDtype);
        ObjectNode id2label = n.putObject("id2label");
        ObjectNode label2id = n.putObject("label2id");
        for (int i = 0; i < numLabels; i++) {
            id2label.put(Integer.toString(i), "LABEL_" + i);
            label2id.put("LABEL_" + i, i);
        }
        return n;
    }

    /** A number field, or JSON null as transformers writes an unset optional (Jackson keeps int vs float). */
    private static void putNullable(ObjectNode n, String field, Number v) {
        n.set(field, Json.MAPPER.valueToTree(v));
    }
}
