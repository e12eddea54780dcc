package arenakit.eda;

import java.util.Arrays;

/** The few statistics the EDA needs, defined exactly so that the JSON numbers can be re-derived by hand. */
public final class Stats {
    /** The normal quantile for a two-sided 95% interval. */
    public static final double Z95 = 1.959963984540054;

    private Stats() {}

    /** A closed interval [low, high]. */
    public record Interval(double low, double high) {}

    /**
     * The Wilson score interval for a binomial proportion {@code successes / trials} (Wilson 1927; "method 3" in
     * Newcombe 1998). Unlike the normal approximation it stays inside [0, 1] and is sensible for small counts,
     * which is what a model with 30 games needs. With no trials nothing is known: [0, 1].
     */
    public static Interval wilson(long successes, long trials, double z) {
        if (successes < 0 || trials < 0 || successes > trials) {
            throw new IllegalArgumentException("wilson: need 0 <= successes <= trials, got " + successes + " / " + trials);
        }
        if (trials == 0) {
            return new Interval(0, 1);
        }
        double n = trials;
        double p = successes / n;
        double z2 = z * z;
        double denominator = 1 + z2 / n;
        double center = (p + z2 / (2 * n)) / denominator;
        double half = z / denominator * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return new Interval(Math.max(0, center - half), Math.min(1, center + half));
    }

    /**
     * The nearest-rank quantile of {@code sorted} (ascending): the smallest value v such that at least a fraction
     * {@code q} of the values are {@code <= v}, i.e. {@code sorted[ceil(q * n) - 1]} (and the minimum for q = 0).
     * Always one of the data values, so token-length quantiles are whole tokens.
     */
    public static int quantile(int[] sorted, double q) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("quantile of an empty list");
        }
        if (!(q >= 0 && q <= 1)) {
            throw new IllegalArgumentException("quantile: q must be in [0, 1], got " + q);
        }
        int rank = (int) Math.ceil(q * sorted.length - 1e-9);
        return sorted[Math.max(0, rank - 1)];
    }

    /**
     * The smallest multiple of {@code multiple} that leaves at least a fraction {@code coverage} of the
     * {@code lengths} untruncated (length {@code <=} the result): the coverage quantile rounded up to the multiple.
     * Multiples of 16 keep fp16 tensor cores busy; the 2nd-place and silver solutions picked lengths this way.
     */
    public static int recommendMaxLength(int[] lengths, double coverage, int multiple) {
        if (!(coverage > 0 && coverage <= 1)) {
            throw new IllegalArgumentException("coverage must be in (0, 1], got " + coverage);
        }
        if (multiple < 1) {
            throw new IllegalArgumentException("multiple must be >= 1, got " + multiple);
        }
        int[] sorted = lengths.clone();
        Arrays.sort(sorted);
        int needed = quantile(sorted, coverage);
        return Math.max(multiple, ceilToMultiple(needed, multiple));
    }

    static int ceilToMultiple(int value, int multiple) {
        return Math.floorDiv(value + multiple - 1, multiple) * multiple;
    }

    /** {@code part / whole}, 0 when the whole is empty (a rate over no rows). */
    public static double rate(long part, long whole) {
        return whole == 0 ? 0 : (double) part / whole;
    }
}
