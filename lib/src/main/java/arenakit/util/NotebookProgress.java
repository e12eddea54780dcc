package arenakit.util;

import java.lang.reflect.Method;
import java.util.Locale;

/**
 * {@link Progress} bars drawn in a Jupyter notebook: an HTML bar under the running cell, redrawn in place
 * (Jupyter's update_display_data) with done/total, percent, elapsed time, rate, ETA and the bar's message.
 *
 * <p>Active only inside a Java kernel that offers IJava's runtime display API ({@code
 * io.github.spencerpark.ijava.runtime.Display}: stock IJava and the project's kernel in environment/kernel) with a
 * kernel running. The API is reached by reflection, so the library depends on no kernel. Redraws are throttled to
 * four a second (a training loop may step thousands of times a second); the final state is always drawn on close.
 * A bar that cannot be drawn (the kernel went away) stops drawing; it never fails the work it reports on.
 */
public final class NotebookProgress implements Progress.Sink {
    static final String DISPLAY_CLASS = "io.github.spencerpark.ijava.runtime.Display";
    static final String KERNEL_CLASS = "io.github.spencerpark.ijava.runtime.Kernel";
    static final long REDRAW_NANOS = 250_000_000L;

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public NotebookProgress() {}

    @Override
    public boolean active() {
        return Api.find() != null;
    }

    @Override
    public Progress.Bar open(String task, long total) {
        Api api = Api.find();
        if (api == null) {
            throw new IllegalStateException("no Jupyter kernel with IJava's display API is running");
        }
        return new HtmlBar(api, task, total);
    }

    /** IJava's static display functions, looked up by name. */
    private record Api(Method display, Method update) {
        static Api find() {
            ClassLoader loader = NotebookProgress.class.getClassLoader();
            try {
                Class<?> kernel = Class.forName(KERNEL_CLASS, true, loader);
                if (kernel.getMethod("getKernelInstance").invoke(null) == null) {
                    return null; // IJava's classes are there but no kernel runs (e.g. a test of IJava itself)
                }
                Class<?> display = Class.forName(DISPLAY_CLASS, true, loader);
                return new Api(display.getMethod("display", Object.class, String[].class),
                        display.getMethod("updateDisplay", String.class, Object.class, String[].class));
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                return null; // not in a kernel (the usual case: CLI, tests, jbang)
            }
        }
    }

    private static final class HtmlBar implements Progress.Bar {
        private static final String[] HTML = {"text/html"};

        private final Api api;
        private final String task;
        private final long start = System.nanoTime();
        private String id;
        private long lastDraw;
        private boolean broken;
        private long done;
        private long total;
        private String message = "";

        HtmlBar(Api api, String task, long total) {
            this.api = api;
            this.task = task;
            this.total = total;
            try {
                id = (String) api.display().invoke(null, html(task, 0, total, 0, "", false), HTML);
                lastDraw = System.nanoTime();
            } catch (ReflectiveOperationException | RuntimeException e) {
                broken = true;
            }
        }

        @Override
        public synchronized void update(long done, long total, String message) {
            this.done = done;
            this.total = total;
            this.message = message;
            long now = System.nanoTime();
            if (now - lastDraw >= REDRAW_NANOS || (total > 0 && done >= total)) {
                draw(false, now);
            }
        }

        @Override
        public synchronized void close() {
            draw(true, System.nanoTime());
        }

        private void draw(boolean finished, long now) {
            if (broken) {
                return;
            }
            try {
                api.update().invoke(null, id, html(task, done, total, now - start, message, finished), HTML);
                lastDraw = now;
            } catch (ReflectiveOperationException | RuntimeException e) {
                broken = true;
            }
        }
    }

    /**
     * The bar as HTML. {@code total <= 0} means unknown: no bar and no ETA, just the count and rate.
     * Package-private for tests.
     */
    static String html(String task, long done, long total, long elapsedNanos, String message, boolean finished) {
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        StringBuilder s = new StringBuilder("<div class=\"arena-progress\" style=\"font-family:monospace;"
                + "font-size:13px;white-space:pre\">");
        s.append("<b>").append(HtmlReport.escape(task)).append("</b> ");
        if (total > 0) {
            double fraction = Math.min(1.0, (double) done / total);
            s.append(String.format(Locale.ROOT, "%3.0f%% ", 100 * fraction));
            s.append("<progress value=\"").append(Math.min(done, total)).append("\" max=\"").append(total)
                    .append("\" style=\"width:22em;vertical-align:middle\"></progress> ");
            s.append(done).append('/').append(total);
        } else {
            s.append(done);
        }
        s.append(" [").append(clock(seconds));
        if (total > 0 && !finished) {
            s.append('<').append(rate > 0 ? clock((total - done) / rate) : "?");
        }
        s.append(", ").append(rate(rate)).append(']');
        if (message != null && !message.isEmpty()) {
            s.append(' ').append(HtmlReport.escape(message));
        }
        return s.append("</div>").toString();
    }

    /** h:mm:ss, or mm:ss under an hour. */
    static String clock(double seconds) {
        long t = Math.round(seconds);
        long h = t / 3600;
        long m = (t % 3600) / 60;
        long sec = t % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
                : String.format(Locale.ROOT, "%02d:%02d", m, sec);
    }

    private static String rate(double perSecond) {
        if (perSecond >= 1 || perSecond == 0) {
            return String.format(Locale.ROOT, "%.2f it/s", perSecond);
        }
        return String.format(Locale.ROOT, "%.2f s/it", 1 / perSecond);
    }
}
