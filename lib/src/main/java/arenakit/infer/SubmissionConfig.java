package arenakit.infer;

import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * The submission stage: trained stage(s) predict the test file; the ensemble's predictions are averaged with their
 * weights, post-processed, clipped and written in sample_submission's row order.
 *
 * @param models the ensemble: {@code [{"model": "stage3", "weight": 2}, {"model": "llama_stage3", "weight": 1}]}, or
 *     plain names (weight 1); each a stage name or a trained-model folder
 * @param maxLength input token budget of every model at inference; null = each model's own training budget (a
 *     longer budget at inference is a common, cheap gain); a model's own {@code max_length} overrides it; format,
 *     truncation and tokenizer always come from the model
 * @param average how the models' predictions are combined: "probabilities" (null: the weighted mean) or "logits"
 * @param chunkRows rows per resumable chunk of predictions (null = {@link #DEFAULT_CHUNK_ROWS})
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record SubmissionConfig(String kind, @StrictJson.Default("null") String description, List<WeightedModel> models,
        @StrictJson.Nullable Integer maxLength, @StrictJson.Default("null") String average,
        @StrictJson.Default("null") Integer chunkRows, InferenceConfig inference) {

    public static final String KIND = "submission";
    public static final int DEFAULT_CHUNK_ROWS = 2000;

    public SubmissionConfig {
        if (models == null || models.isEmpty()) {
            throw new IllegalArgumentException("models must name at least one trained stage");
        }
        models = List.copyOf(models);
        Ensemble.Average.of(average); // a misspelt value fails when the config is read
        if (chunkRows != null && chunkRows <= 0) {
            throw new IllegalArgumentException("chunk_rows must be > 0, got " + chunkRows);
        }
        if (inference == null) {
            throw new IllegalArgumentException("missing field 'inference'");
        }
    }

    /** The same stage with other models (command-line {@code --model}s, weight 1 each). */
    public SubmissionConfig withModels(List<String> names) {
        return new SubmissionConfig(kind, description, WeightedModel.allOf(names), maxLength, average, chunkRows,
                inference);
    }

    /** The same stage with other inference settings. */
    public SubmissionConfig withInference(InferenceConfig other) {
        return new SubmissionConfig(kind, description, models, maxLength, average, chunkRows, other);
    }

    /** Every model stored as {@code q} ({@code --quantize}): {@code inference.quantize}, the entries' own cleared. */
    public SubmissionConfig withQuantize(String q) {
        return new SubmissionConfig(kind, description, models.stream().map(m -> m.withQuantize(null)).toList(),
                maxLength, average, chunkRows, inference.withQuantize(q));
    }

    public int rowsPerChunk() {
        return chunkRows == null ? DEFAULT_CHUNK_ROWS : chunkRows;
    }
}
