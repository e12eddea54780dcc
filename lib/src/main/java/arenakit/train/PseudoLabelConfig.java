package arenakit.train;

import arenakit.infer.InferenceConfig;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * The pseudo-label stage: an ensemble of trained stages predicts soft labels for unlabeled pairs.
 *
 * @param models stage names (or adapter folders) whose predictions are averaged (probabilities; with TTA each
 *     model's own swap average first)
 * @param maxLength input token budget of every model; null = each model's own training budget (format and
 *     truncation always come from the model's training config)
 * @param chunkRows rows per resumable chunk: an interrupted run redoes at most one chunk per model
 * @param spark null = this process predicts; set = the stage runs as a Spark job ({@link SparkConfig})
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record PseudoLabelConfig(String kind, @StrictJson.Default("null") String description, List<String> models,
        @StrictJson.Nullable Integer maxLength,
        InferenceConfig inference, int chunkRows, @StrictJson.Default("null") SparkConfig spark) {

    public static final String KIND = "pseudo_labels";

    public PseudoLabelConfig {
        if (models == null || models.isEmpty()) {
            throw new IllegalArgumentException("models must name at least one trained stage");
        }
        models = List.copyOf(models);
        TrainConfig.require(inference, "inference");
        if (chunkRows <= 0) {
            throw new IllegalArgumentException("chunk_rows must be > 0, got " + chunkRows);
        }
    }
}
