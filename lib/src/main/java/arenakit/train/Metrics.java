package arenakit.train;

/** The competition metric and friends, on probabilities {@code [n][3]} and class indices. */
public final class Metrics {
    /** Kaggle's clipping (sklearn log_loss): rows renormalised, then clipped to [eps, 1 - eps]. */
    public static final double EPS = 1e-15;

    private Metrics() {}

    /** Multiclass log loss as the leaderboard computes it. */
    public static double logLoss(double[][] probs, int[] labels) {
        check(probs, labels);
        double sum = 0;
        for (int i = 0; i < labels.length; i++) {
            double total = 0;
            for (double p : probs[i]) {
                total += p;
            }
            double p = Math.min(1 - EPS, Math.max(EPS, probs[i][labels[i]] / total));
            sum -= Math.log(p);
        }
        return sum / labels.length;
    }

    /** Share of rows whose most probable class is the label. */
    public static double accuracy(double[][] probs, int[] labels) {
        check(probs, labels);
        int hits = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < probs[i].length; c++) {
                if (probs[i][c] > probs[i][best]) {
                    best = c;
                }
            }
            hits += best == labels[i] ? 1 : 0;
        }
        return (double) hits / labels.length;
    }

    /** Class frequencies of {@code labels} (the constant-prior baseline's prediction). */
    public static double[] prior(int[] labels, int classes) {
        double[] p = new double[classes];
        for (int y : labels) {
            p[y] += 1.0 / labels.length;
        }
        return p;
    }

    /** Log loss of always predicting {@code prior} on {@code labels}: the bar every model must beat. */
    public static double priorLogLoss(double[] prior, int[] labels) {
        double[][] probs = new double[labels.length][];
        java.util.Arrays.fill(probs, prior);
        return logLoss(probs, labels);
    }

    private static void check(double[][] probs, int[] labels) {
        if (probs.length != labels.length || labels.length == 0) {
            throw new IllegalArgumentException(
                    "need as many prediction rows as labels (and at least one): " + probs.length + " vs "
                            + labels.length);
        }
    }
}
