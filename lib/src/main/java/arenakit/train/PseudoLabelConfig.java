package arenakit.train;

import arenakit.infer.Ensemble;
import arenakit.infer.InferenceConfig;
import arenakit.infer.WeightedModel;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * The pseudo-label stage: an ensemble of trained stages predicts soft labels for unlabeled pairs.
 *
 * @param models the ensemble, with weights ({@code [{"model": "stage1", "weight": 2}, "llama_stage1"]}; a plain
 *     name has weight 1); each model's own swap TTA is averaged first
 * @param maxLength input token budget of every model; null = each model's own training budget (a model's own
 *     {@code max_length} overrides it; format, truncation and tokenizer always come from the model)
 * @param average "probabilities" (null: the weighted mean of the probabilities) or "logits"
 * @param chunkRows rows per resumable chunk: an interrupted run redoes at most one chunk per model
 * @param spark null = this process predicts; set = the stage runs as a Spark job ({@link SparkConfig})
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record PseudoLabelConfig(String kind, @StrictJson.Default("null") String description, List<WeightedModel> models,
        @StrictJson.Nullable Integer maxLength, @StrictJson.Default("null") String average, InferenceConfig inference,
        int chunkRows, @StrictJson.Default("null") SparkConfig spark) {

    public static final String KIND = "pseudo_labels";

    public PseudoLabelConfig {
        if (models == null || models.isEmpty()) {
            throw new IllegalArgumentException("models must name at least one trained stage");
        }
        models = List.copyOf(models);
        Ensemble.Average.of(average);
        TrainConfig.require(inference, "inference");
        if (chunkRows <= 0) {
            throw new IllegalArgumentException("chunk_rows must be > 0, got " + chunkRows);
        }
    }

    /** The same stage with other inference settings (e.g. a command-line time budget). */
    public PseudoLabelConfig withInference(InferenceConfig other) {
        return new PseudoLabelConfig(kind, description, models, maxLength, average, other, chunkRows, spark);
    }

    /** Every model stored as {@code q} ({@code --quantize}): {@code inference.quantize}, the entries' own cleared. */
    public PseudoLabelConfig withQuantize(String q) {
        return new PseudoLabelConfig(kind, description, models.stream().map(m -> m.withQuantize(null)).toList(),
                maxLength, average, inference.withQuantize(q), chunkRows, spark);
    }
}
