package arenakit.util;

import java.io.PrintStream;
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
 * {@link Sink#active() active} (the notebook sink draws in place in Jupyter), else a terminal bar on stderr
 * (me.tongfei progressbar), or nothing when {@code -Darena.progress=off}. Library code only ever calls
 * {@link #start}, {@link #step}, {@link #message} and {@link #close}.
 */
public final class Progress implements AutoCloseable {

    /** Somewhere a bar can be drawn. Implementations are registered in META-INF/services. */
    public interface Sink {
        /** Whether this sink can draw here (e.g. only inside a Jupyter kernel). */
        boolean active();

        /** Starts a bar; the returned handle receives updates. */
        Bar open(String task, long total);
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

    /** Starts a bar for {@code total} units of work (use -1 when unknown). */
    public static Progress start(String task, long total) {
        String mode = System.getProperty("arena.progress", "auto").toLowerCase(Locale.ROOT);
        if (mode.equals("off")) {
            return new Progress(new NoBar(), total);
        }
        for (Sink sink : ServiceLoader.load(Sink.class, Progress.class.getClassLoader())) {
            if (sink.active()) {
                return new Progress(sink.open(task, total), total);
            }
        }
        return new Progress(new TerminalBar(task, total, System.err), total);
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

    public long done() {
        return done;
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

    private static final class TerminalBar implements Bar {
        private final ProgressBar pb;

        TerminalBar(String task, long total, PrintStream out) {
            pb = new ProgressBarBuilder()
                    .setTaskName(task)
                    .setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(500)
                    .setMaxRenderedLength(100)
                    .showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(out))
                    .build();
        }


        @Override
        public void update(long done, long total, String message) {
            pb.stepTo(done);
            pb.setExtraMessage(message);
        }

        @Override
        public void close() {
            pb.close();
        }
    }
}
