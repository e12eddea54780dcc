package arenakit.util;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.Locale;
import java.util.UUID;

/**
 * {@link Progress} bars drawn in a Jupyter notebook: an HTML bar under the running cell, redrawn in place
 * (Jupyter's update_display_data) with done/total, percent, elapsed time, rate, ETA and the bar's message, and the
 * same as one line of plain text for front ends and exports that show text only.
 *
 * <p>Active only inside a Java kernel built on jupyter-jvm-basekernel that offers IJava's runtime API ({@code
 * io.github.spencerpark.ijava.runtime.Kernel}: stock IJava and the project's kernel in environment/kernel) with a
 * kernel running. The kernel is reached by reflection, so the library depends on no kernel. Redraws are throttled
 * to four a second (a training loop may step thousands of times a second); the final state is always drawn on
 * close. A bar that cannot be drawn (the kernel went away) stops drawing; it never fails the work it reports on.
 */
public final class NotebookProgress implements Progress.Sink {
    static final String KERNEL_CLASS = "io.github.spencerpark.ijava.runtime.Kernel";
    static final String DISPLAY_DATA = "io.github.spencerpark.jupyter.kernel.display.DisplayData";
    static final long REDRAW_NANOS = 250_000_000L;
    private static final int TEXT_BAR_WIDTH = 20;

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public NotebookProgress() {}

    @Override
    public boolean active() {
        return Api.find() != null;
    }

    @Override
    public Progress.Bar open(String task, long total, String unit) {
        Api api = Api.find();
        if (api == null) {
            throw new IllegalStateException("no Jupyter kernel with IJava's runtime API is running");
        }
        return new HtmlBar(api, task, total, unit);
    }

    /**
     * basekernel's display calls on the running kernel: {@code display(DisplayData)} and
     * {@code getIO().display.updateDisplay(id, DisplayData)}, with display data holding text/plain and text/html.
     */
    private record Api(Object kernel, Method display, Object stream, Method update, Constructor<?> data,
            Method putHtml, Method setId) {
        static Api find() {
            ClassLoader loader = NotebookProgress.class.getClassLoader();
            try {
                Object kernel = Class.forName(KERNEL_CLASS, true, loader).getMethod("getKernelInstance").invoke(null);
                if (kernel == null) {
                    return null; // IJava's classes are there but no kernel runs (e.g. a test of IJava itself)
                }
                Class<?> dataType = Class.forName(DISPLAY_DATA, true, kernel.getClass().getClassLoader());
                Object io = kernel.getClass().getMethod("getIO").invoke(kernel);
                Object stream = io.getClass().getField("display").get(io);
                return new Api(kernel, kernel.getClass().getMethod("display", dataType), stream,
                        stream.getClass().getMethod("updateDisplay", String.class, dataType),
                        dataType.getConstructor(String.class), dataType.getMethod("putHTML", String.class),
                        dataType.getMethod("setDisplayId", String.class));
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                return null; // not in a kernel (the usual case: CLI, tests, jbang)
            }
        }

        Object data(String text, String html, String id) throws ReflectiveOperationException {
            Object d = data.newInstance(text);
            putHtml.invoke(d, html);
            setId.invoke(d, id);
            return d;
        }
    }

    private static final class HtmlBar implements Progress.Bar {
        private final Api api;
        private final String task;
        private final String unit;
        private final long start = System.nanoTime();
        private final String id = UUID.randomUUID().toString();
        private long lastDraw;
        private boolean broken;
        private long done;
        private long total;
        private String message = "";

        HtmlBar(Api api, String task, long total, String unit) {
            this.api = api;
            this.task = task;
            this.total = total;
            this.unit = unit;
            try {
                api.display().invoke(api.kernel(), api.data(text(task, 0, total, 0, "", false, unit),
                        html(task, 0, total, 0, "", false, unit), id));
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
                long elapsed = now - start;
                api.update().invoke(api.stream(), id, api.data(
                        text(task, done, total, elapsed, message, finished, unit),
                        html(task, done, total, elapsed, message, finished, unit), id));
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
    static String html(String task, long done, long total, long elapsedNanos, String message, boolean finished,
            String unit) {
        StringBuilder s = new StringBuilder("<div class=\"arena-progress\" style=\"font-family:monospace;"
                + "font-size:13px;white-space:pre\">");
        s.append("<b>").append(HtmlReport.escape(task)).append("</b> ");
        if (total > 0) {
            s.append(String.format(Locale.ROOT, "%3.0f%% ", 100 * fraction(done, total)));
            s.append("<progress value=\"").append(Math.min(done, total)).append("\" max=\"").append(total)
                    .append("\" style=\"width:22em;vertical-align:middle\"></progress> ");
            s.append(done).append('/').append(total);
        } else {
            s.append(done);
        }
        s.append(HtmlReport.escape(timing(done, total, elapsedNanos, finished, unit)));
        if (message != null && !message.isEmpty()) {
            s.append(' ').append(HtmlReport.escape(message));
        }
        return s.append("</div>").toString();
    }

    /**
     * The same bar as one line of plain text, tqdm-style: {@code train stage1:  45%|#########           | 45/100
     * [00:03<00:04, 15.0 steps/s] loss 0.51}. Package-private for tests.
     */
    static String text(String task, long done, long total, long elapsedNanos, String message, boolean finished,
            String unit) {
        StringBuilder s = new StringBuilder(task).append(": ");
        if (total > 0) {
            double f = fraction(done, total);
            int filled = (int) Math.round(f * TEXT_BAR_WIDTH);
            s.append(String.format(Locale.ROOT, "%3.0f%%|", 100 * f)).append("#".repeat(filled))
                    .append(" ".repeat(TEXT_BAR_WIDTH - filled)).append("| ").append(done).append('/').append(total);
        } else {
            s.append(done);
        }
        s.append(timing(done, total, elapsedNanos, finished, unit));
        if (message != null && !message.isEmpty()) {
            s.append(' ').append(message);
        }
        return s.toString();
    }

    /** " [elapsed<eta, rate]" (no ETA once finished or when the total is unknown). */
    private static String timing(long done, long total, long elapsedNanos, boolean finished, String unit) {
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        StringBuilder s = new StringBuilder(" [").append(clock(seconds));
        if (total > 0 && !finished) {
            s.append('<').append(rate > 0 ? clock((total - done) / rate) : "?");
        }
        return s.append(", ").append(Progress.rate(rate, unit)).append(']').toString();
    }

    private static double fraction(long done, long total) {
        return Math.min(1.0, (double) done / total);
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
}
