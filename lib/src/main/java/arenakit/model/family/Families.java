package arenakit.model.family;

import arenakit.model.io.ConfigJson;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The supported decoder families, chosen by config.json's {@code model_type}: {@code gemma2} (Gemma-2),
 * {@code llama} (Llama-3, Llama-3.1, Llama-architecture reward models such as ArmoRM) and {@code qwen2} (Qwen2,
 * Qwen2.5). Also the named presets of real models (for memory plans) and tiny random configs of any family.
 */
public final class Families {
    /** The model types, in the order errors list them. */
    public static final List<String> MODEL_TYPES = List.of(Gemma2Config.MODEL_TYPE, LlamaConfig.MODEL_TYPE,
            Qwen2Config.MODEL_TYPE);

    private static final Map<String, Function<ConfigJson, DecoderConfig>> PARSERS = Map.of(
            Gemma2Config.MODEL_TYPE, Gemma2Config::fromJson,
            LlamaConfig.MODEL_TYPE, LlamaConfig::fromJson,
            Qwen2Config.MODEL_TYPE, Qwen2Config::fromJson);

    private static final Map<String, Supplier<DecoderConfig>> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("gemma-2-9b", Gemma2Config::gemma2_9b);
        PRESETS.put("gemma-2-2b", Gemma2Config::gemma2_2b);
        PRESETS.put("llama-3-8b", LlamaConfig::llama3_8b);
        PRESETS.put("llama-3.1-8b", LlamaConfig::llama31_8b);
        PRESETS.put("qwen2.5-7b", Qwen2Config::qwen25_7b);
        PRESETS.put("qwen2.5-14b", Qwen2Config::qwen25_14b);
    }

    private Families() {}

    /** Reads a config.json; errors name the file and the key. */
    public static DecoderConfig read(Path configJson) throws IOException {
        JsonNode root = ConfigJson.parse(configJson);
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** Parses a config.json tree with the parser of its {@code model_type} (which must be there). */
    public static DecoderConfig fromJson(JsonNode root) {
        ConfigJson c = ConfigJson.of(root);
        if (!c.has("model_type")) {
            throw new IllegalArgumentException("missing field model_type (one of " + String.join(", ", MODEL_TYPES)
                    + ")");
        }
        String type = requireSupported(c.stringOr("model_type", ""));
        if (c.has("quantization_config")) { // int4/int8 weights with scales: the safetensors would not be plain floats
            throw c.error("quantization_config", "is set: quantized checkpoints (bitsandbytes, GPTQ, AWQ, ...) are not "
                    + "supported; use the unquantized (bf16/fp16/fp32) checkpoint");
        }
        return PARSERS.get(type).apply(c);
    }

    /** {@code modelType} itself when supported; otherwise an error listing the supported ones. */
    public static String requireSupported(String modelType) {
        if (!PARSERS.containsKey(modelType)) {
            throw new IllegalArgumentException("model_type '" + modelType + "' is not supported (supported: "
                    + String.join(", ", MODEL_TYPES) + ")");
        }
        return modelType;
    }

    /** The preset names: gemma-2-9b, gemma-2-2b, llama-3-8b, llama-3.1-8b, qwen2.5-7b, qwen2.5-14b. */
    public static List<String> presets() {
        return List.copyOf(PRESETS.keySet());
    }

    /** A real model's config by name (case-insensitive; "-it" / "-instruct" suffixes and "gemma2-9b" accepted). */
    public static DecoderConfig preset(String name) {
        String key = name.toLowerCase(Locale.ROOT).replaceAll("-(it|instruct)$", "").replace("gemma2-", "gemma-2-")
                .replace("meta-llama-3", "llama-3");
        Supplier<DecoderConfig> p = PRESETS.get(key);
        if (p == null) {
            throw new IllegalArgumentException("unknown preset " + name + " (" + String.join(", ", presets()) + ")");
        }
        return p.get();
    }

    /** A small config of {@code modelType} with the family's defaults around the given sizes. */
    public static DecoderConfig tiny(String modelType, int vocabSize, int hiddenSize, int intermediateSize,
            int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads, int headDim) {
        return switch (requireSupported(modelType)) {
            case Gemma2Config.MODEL_TYPE -> Gemma2Config.of(vocabSize, hiddenSize, intermediateSize, numHiddenLayers,
                    numAttentionHeads, numKeyValueHeads, headDim);
            case LlamaConfig.MODEL_TYPE -> LlamaConfig.of(vocabSize, hiddenSize, intermediateSize, numHiddenLayers,
                    numAttentionHeads, numKeyValueHeads, headDim);
            default -> Qwen2Config.of(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                    numKeyValueHeads, headDim);
        };
    }
}
