package arenakit.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One line of a run's history: written at every evaluation (and at the end). {@code trainLoss} is the mean step
 * loss since the previous line; the validation fields are null when there is no holdout.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainLog(long step, int epoch, double lr, double trainLoss, double gradNorm, Double valLogLoss,
        Double valAccuracy, double seconds) {}
