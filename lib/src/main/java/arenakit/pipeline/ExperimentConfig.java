package arenakit.pipeline;

import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * A setup's {@code pipeline.json}: what every stage shares (base model, tokenizer, data files) and which stages
 * run in which order. Each stage named in {@code stages} has its own {@code <stage>.json} in the same folder.
 *
 * @param baseModel the checkpoint the stages fine-tune
 * @param tokenizer a tokenizer.json path, "gemma" (the real Gemma tokenizer that environment/setup.sh installs),
 *     or "sample" (a small word-level vocabulary of the embedded sample, for tiny models); null = the checkpoint
 *     folder's tokenizer.json
 * @param data the input files; with no {@code train} the embedded sample is generated instead
 * @param sample options of the embedded sample generator (used only when {@code data.train} is null)
 * @param stages stage names in run order; "eda" is the EDA report, every other name a {@code <name>.json}
 * @param cpuThreads PyTorch's CPU threads for every operation (null = one per core). 1 suits tiny models: their
 *     small operations gain nothing from a second thread, and OpenMP threads that spin-wait for each other slow
 *     every step down many times over when another process is using a core
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ExperimentConfig(String name, @StrictJson.Default("null") String description, BaseModel baseModel,
        @StrictJson.Nullable String tokenizer, DataFiles data, @StrictJson.Nullable JsonNode sample,
        List<String> stages,
        @StrictJson.Nullable Integer cpuThreads) {

    public ExperimentConfig {
        if (baseModel == null) {
            throw new IllegalArgumentException("missing field 'base_model'");
        }
        data = data == null ? new DataFiles(null, null, null, List.of(), List.of()) : data;
        if (stages == null || stages.isEmpty()) {
            throw new IllegalArgumentException("missing field 'stages'");
        }
        stages = List.copyOf(stages);
        if (cpuThreads != null && cpuThreads < 1) {
            throw new IllegalArgumentException("cpu_threads must be >= 1 (or null for one per core), got "
                    + cpuThreads);
        }
    }

    /**
     * Exactly one of: a Hugging Face checkpoint folder (config.json + safetensors), or the sizes of a tiny random
     * model (Gemma-2, Llama or Qwen2) that the pipeline writes once in HF layout and then loads through the same path.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record BaseModel(@StrictJson.Default("null") String checkpoint, @StrictJson.Default("null") TinyModel tiny) {
        public BaseModel {
            if ((checkpoint == null) == (tiny == null)) {
                throw new IllegalArgumentException("base_model needs exactly one of 'checkpoint' and 'tiny'");
            }
        }
    }

    /**
     * Sizes of a tiny random model (vocabulary size comes from the tokenizer).
     *
     * @param modelType its family: {@code gemma2} (default), {@code llama} or {@code qwen2}
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TinyModel(@StrictJson.Default("\"gemma2\"") String modelType, int hiddenSize, int intermediateSize, int numHiddenLayers,
            int numAttentionHeads, int numKeyValueHeads, int headDim, long seed) {
        public TinyModel {
            modelType = modelType == null ? "gemma2" : modelType;
            try {
                arenakit.model.family.Families.requireSupported(modelType);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("base_model.tiny." + e.getMessage());
            }
        }
    }

    /**
     * @param train Kaggle train.csv (labeled)
     * @param test Kaggle test.csv
     * @param sampleSubmission Kaggle sample_submission.csv (row order and ids of the submission)
     * @param external lmsys-33k-style labeled files (deduplicated against train by prompt)
     * @param unlabeled preference-pair files (chosen/rejected) turned into unlabeled pairs for pseudo-labels
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record DataFiles(@StrictJson.Nullable String train, @StrictJson.Nullable String test,
            @StrictJson.Nullable String sampleSubmission, @StrictJson.Default("[]") List<String> external,
            @StrictJson.Default("[]") List<String> unlabeled) {
        public DataFiles {
            external = external == null ? List.of() : List.copyOf(external);
            unlabeled = unlabeled == null ? List.of() : List.copyOf(unlabeled);
        }
    }
}
