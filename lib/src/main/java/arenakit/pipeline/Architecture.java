package arenakit.pipeline;

import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
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

    /** Reads {@code <checkpoint>/config.json} (strictly, with the parser of its family). */
    static Architecture of(Path checkpoint) throws IOException {
        DecoderConfig c = read(checkpoint);
        return new Architecture(c.modelType(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numHiddenLayers(), c.numAttentionHeads(), c.numKeyValueHeads());
    }

    /** The {@code model_type} of {@code <checkpoint>/config.json} (gemma2, llama, qwen2). */
    static String modelType(Path checkpoint) throws IOException {
        return read(checkpoint).modelType();
    }

    private static DecoderConfig read(Path checkpoint) throws IOException {
        Path file = checkpoint.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException("base model " + checkpoint + " has no config.json (its model_type picks the family "
                    + "and the chat template)");
        }
        return Families.read(file);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s, hidden %d, %d layers, %d/%d heads, vocabulary %d", modelType,
                hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, vocabSize);
    }
}
