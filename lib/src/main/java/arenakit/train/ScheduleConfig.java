package arenakit.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * Learning rate over the run: linear warm-up for the first {@code warmup} fraction of the steps, then linear decay
 * to {@code finalLr} (a fraction of the peak) at the end. Fractions, not step counts, so the same schedule works
 * whatever the data size.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ScheduleConfig(double warmup, double finalLr) {
    public ScheduleConfig {
        if (warmup < 0 || warmup >= 1) {
            throw new IllegalArgumentException("schedule.warmup must be a fraction in [0, 1), got " + warmup);
        }
        if (finalLr < 0 || finalLr > 1) {
            throw new IllegalArgumentException("schedule.final_lr must be a fraction in [0, 1], got " + finalLr);
        }
    }
}
