package arenakit.infer;

import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stage's wall-clock budget ({@code inference.time_budget}, {@code --time-budget}), counted from the stage's
 * start (model loading included). The <em>hard limit</em> is the budget less a small reserve for writing the
 * outputs: no batch starts that the cost model says would end after it.
 *
 * <p>Durations are written as {@code 8h30m}, {@code 90s}, {@code 1.5h}, {@code 2h15m30s}; {@code off} (or null)
 * means no budget.
 */
public final class TimeBudget {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)([hms])");
    /**
     * Kept back for writing the outputs after the last batch: 1% of the budget, between 2 s and 2 minutes (and at
     * most half of a budget shorter than 4 s).
     */
    static final double RESERVE_SHARE = 0.01;

    private final Duration budget;
    private final LongSupplier nanos;
    private final long start;

    /**
     * @param nanos the clock ({@code System::nanoTime}; a fake one in tests)
     * @param start when the stage started, on that clock
     */
    public TimeBudget(Duration budget, LongSupplier nanos, long start) {
        this.budget = budget;
        this.nanos = nanos;
        this.start = start;
    }

    /** A budget that starts now on the system clock. */
    public static TimeBudget startingNow(Duration budget) {
        return new TimeBudget(budget, System::nanoTime, System.nanoTime());
    }

    public Duration budget() {
        return budget;
    }

    public LongSupplier clock() {
        return nanos;
    }

    /** Seconds since the stage started. */
    public double elapsed() {
        return (nanos.getAsLong() - start) / 1e9;
    }

    /** Seconds from the start to the hard limit (the budget less the reserve). */
    public double hardLimit() {
        double b = budget.toNanos() / 1e9;
        return b - Math.min(b / 2, Math.min(120, Math.max(2, b * RESERVE_SHARE)));
    }

    /** Seconds left until the hard limit (negative once past it). */
    public double left() {
        return hardLimit() - elapsed();
    }

    /** "8h30m" -> 8.5 hours; null, blank or "off" -> null. A malformed value is an error saying what is expected. */
    public static Duration parse(String text) {
        String t = normalise(text);
        if (t == null) {
            return null;
        }
        return Duration.ofMillis(Math.round(parseSeconds(t) * 1000));
    }

    /** The value in lower case without spaces, null for none; throws when it is not a duration. */
    static String normalise(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String t = text.replace(" ", "").toLowerCase(Locale.ROOT);
        if (t.equals("off") || t.equals("none")) {
            return null;
        }
        if (!t.matches("(\\d+(\\.\\d+)?[hms])+")) {
            throw new IllegalArgumentException("time_budget must be a duration such as 8h30m, 90m or 90s (or off), "
                    + "got '" + text + "'");
        }
        if (parseSeconds(t) <= 0) {
            throw new IllegalArgumentException("time_budget must be > 0, got '" + text + "'");
        }
        return t;
    }

    private static double parseSeconds(String t) {
        Matcher m = PART.matcher(t);
        double s = 0;
        while (m.find()) {
            s += Double.parseDouble(m.group(1)) * ("h".equals(m.group(2)) ? 3600 : "m".equals(m.group(2)) ? 60 : 1);
        }
        return s;
    }

    /** "8h30m", "1h05m", "12m30s", "42s". */
    public static String format(Duration d) {
        long s = Math.round(d.toMillis() / 1000.0);
        if (s >= 3600) {
            long m = (s % 3600 + 30) / 60;
            return (s / 3600 + (m == 60 ? 1 : 0)) + "h" + (m % 60 == 0 ? "" : String.format(Locale.ROOT, "%02dm", m % 60));
        }
        if (s >= 60) {
            return s / 60 + "m" + (s % 60 == 0 ? "" : String.format(Locale.ROOT, "%02ds", s % 60));
        }
        return s + "s";
    }
}
