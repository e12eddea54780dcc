package arenakit.infer;

import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * The submission stage: trained stage(s) predict the test file; probabilities are averaged over the models,
 * post-processed, clipped and written in sample_submission's row order.
 *
 * @param models stage names (or adapter folders); more than one = an ensemble (average of probabilities)
 * @param maxLength input token budget of every model at inference; null = each model's own training budget (a
 *     longer budget at inference is a common, cheap gain); format and truncation always come from the model
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record SubmissionConfig(String kind, @StrictJson.Default("null") String description, List<String> models,
        @StrictJson.Nullable Integer maxLength,
        InferenceConfig inference) {

    public static final String KIND = "submission";

    public SubmissionConfig {
        if (models == null || models.isEmpty()) {
            throw new IllegalArgumentException("models must name at least one trained stage");
        }
        models = List.copyOf(models);
        if (inference == null) {
            throw new IllegalArgumentException("missing field 'inference'");
        }
    }
}
