package io.github.spencerpark.ijava.runtime;

import arenakit.kernel.ArenaKernel;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;

/**
 * IJava's notebook display API, same package, names and signatures, so notebooks written for IJava run here and
 * notebooks written here run on IJava. The kernel's JShell session imports these statically: cells call
 * {@code display(table)}, {@code display(html, "text/html")}, {@code updateDisplay(id, ...)}, {@code render(...)}.
 *
 * <p>{@code display} publishes right away and returns the display id that {@code updateDisplay} replaces in place
 * (Jupyter's update_display_data: progress bars, live tables). {@code render} only builds the mime bundle; as the
 * value of a cell's last expression it becomes the cell's result.
 */
public final class Display {
    private Display() {}

    /** The object's preferred representations (text/plain always, plus e.g. text/html for tables and figures). */
    public static DisplayData render(Object o) {
        return ArenaKernel.current().getRenderer().render(o);
    }

    /** The object rendered as the requested mime types (plus text/plain); unsupported types are left out. */
    public static DisplayData render(Object o, String... as) {
        return ArenaKernel.current().getRenderer().renderAs(o, as);
    }

    /** Shows the object now, below the running cell; returns the id to update it with. */
    public static String display(Object o) {
        return ArenaKernel.current().publish(render(o));
    }

    /** Shows the object as the requested mime types now; returns the id to update it with. */
    public static String display(Object o, String... as) {
        return ArenaKernel.current().publish(render(o, as));
    }

    /** Replaces what an earlier {@code display} call showed. */
    public static void updateDisplay(String id, Object o) {
        ArenaKernel.current().updateDisplay(id, render(o));
    }

    /** Replaces what an earlier {@code display} call showed, rendered as the requested mime types. */
    public static void updateDisplay(String id, Object o, String... as) {
        ArenaKernel.current().updateDisplay(id, render(o, as));
    }
}
