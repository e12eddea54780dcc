package arenakit.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * AdamW settings. {@code gradClip} is the max global L2 norm of the gradients (0 = no clipping).
 * Weight decay applies to matrices only (LoRA A/B, head weights), not to biases or norms.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record OptimizerConfig(double lr, double weightDecay, List<Double> betas, double eps, double gradClip) {
    public OptimizerConfig {
        if (!(lr > 0)) {
            throw new IllegalArgumentException("optimizer.lr must be > 0, got " + lr);
        }
        betas = betas == null ? List.of(0.9, 0.999) : List.copyOf(betas);
        if (betas.size() != 2 || betas.stream().anyMatch(b -> b < 0 || b >= 1)) {
            throw new IllegalArgumentException("optimizer.betas must be two numbers in [0, 1), got " + betas);
        }
        if (eps == 0) {
            eps = 1e-8;
        }
        if (weightDecay < 0 || gradClip < 0) {
            throw new IllegalArgumentException("optimizer.weight_decay and grad_clip must be >= 0");
        }
    }

    public double beta1() {
        return betas.get(0);
    }

    public double beta2() {
        return betas.get(1);
    }
}
