package arenakit.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * plotly.js for figures drawn in notebook outputs, from a local file: notebooks run offline (Kaggle, CI), and
 * tablesaw-jsplot's own page template points at a CDN.
 *
 * <p>Where the file is looked up, first hit wins: system property {@code arena.plotly.js}, environment variable
 * {@code ARENA_PLOTLY_JS}, {@code plotly.min.js} next to the kernel jar (environment/kernel/install.sh copies it
 * into the kernelspec), then the project cache {@code .cache/plotly/plotly.min.js} of the checkout found from
 * {@code ARENA_KIT_HOME} or the working directory (as {@code arenakit.util.ArenaHome} does).
 *
 * <p>The library (4.5 MB) is inlined once per executed cell, in the first figure the cell shows, and the browser
 * evaluates it only once per page. Once per cell rather than once per session keeps every saved notebook drawable
 * after any cell is re-run; once per figure would multiply the notebook's size.
 */
final class PlotlyJs {
    static final String FILE_NAME = "plotly.min.js";

    private final Optional<Path> file;
    private final IntSupplier cellCounter;
    private int lastCell = Integer.MIN_VALUE;
    private String script;

    /** @param cellCounter changes value from one executed cell to the next */
    PlotlyJs(Optional<Path> file, IntSupplier cellCounter) {
        this.file = file;
        this.cellCounter = cellCounter;
    }

    static Optional<Path> locate() {
        List<Path> candidates = new ArrayList<>();
        String prop = System.getProperty("arena.plotly.js");
        if (prop != null && !prop.isBlank()) {
            return Optional.of(Path.of(prop));
        }
        String env = System.getenv("ARENA_PLOTLY_JS");
        if (env != null && !env.isBlank()) {
            return Optional.of(Path.of(env));
        }
        try {
            Path code = Path.of(PlotlyJs.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            candidates.add(code.resolveSibling(FILE_NAME));
        } catch (URISyntaxException | SecurityException e) {
            // no code location: rely on the checkout cache below
        }
        String home = System.getenv("ARENA_KIT_HOME");
        if (home != null && !home.isBlank()) {
            candidates.add(Path.of(home, ".cache", "plotly", FILE_NAME));
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("environment/setup.sh"))) {
                candidates.add(p.resolve(".cache/plotly").resolve(FILE_NAME));
                break;
            }
        }
        return candidates.stream().filter(Files::isRegularFile).findFirst();
    }

    /** The inline script for the first figure of the running cell; empty for later figures of the same cell. */
    synchronized String scriptForThisCell() {
        int cell = cellCounter.getAsInt();
        if (cell == lastCell) {
            return "";
        }
        lastCell = cell;
        return script();
    }

    private String script() {
        if (file.isEmpty()) {
            return "<p style=\"color:#b00\">plotly.js not found, so this figure cannot be drawn offline: run "
                    + "<code>bash environment/setup.sh</code> or set ARENA_PLOTLY_JS to a plotly.min.js file.</p>";
        }
        if (script == null) {
            try {
                // hide AMD/CommonJS loaders (classic Jupyter pages load require.js) so plotly sets window.Plotly
                script = "<script type=\"text/javascript\">(function () {\nif (window.Plotly) { return; }\n"
                        + "var define = undefined, module = undefined, exports = undefined;\n"
                        + Files.readString(file.get()) + "\n})();</script>";
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read plotly.js from " + file.get(), e);
            }
        }
        return script;
    }
}
