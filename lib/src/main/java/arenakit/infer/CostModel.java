package arenakit.infer;

import java.util.List;

/**
 * Seconds a model takes for some work, by sequence length: {@code time = a * tokens + b * sum(length^2)}. The
 * first term is the projections and MLP (2 x parameters FLOPs per token), the second the attention scores (eager
 * attention computes and softmaxes {@code heads x length^2} scores per layer). Rows run longest first, so the
 * first batches are the slowest per token: a tokens/s extrapolation would overestimate the whole file, this model
 * does not.
 *
 * <p>{@code a} and {@code b} start from a prior ({@link DeviceTable}: the model's shape on the configured devices)
 * and are fitted to the measured batches by least squares with a small ridge towards the prior ({@link #RIDGE}):
 * while the measured batches all have about the same length (their two features are then collinear) the
 * prior's ratio of a to b decides, and the more lengths the batches cover the more the data do. Not thread-safe.
 */
public final class CostModel {
    /** Work as the cost model sees it: real tokens and the sum of squared sequence lengths. */
    public record Work(double tokens, double squares) {
        public static final Work NONE = new Work(0, 0);

        public static Work of(List<int[]> sequences) {
            double t = 0;
            double s = 0;
            for (int[] q : sequences) {
                t += q.length;
                s += (double) q.length * q.length;
            }
            return new Work(t, s);
        }

        /** {@code copies} sequences of {@code length} tokens. */
        public static Work of(int length, int copies) {
            return new Work((double) length * copies, (double) length * length * copies);
        }

        public Work plus(Work o) {
            return new Work(tokens + o.tokens, squares + o.squares);
        }

        public Work times(double f) {
            return new Work(tokens * f, squares * f);
        }
    }

    /**
     * Weight of the prior, in squared seconds of an average measured batch: the Bayesian choice for batch times
     * that scatter by ~3% (0.03^2) around a cost whose a and b the prior knows to within a factor of about 2.
     */
    static final double RIDGE = 1e-3;
    private final double a0;
    private final double b0;
    private double k = 1; // the measured seconds over the prior's, on the observations
    private double u = 1; // fitted a / (k a0)
    private double v = 1; // fitted b / (k b0)
    private int n;
    private double sumT;
    private double sumX;
    private double sumY;
    private double xx;
    private double xy;
    private double yy;
    private double tx;
    private double ty;
    private double sumSq; // sum of (x + y)^2, scale of the ridge

    /**
     * @param secondsPerToken the prior's a
     * @param secondsPerSquare the prior's b
     * @param calibration measured over prior seconds of the models measured before this one (1 when none): applied
     *     until this model's own batches are measured
     */
    public CostModel(double secondsPerToken, double secondsPerSquare, double calibration) {
        this.a0 = secondsPerToken;
        this.b0 = secondsPerSquare;
        this.k = calibration;
    }

    /** Records that {@code work} took {@code seconds}. */
    public void observe(Work work, double seconds) {
        double x = a0 * work.tokens();
        double y = b0 * work.squares();
        n++;
        sumT += seconds;
        sumX += x;
        sumY += y;
        xx += x * x;
        xy += x * y;
        yy += y * y;
        tx += seconds * x;
        ty += seconds * y;
        sumSq += (x + y) * (x + y);
        fit();
    }

    private void fit() {
        k = sumT / Math.max(1e-300, sumX + sumY);
        // in units of the scaled prior: t ~ u (k x) + v (k y), ridge lambda * ((u - 1)^2 + (v - 1)^2)
        double lambda = RIDGE * k * k * sumSq / n;
        double sxx = k * k * xx + lambda;
        double sxy = k * k * xy;
        double syy = k * k * yy + lambda;
        double rx = k * tx + lambda;
        double ry = k * ty + lambda;
        double det = sxx * syy - sxy * sxy;
        u = (rx * syy - ry * sxy) / det;
        v = (ry * sxx - rx * sxy) / det;
        if (u < 0) {
            u = 0;
            v = ry / syy;
        } else if (v < 0) {
            v = 0;
            u = rx / sxx;
        }
    }

    /** Predicted seconds of {@code work}. */
    public double seconds(Work work) {
        return k * (u * a0 * work.tokens() + v * b0 * work.squares());
    }

    /** Measured batches so far. */
    public int observations() {
        return n;
    }

    /** Measured seconds over the prior's on what was measured (what the next model's prior is scaled by). */
    public double calibration() {
        return k * (u * sumX + v * sumY) / Math.max(1e-300, sumX + sumY);
    }

    /** The fitted coefficients, for logs: seconds per 1k tokens and per 1M squared tokens. */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "%.3g s/1k tokens + %.3g s/1M len^2 (%d batches measured)",
                1000 * k * u * a0, 1e6 * k * v * b0, n);
    }
}
