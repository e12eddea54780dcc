package arenakit.pipeline;

import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What identifies a base checkpoint wherever it is copied: its family and shape from config.json. A trained stage
 * records it (encoding.json) so inference finds the same base under another path, and refuses a different one.
 * (It cannot tell a model from its instruction-tuned twin of the same shape: the base's name settles that.)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record Architecture(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
        int numAttentionHeads, int numKeyValueHeads) {

    /** Reads {@code <checkpoint>/config.json}. */
    static Architecture of(Path checkpoint) throws IOException {
        Path file = checkpoint.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException("base model " + checkpoint + " has no config.json");
        }
        JsonNode c = Json.MAPPER.readTree(file.toFile());
        return new Architecture(modelType(c, file), c.path("vocab_size").asInt(), c.path("hidden_size").asInt(),
                c.path("intermediate_size").asInt(), c.path("num_hidden_layers").asInt(),
                c.path("num_attention_heads").asInt(),
                c.path("num_key_value_heads").asInt(c.path("num_attention_heads").asInt()));
    }

    /** The {@code model_type} of {@code <checkpoint>/config.json} (gemma2, llama, qwen2, ...). */
    static String modelType(Path checkpoint) throws IOException {
        Path file = checkpoint.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException("base model " + checkpoint + " has no config.json (its model_type picks the chat "
                    + "template; or name one with 'template')");
        }
        return modelType(Json.MAPPER.readTree(file.toFile()), file);
    }

    private static String modelType(JsonNode config, Path file) throws IOException {
        JsonNode t = config.get("model_type");
        if (t == null || !t.isTextual()) {
            throw new IOException(file + " has no model_type");
        }
        return t.asText();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s, hidden %d, %d layers, %d/%d heads, vocabulary %d", modelType,
                hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, vocabSize);
    }
}
