package arenakit.infer;

import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * 4th place's rules. Each value is the probability given to the rule's outcome; null switches the rule off.
 *
 * @param emptyResponse one side's responses are all null/blank and the other's are not: that other side wins
 *     with this probability
 * @param identicalResponses both sides answered identically in every turn: tie with this probability
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record PostProcessConfig(@StrictJson.Nullable Double emptyResponse,
        @StrictJson.Nullable Double identicalResponses) {
    public PostProcessConfig {
        for (Double p : new Double[] {emptyResponse, identicalResponses}) {
            if (p != null && (p <= 0 || p >= 1)) {
                throw new IllegalArgumentException("postprocess probabilities must be in (0, 1), got " + p);
            }
        }
    }
}
