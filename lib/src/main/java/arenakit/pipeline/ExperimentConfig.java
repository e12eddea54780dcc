package arenakit.pipeline;

import arenakit.text.ChatTemplate;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A setup's {@code pipeline.json}: what every stage shares (base model, tokenizer, data files) and which stages
 * run in which order. Each stage named in {@code stages} has its own {@code <stage>.json} in the same folder.
 *
 * @param baseModel the checkpoint the stages fine-tune
 * @param tokenizer a tokenizer.json path, "gemma", "llama3" or "qwen2.5" (the real tokenizers that
 *     environment/setup.sh installs), or "sample" (a small word-level vocabulary of the embedded sample, for tiny
 *     models); null = the checkpoint folder's tokenizer.json
 * @param template the base model's chat template ({@code arenakit.text.ChatTemplate}: gemma, llama3, qwen2.5,
 *     qwen2, chatml); null = the one of its family (config.json's {@code model_type})
 * @param data the input files; with no {@code train} the embedded sample is generated instead
 * @param sample options of the embedded sample generator (used only when {@code data.train} is null)
 * @param stages stage names in run order; "eda" is the EDA report, every other name a {@code <name>.json}
 * @param cpuThreads PyTorch's CPU threads for every operation (null = one per core). 1 suits tiny models: their
 *     small operations gain nothing from a second thread, and OpenMP threads that spin-wait for each other slow
 *     every step down many times over when another process is using a core
 * @param baseModels more base models by name (e.g. a Llama-3 beside the Gemma-2 of {@code base_model}), each with
 *     its own tokenizer and template; a training stage picks one with {@code model.base_model}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ExperimentConfig(String name, @StrictJson.Default("null") String description, BaseModel baseModel,
        @StrictJson.Nullable String tokenizer, DataFiles data, @StrictJson.Nullable JsonNode sample,
        List<String> stages, @StrictJson.Nullable Integer cpuThreads, @StrictJson.Default("null") String template,
        @StrictJson.Default("{}") Map<String, NamedBaseModel> baseModels) {
    /** The name {@code base_model} goes by in logs and in a trained stage's encoding.json. */
    public static final String DEFAULT_BASE = "default";

    public ExperimentConfig {
        if (baseModel == null) {
            throw new IllegalArgumentException("missing field 'base_model'");
        }
        data = data == null ? new DataFiles(null, null, null, List.of(), List.of()) : data;
        if (stages == null || stages.isEmpty()) {
            throw new IllegalArgumentException("missing field 'stages'");
        }
        stages = List.copyOf(stages);
        if (template != null) {
            ChatTemplate.forName(template);
        }
        baseModels = baseModels == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(baseModels));
        if (baseModels.containsKey(DEFAULT_BASE)) {
            throw new IllegalArgumentException("base_models: '" + DEFAULT_BASE + "' is the name of base_model; "
                    + "choose another name");
        }
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
     * A base model of {@code base_models}: a checkpoint (or tiny sizes) as in {@code base_model}, with its own
     * tokenizer (null = the checkpoint folder's tokenizer.json) and chat template (null = its family's).
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record NamedBaseModel(@StrictJson.Default("null") String checkpoint, @StrictJson.Default("null") TinyModel tiny,
            @StrictJson.Nullable String tokenizer, @StrictJson.Default("null") String template) {
        public NamedBaseModel {
            new BaseModel(checkpoint, tiny); // exactly one of the two
            if (template != null) {
                ChatTemplate.forName(template);
            }
        }

        public BaseModel baseModel() {
            return new BaseModel(checkpoint, tiny);
        }
    }

    /**
     * Sizes of a tiny random model (vocabulary size comes from the tokenizer).
     *
     * @param modelType its family: {@code gemma2} (default), {@code llama} or {@code qwen2}
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TinyModel(@StrictJson.Default("\"gemma2\"") String modelType, int hiddenSize, int intermediateSize,
            int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads, int headDim, long seed) {
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
