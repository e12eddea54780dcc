package arenakit.train;

/**
 * Warm-up then linear decay, as in the 2nd-place configs. Step indices are 0-based; the first step already gets a
 * non-zero rate ({@code peak / warmupSteps}) and the decay reaches {@code finalLr * peak} after the last step.
 */
public final class LrSchedule {
    private final double peak;
    private final long totalSteps;
    private final long warmupSteps;
    private final double finalFraction;

    public LrSchedule(double peak, long totalSteps, ScheduleConfig config) {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("a schedule needs at least one step, got " + totalSteps);
        }
        this.peak = peak;
        this.totalSteps = totalSteps;
        this.warmupSteps = Math.round(config.warmup() * totalSteps);
        this.finalFraction = config.finalLr();
    }

    public long warmupSteps() {
        return warmupSteps;
    }

    /** The learning rate of step {@code step} (0-based). */
    public double lr(long step) {
        if (step < 0 || step >= totalSteps) {
            throw new IllegalArgumentException("step " + step + " outside [0, " + totalSteps + ")");
        }
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double remaining = (double) (totalSteps - step) / (totalSteps - warmupSteps);
        return peak * (finalFraction + (1 - finalFraction) * remaining);
    }
}
