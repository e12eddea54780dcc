package arenakit.util;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.ServiceLoader;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar with ETA for every long loop in the library (tokenizing, training steps, inference batches).
 *
 * <p>Where it draws is chosen once per bar: a {@link Sink} found by {@link ServiceLoader} that says it is
 * {@link Sink#active() active} (the notebook sink draws in place in Jupyter), else a bar on stderr (me.tongfei
 * progressbar on a terminal; a plain line every 10 s in logs), or nothing when {@code -Darena.progress=off}.
 * Library code only ever calls {@link #start}, {@link #step} / {@link #stepBy}, {@link #message} and {@link #close}.
 * A bar counts in a unit ("row", "token", "step"), so its rate reads "1,234 tokens/s" or "2.5 s/step".
 */
public final class Progress implements AutoCloseable {

    /** Somewhere a bar can be drawn. Implementations are registered in META-INF/services. */
    public interface Sink {
        /** Whether this sink can draw here (e.g. only inside a Jupyter kernel). */
        boolean active();

        /** Starts a bar counting {@code unit}s (singular: "token"); the returned handle receives updates. */
        Bar open(String task, long total, String unit);
    }

    /** One bar being drawn. */
    public interface Bar extends AutoCloseable {
        void update(long done, long total, String message);

        @Override
        void close();
    }

    private final Bar bar;
    private final long total;
    private long done;
    private String message = "";

    private Progress(Bar bar, long total) {
        this.bar = bar;
        this.total = total;
    }

    /** Starts a bar for {@code total} steps of work (use -1 when unknown), counted as "it" (iterations). */
    public static Progress start(String task, long total) {
        return start(task, total, "it");
    }

    /**
     * Starts a bar for {@code total} {@code unit}s of work (use -1 when unknown); {@code unit} is singular
     * ("row", "token", "step") and shows in the rate: "1,234 tokens/s", "2.5 s/step".
     */
    public static Progress start(String task, long total, String unit) {
        String mode = System.getProperty("arena.progress", "auto").toLowerCase(Locale.ROOT);
        if (mode.equals("off")) {
            return new Progress(new NoBar(), total);
        }
        for (Sink sink : ServiceLoader.load(Sink.class, Progress.class.getClassLoader())) {
            if (sink.active()) {
                return new Progress(sink.open(task, total, unit), total);
            }
        }
        return new Progress(System.console() != null ? new TerminalBar(task, total, unit, System.err)
                : new LogBar(task, total, unit, System.err), total);
    }

    /** The plural of a unit name for rates ("token" -> "tokens"; "it", for iterations, stays). */
    static String plural(String unit) {
        return unit.equals("it") || unit.endsWith("s") ? unit : unit + "s";
    }

    /**
     * A rate for people: "1,234 tokens/s" (no decimals from 100 up), "12.5 rows/s", or below one a second the time
     * per unit, "2.5 s/step"; "? tokens/s" before anything was timed.
     */
    public static String rate(double perSecond, String unit) {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
            return "? " + plural(unit) + "/s";
        }
        if (perSecond >= 100) {
            return String.format(Locale.ROOT, "%,.0f %s/s", perSecond, plural(unit));
        }
        if (perSecond >= 1) {
            return String.format(Locale.ROOT, "%.1f %s/s", perSecond, plural(unit));
        }
        return String.format(Locale.ROOT, "%.1f s/%s", 1 / perSecond, unit);
    }

    public void step() {
        stepBy(1);
    }

    public void stepBy(long n) {
        done += n;
        bar.update(done, total, message);
    }

    /** A short status shown after the bar, e.g. the running loss. */
    public void message(String text) {
        message = text == null ? "" : text;
        bar.update(done, total, message);
    }

    @Override
    public void close() {
        bar.close();
    }

    private static final class NoBar implements Bar {
        @Override
        public void update(long done, long total, String message) {}

        @Override
        public void close() {}
    }

    /** A redrawn one-line bar (me.tongfei progressbar): for a terminal. */
    private static final class TerminalBar implements Bar {
        private final ProgressBar pb;

        TerminalBar(String task, long total, String unit, PrintStream out) {
            pb = new ProgressBarBuilder()
                    .setTaskName(task)
                    .setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(500)
                    .setMaxRenderedLength(120)
                    .setUnit(" " + plural(unit), 1)
                    .showSpeed(new java.text.DecimalFormat("#,##0.0"))
                    .setConsumer(new ConsoleProgressBarConsumer(out))
                    .build();
        }

        @Override
        public void update(long done, long total, String message) {
            pb.stepTo(done);
            // the library glues the extra message to the rate ("6.0/sloss"): keep them apart
            pb.setExtraMessage(message == null || message.isEmpty() ? "" : " " + message);
        }

        @Override
        public void close() {
            pb.close();
        }
    }

    /**
     * Redrawing a line with \r only works on a terminal; in logs (CI, redirected output, jbang under a test) this
     * prints a plain line every {@link #EVERY} and one when the work ends.
     */
    private static final class LogBar implements Bar {
        private static final Duration EVERY = Duration.ofSeconds(10);
        private final String task;
        private final String unit;
        private final PrintStream out;
        private final Instant start = Instant.now();
        private Instant last = start;
        private long done;
        private long total;
        private String message = "";

        LogBar(String task, long total, String unit, PrintStream out) {
            this.task = task;
            this.total = total;
            this.unit = unit;
            this.out = out;
        }

        @Override
        public void update(long done, long total, String message) {
            this.done = done;
            this.total = total;
            this.message = message;
            Instant now = Instant.now();
            if (Duration.between(last, now).compareTo(EVERY) >= 0) {
                last = now;
                print(now);
            }
        }

        @Override
        public void close() {
            print(Instant.now());
        }

        private void print(Instant now) {
            Duration elapsed = Duration.between(start, now);
            StringBuilder line = new StringBuilder(task).append(": ").append(done);
            if (total > 0) {
                line.append('/').append(total).append(String.format(Locale.ROOT, " (%d%%)", 100 * done / total));
            }
            line.append(", ").append(clock(elapsed));
            if (total > 0 && done > 0 && done < total) {
                line.append(", eta ").append(clock(elapsed.multipliedBy(total - done).dividedBy(done)));
            }
            if (done > 0 && !elapsed.isZero()) {
                line.append(", ").append(rate(done / (elapsed.toNanos() / 1e9), unit));
            }
            if (!message.isEmpty()) {
                line.append(", ").append(message);
            }
            synchronized (out) {
                out.println(line);
            }
        }

        private static String clock(Duration d) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart());
        }
    }
}
