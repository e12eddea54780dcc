package arenakit.train;

import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * Distillation on teacher logits: a row with teacher logits trains on {@code softWeight} * T^2 KL(teacher_T ||
 * student_T) + (1 - {@code softWeight}) * cross-entropy on its target (the teacher's probabilities for a pseudo-label,
 * the human label for a labeled row); a row without trains on plain cross-entropy. 1st place and the WSDM winner used
 * T ~ 5, weight ~ 0.9.
 *
 * @param teachers logits files brought from outside for the labeled rows ({@link TeacherLogits}); empty = only the
 *     pseudo-label stage's logits teach
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record DistillConfig(double temperature, double softWeight, @StrictJson.Default("[]") List<Teacher> teachers) {
    public DistillConfig(double temperature, double softWeight) {
        this(temperature, softWeight, List.of());
    }

    public DistillConfig {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("distill.temperature must be > 0, got " + temperature);
        }
        if (softWeight < 0 || softWeight > 1) {
            throw new IllegalArgumentException("distill.soft_weight must be in [0, 1], got " + softWeight);
        }
        teachers = teachers == null ? List.of() : List.copyOf(teachers);
    }

    /**
     * One teacher: a CSV of {@code id, logit_a, logit_b, logit_tie} and its weight among the teachers.
     *
     * @param logits the file (relative paths are resolved against the working directory)
     * @param weight its share when several teachers are combined (> 0; default 1)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Teacher(String logits, @StrictJson.Default("1.0") Double weight) {
        public Teacher {
            if (logits == null || logits.isBlank()) {
                throw new IllegalArgumentException("distill.teachers: every teacher needs 'logits' (a CSV file of id, "
                        + "logit_a, logit_b, logit_tie)");
            }
            weight = weight == null ? 1.0 : weight;
            if (!(weight > 0) || weight.isInfinite()) {
                throw new IllegalArgumentException("distill.teachers: weight of " + logits + " must be > 0, got "
                        + weight);
            }
        }
    }
}
