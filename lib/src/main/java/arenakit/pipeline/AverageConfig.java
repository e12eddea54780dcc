package arenakit.pipeline;

import arenakit.util.StrictJson;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * An averaging stage ({@code "kind": "average"}): LoRA adapters of one base model (folds, seeds) averaged into one
 * ({@link AdapterAveraging}). Its folder is a trained stage like a training stage's (stage.json + adapter/ +
 * encoding.json), so pseudo-label, submission and later training stages name it in {@code models} or
 * {@code load_from}.
 *
 * @param models the adapters: {@code ["stage3_fold0", {"model": "stage3_fold1", "weight": 2}]}; each a LoRA training
 *     (or averaging) stage of the setup that runs earlier, a stage output folder or a bare PEFT adapter folder
 * @param rank the LoRA rank of the result; null = the sum of the input ranks (exact)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AverageConfig(String kind, @StrictJson.Default("null") String description, List<Member> models,
        @StrictJson.Nullable Integer rank) {

    public static final String KIND = "average";

    public AverageConfig {
        if (models == null || models.isEmpty()) {
            throw new IllegalArgumentException("models must name at least one adapter to average");
        }
        models = List.copyOf(models);
        if (rank != null && rank <= 0) {
            throw new IllegalArgumentException("rank must be > 0 (or null for the sum of the input ranks), got "
                    + rank);
        }
    }

    /** One averaged model: {@code {"model": "stage3_fold1", "weight": 2}}, or just its name (weight 1). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Member(String model, @StrictJson.Default("1.0") Double weight) {
        public Member {
            if (model == null || model.isBlank()) {
                throw new IllegalArgumentException("models: each entry needs a 'model' (a stage name or folder)");
            }
            weight = weight == null ? 1.0 : weight;
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("models: weight of '" + model + "' must be > 0, got " + weight);
            }
        }

        /** A plain string: the model with weight 1. */
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        public static Member of(String model) {
            return new Member(model, 1.0);
        }

        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        static Member object(@JsonProperty("model") String model, @JsonProperty("weight") Double weight) {
            return new Member(model, weight);
        }
    }
}
