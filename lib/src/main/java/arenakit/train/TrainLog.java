package arenakit.train;

import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One line of a run's history: written every {@code train.log_every} steps, at every evaluation and at the end.
 * {@code trainLoss} is the mean step loss (the stage's objective, {@link Trainer.Result#objective()}) since the
 * previous line; the validation fields are set only on lines where the holdout was evaluated.
 *
 * @param gradNorm the mean gradient norm of the steps applied since the previous line (null when every one of them
 *     was skipped for a gradient overflow)
 * @param lossScale the dynamic loss scale at this step (null when loss scaling is off)
 * @param skippedSteps steps since the previous line skipped because the scaled gradients overflowed
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainLog(long step, int epoch, double lr, double trainLoss, @StrictJson.Nullable Double gradNorm,
        @StrictJson.Nullable Double valLogLoss, @StrictJson.Nullable Double valAccuracy, double seconds,
        @StrictJson.Nullable Double lossScale, int skippedSteps) {}
