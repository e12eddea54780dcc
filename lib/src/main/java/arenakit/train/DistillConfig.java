package arenakit.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * Distillation on teacher logits (pseudo-labels): loss = {@code softWeight} * T^2 KL(teacher_T || student_T)
 * + (1 - {@code softWeight}) * cross-entropy on the teacher's probabilities. 1st place used T ~ 5, weight ~ 0.9.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record DistillConfig(double temperature, double softWeight) {
    public DistillConfig {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("distill.temperature must be > 0, got " + temperature);
        }
        if (softWeight < 0 || softWeight > 1) {
            throw new IllegalArgumentException("distill.soft_weight must be in [0, 1], got " + softWeight);
        }
    }
}
