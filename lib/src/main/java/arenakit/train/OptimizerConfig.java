package arenakit.train;

import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Locale;

/**
 * AdamW settings. {@code gradClip} is the max global L2 norm of the gradients (0 = no clipping).
 * Weight decay applies to matrices only (LoRA A/B, head weights), not to biases or norms.
 *
 * @param lossScale "auto" (dynamic when the model computes in float16, off otherwise), "dynamic" or "off": see
 *     {@link LossScaler}
 * @param lossScaleInit the dynamic scale to start from (default 2^16, as PyTorch's GradScaler)
 * @param lossScaleGrowthInterval finite steps in a row after which the scale doubles (default 2000)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record OptimizerConfig(double lr, double weightDecay, List<Double> betas, double eps, double gradClip,
        @StrictJson.Default("\"auto\"") String lossScale, @StrictJson.Default("65536") Double lossScaleInit,
        @StrictJson.Default("2000") Integer lossScaleGrowthInterval) {
    public static final String AUTO = "auto";
    public static final String DYNAMIC = "dynamic";
    public static final String OFF = "off";

    public OptimizerConfig {
        if (!(lr > 0)) {
            throw new IllegalArgumentException("optimizer.lr must be > 0, got " + lr);
        }
        betas = betas == null ? List.of(0.9, 0.999) : List.copyOf(betas);
        if (betas.size() != 2 || betas.stream().anyMatch(b -> b < 0 || b >= 1)) {
            throw new IllegalArgumentException("optimizer.betas must be two numbers in [0, 1), got " + betas);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("optimizer.eps must be > 0 (1e-8 is usual), got " + eps);
        }
        if (weightDecay < 0 || gradClip < 0) {
            throw new IllegalArgumentException("optimizer.weight_decay and grad_clip must be >= 0");
        }
        lossScale = lossScale == null ? AUTO : lossScale.toLowerCase(Locale.ROOT);
        if (!List.of(AUTO, DYNAMIC, OFF).contains(lossScale)) {
            throw new IllegalArgumentException("optimizer.loss_scale must be auto, dynamic or off, got " + lossScale);
        }
        lossScaleInit = lossScaleInit == null ? 65536.0 : lossScaleInit;
        // the scale multiplies a float32 loss; below 1 it would shrink gradients instead of lifting them
        if (!(lossScaleInit >= 1 && lossScaleInit <= Float.MAX_VALUE)) {
            throw new IllegalArgumentException("optimizer.loss_scale_init must be in [1, 3.4e38] (a float32), got "
                    + lossScaleInit);
        }
        lossScaleGrowthInterval = lossScaleGrowthInterval == null ? 2000 : lossScaleGrowthInterval;
        if (lossScaleGrowthInterval < 1) {
            throw new IllegalArgumentException("optimizer.loss_scale_growth_interval must be >= 1, got "
                    + lossScaleGrowthInterval);
        }
    }

    /** AdamW without loss-scaling settings: {@code loss_scale} auto with PyTorch's defaults. */
    public OptimizerConfig(double lr, double weightDecay, List<Double> betas, double eps, double gradClip) {
        this(lr, weightDecay, betas, eps, gradClip, null, null, null);
    }

    /** The same settings with other loss scaling. */
    public OptimizerConfig withLossScale(String mode, double init, int growthInterval) {
        return new OptimizerConfig(lr, weightDecay, betas, eps, gradClip, mode, init, growthInterval);
    }

    public double beta1() {
        return betas.get(0);
    }

    public double beta2() {
        return betas.get(1);
    }
}
