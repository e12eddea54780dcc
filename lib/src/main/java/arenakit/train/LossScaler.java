package arenakit.train;

import ai.djl.ndarray.types.DataType;
import java.util.Locale;
import java.util.Optional;

/**
 * Dynamic loss scaling for float16 training, as PyTorch's {@code torch.amp.GradScaler} does it.
 *
 * <p>Gradients below float16's smallest subnormal (6e-8) become zero in a float16 backward. The trainer multiplies
 * each micro-batch loss by the scale S before the backward, so the gradients flow S times larger, and divides the
 * accumulated gradients by S before clipping. When the gradients overflowed (their norm is not finite) the step is
 * skipped and S is multiplied by {@link #BACKOFF_FACTOR}; after {@code growthInterval} finite steps in a row S is
 * multiplied by {@link #GROWTH_FACTOR}. So S settles just below the overflow point. With S a power of two (the
 * default start 2^16 and both factors keep it one) the scaling is exact: a float32 run with scaling trains the same
 * weights as without.
 */
public final class LossScaler {
    /** What multiplies the scale after {@code growthInterval} finite steps (PyTorch's default). */
    public static final double GROWTH_FACTOR = 2;
    /** What multiplies the scale after an overflow (PyTorch's default). */
    public static final double BACKOFF_FACTOR = 0.5;

    /** What a checkpoint keeps: the scale and the finite steps in a row since it last changed. */
    public record State(double scale, int goodSteps) {}

    private final int growthInterval;
    private double scale;
    private int goodSteps;

    LossScaler(double initialScale, int growthInterval) {
        this.scale = initialScale;
        this.growthInterval = growthInterval;
    }

    /**
     * The scaler {@code optimizer.loss_scale} asks for on a model computing in {@code computeType}: "auto" scales
     * float16 models only; empty when scaling is off.
     */
    public static Optional<LossScaler> of(OptimizerConfig config, DataType computeType) {
        boolean on = switch (config.lossScale()) {
            case OptimizerConfig.DYNAMIC -> true;
            case OptimizerConfig.OFF -> false;
            default -> computeType == DataType.FLOAT16;
        };
        return on ? Optional.of(new LossScaler(config.lossScaleInit(), config.lossScaleGrowthInterval()))
                : Optional.empty();
    }

    /** The current scale S. */
    public double scale() {
        return scale;
    }

    public State state() {
        return new State(scale, goodSteps);
    }

    public void restore(State s) {
        scale = s.scale();
        goodSteps = s.goodSteps();
    }

    /** Adjusts the scale after a step whose gradients were finite (applied) or not (skipped). */
    public void update(boolean finite) {
        if (!finite) {
            scale *= BACKOFF_FACTOR;
            goodSteps = 0;
        } else if (++goodSteps == growthInterval) {
            double grown = scale * GROWTH_FACTOR;
            if (grown <= Float.MAX_VALUE) { // the scale is applied as a float32
                scale = grown;
            }
            goodSteps = 0;
        }
    }

    /** The scale as people read it: an integer while it is one. */
    public static String format(double scale) {
        return scale == Math.rint(scale) && scale < 1e15 ? Long.toString((long) scale)
                : String.format(Locale.ROOT, "%.6g", scale);
    }
}
