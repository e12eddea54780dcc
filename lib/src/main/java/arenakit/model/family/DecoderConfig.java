package arenakit.model.family;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Map;

/**
 * What every family's config offers: the sizes shared by all decoders, the tensors its checkpoints hold, its
 * config.json, and how its decoder is built. One record per family implements it ({@link Gemma2Config},
 * {@link LlamaConfig}, {@link Qwen2Config}); {@link Families} picks one by config.json's {@code model_type}.
 */
public interface DecoderConfig {

    /** config.json's {@code model_type}: gemma2, llama, qwen2. */
    String modelType();

    /** The family's name for people: Gemma-2, Llama, Qwen2. */
    String familyName();

    int vocabSize();

    int hiddenSize();

    int intermediateSize();

    int numHiddenLayers();

    int numAttentionHeads();

    int numKeyValueHeads();

    int headDim();

    int maxPositionEmbeddings();

    /** The pad token, or null when the config has none (Llama): padding then uses id 0, which nothing reads. */
    Integer padTokenId();

    /** The beginning-of-sequence token, or null. */
    Integer bosTokenId();

    int numLabels();

    double initializerRange();

    DecoderConfig withNumLabels(int n);

    /** Whether RMSNorm scales by {@code 1 + w} (Gemma: norm weights start at 0) rather than {@code w} (start at 1). */
    boolean unitOffsetNorms();

    /** Names and shapes of the decoder's tensors ({@code model.*}) in a transformers checkpoint, in order. */
    Map<String, long[]> tensorShapes();

    /** The config.json transformers writes for this family's {@code *ForSequenceClassification}. */
    ObjectNode toJson(String torchDtype);

    /** The decoder over {@code weights} (which say where each tensor goes). */
    Decoder build(WeightSource weights) throws IOException;

    /** Output width of q_proj. */
    default int qDim() {
        return numAttentionHeads() * headDim();
    }

    /** Output width of k_proj and v_proj. */
    default int kvDim() {
        return numKeyValueHeads() * headDim();
    }
}
