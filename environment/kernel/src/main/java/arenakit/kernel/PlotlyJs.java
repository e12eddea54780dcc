package arenakit.kernel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * plotly.js for figures drawn in notebook outputs, from local files (notebooks run offline: Kaggle, CI; jsplot's
 * own page template points at a CDN), sent once per kernel session as Python plotly's notebook mode does.
 *
 * <p><b>Once per session.</b> The first figure a session shows carries plotly.js; every figure's script draws as soon
 * as plotly.js is on the page (at once, or when the carrier's output has loaded: output order does not matter).
 * A saved notebook therefore holds one copy, and reopened it still draws. Two cases re-send it: a new session
 * (kernel restart: its first figure carries it again) and the carrier cell running again (its old output, with the
 * only copy, is being replaced). Cells are told apart by the {@code cellId} that JupyterLab and Notebook 7 send
 * with each execution, or else by their source text. A figure whose plotly.js is missing from the page (that
 * output was cleared) says so in place of the chart.
 *
 * <p><b>Small.</b> The figure's trace types pick the bundle: plotly.js-cartesian (bar, box, contour, heatmap,
 * histogram, histogram2d(contour), image, pie, scatter, scatterternary, violin: 1.4 MB) when it covers them, the
 * full plotly.js (4.6 MB: 3-D, maps, ...) otherwise. The bundle travels gzip-compressed and base64-encoded (a third
 * of its size: 0.6 MB for the cartesian one) and is unpacked in the browser with {@code DecompressionStream} (every
 * current browser). AMD/CommonJS loaders (classic Jupyter pages load require.js) are hidden while it evaluates, so
 * it always sets {@code window.Plotly}.
 *
 * <p>Where the files are looked up, first hit wins: system property {@code arena.plotly.js} (the full bundle; the
 * cartesian one is looked up next to it), environment variable {@code ARENA_PLOTLY_JS} (likewise), the files next to
 * the kernel jar (environment/kernel/install.sh copies them into the kernelspec), then the project cache
 * {@code .cache/plotly/} of the checkout found from {@code ARENA_KIT_HOME} or the working directory.
 */
final class PlotlyJs {
    static final String FILE_NAME = "plotly.min.js";
    static final String CARTESIAN_FILE_NAME = "plotly-cartesian.min.js";
    /** The trace types of plotly.js-cartesian (its package README). */
    static final Set<String> CARTESIAN_TYPES = Set.of("bar", "box", "contour", "heatmap", "histogram",
            "histogram2d", "histogram2dcontour", "image", "pie", "scatter", "scatterternary", "violin");
    private static final Pattern TRACE_TYPE = Pattern.compile("\\btype\\s*:\\s*['\"]([A-Za-z0-9_]+)['\"]");
    /** {@code type:} values that are not trace types: axis types and error-bar types. */
    static final Set<String> NOT_TRACES = Set.of("linear", "log", "date", "category", "multicategory", "data",
            "percent", "constant", "sqrt", "-");

    /** The two bundles, smallest first. */
    enum Bundle {
        CARTESIAN, FULL;

        String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Which cell is running: its Jupyter cell id when the front end sends one, else its source. */
    record Cell(String id, String source, int execution) {
        boolean sameCellAs(Cell other) {
            if (other == null) {
                return false;
            }
            return id != null && other.id != null ? id.equals(other.id) : Objects.equals(source, other.source);
        }
    }

    private final Map<Bundle, Optional<Path>> files;
    private final Supplier<Cell> runningCell;
    private final Map<Bundle, Cell> carriers = new EnumMap<>(Bundle.class);
    private final Map<Bundle, String> payloads = new EnumMap<>(Bundle.class);

    /**
     * @param full the full plotly.min.js, if found
     * @param cartesian plotly-cartesian.min.js, if found (without it every figure uses the full bundle)
     * @param runningCell the cell being executed
     */
    PlotlyJs(Optional<Path> full, Optional<Path> cartesian, Supplier<Cell> runningCell) {
        this.files = new EnumMap<>(Map.of(Bundle.FULL, full, Bundle.CARTESIAN, cartesian));
        this.runningCell = runningCell;
    }

    /** The full bundle and the cartesian one found where {@link PlotlyJs} says. */
    static PlotlyJs located(Supplier<Cell> runningCell) {
        Optional<Path> full = locate(FILE_NAME);
        Optional<Path> cartesian = full.map(f -> f.resolveSibling(CARTESIAN_FILE_NAME)).filter(Files::isRegularFile)
                .or(() -> locate(CARTESIAN_FILE_NAME));
        return new PlotlyJs(full, cartesian, runningCell);
    }

    static Optional<Path> locate(String fileName) {
        for (String explicit : new String[] {System.getProperty("arena.plotly.js"), System.getenv("ARENA_PLOTLY_JS")}) {
            if (explicit != null && !explicit.isBlank()) {
                Path p = Path.of(explicit);
                return fileName.equals(FILE_NAME) ? Optional.of(p)
                        : Optional.of(p.resolveSibling(fileName)).filter(Files::isRegularFile);
            }
        }
        List<Path> candidates = new ArrayList<>();
        try {
            Path code = Path.of(PlotlyJs.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            candidates.add(code.resolveSibling(fileName));
        } catch (URISyntaxException | SecurityException e) {
            // no code location: rely on the checkout cache below
        }
        String home = System.getenv("ARENA_KIT_HOME");
        if (home != null && !home.isBlank()) {
            candidates.add(Path.of(home, ".cache", "plotly", fileName));
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("environment/setup.sh"))) {
                candidates.add(p.resolve(".cache/plotly").resolve(fileName));
                break;
            }
        }
        return candidates.stream().filter(Files::isRegularFile).findFirst();
    }

    /** The trace types a figure's script draws ({@code type: 'scatter'} per trace; axis types left out). */
    static Set<String> traceTypes(String script) {
        Set<String> types = new java.util.TreeSet<>();
        Matcher m = TRACE_TYPE.matcher(script);
        while (m.find()) {
            if (!NOT_TRACES.contains(m.group(1))) {
                types.add(m.group(1));
            }
        }
        return types;
    }

    /**
     * A figure as HTML: its div (with a note that shows until the chart is drawn), plotly.js when this cell has to
     * carry it, and the script that draws once plotly.js is there. {@code script} is tablesaw-jsplot's
     * {@code asJavascript(divId)} for the div.
     */
    synchronized String figure(String divId, String div, String script) {
        Bundle needed = bundleFor(traceTypes(script));
        StringBuilder html = new StringBuilder();
        if (files.get(needed).isEmpty()) {
            return "<p style=\"color:#b00\">plotly.js not found, so this figure cannot be drawn offline: run "
                    + "<code>bash environment/setup.sh</code> or set ARENA_PLOTLY_JS to a plotly.min.js file.</p>"
                    + div;
        }
        Cell cell = runningCell.get();
        Cell carrier = carriers.get(needed);
        if (carrier == null || (cell != null && cell.sameCellAs(carrier) && cell.execution() != carrier.execution())) {
            html.append(carrierScript(needed));
            carriers.put(needed, cell == null ? new Cell(null, null, Integer.MIN_VALUE) : cell);
        }
        html.append(waiting(div)).append(drawScript(divId, script, needed));
        return html.toString();
    }

    private Bundle bundleFor(Set<String> types) {
        boolean cartesian = CARTESIAN_TYPES.containsAll(types) && files.get(Bundle.CARTESIAN).isPresent();
        return cartesian ? Bundle.CARTESIAN : Bundle.FULL;
    }

    /** The div with a note inside; plotly draws into the div after the note is removed. */
    private static String waiting(String div) {
        int close = div.lastIndexOf("</div>");
        String note = "<p class=\"arena-plotly-wait\" style=\"color:#888;font-size:12px\">chart: waiting for "
                + "plotly.js, which this notebook carries once, in the output of the first chart the kernel drew. "
                + "If this stays, that output is gone: run the notebook again (Run All).</p>";
        return close < 0 ? div + note : div.substring(0, close) + note + div.substring(close);
    }

    /** tablesaw's script, run as soon as a bundle that has the figure's trace types is on the page. */
    private static String drawScript(String divId, String script, Bundle needed) {
        String body = script.replaceAll("(?is)^\\s*<script[^>]*>", "").replaceAll("(?is)</script>\\s*$", "");
        return "<script type=\"text/javascript\">(function () {\n"
                + "var A = window.arenaPlotly = window.arenaPlotly || {bundles: {}, queue: []};\n"
                + "var draw = function (Plotly) {\n"
                + "if (!document.getElementById('" + divId + "')) { return; }\n"
                + "var wait = document.querySelectorAll('#" + divId + " .arena-plotly-wait');\n"
                + "for (var i = 0; i < wait.length; i++) { wait[i].remove(); }\n"
                + body + "\n};\n"
                + "var ready = A.bundles.full || (" + (needed == Bundle.CARTESIAN) + " && A.bundles.cartesian);\n"
                + "if (ready) { draw(ready); } else { A.queue.push({need: '" + needed.key() + "', draw: draw}); }\n"
                + "})();</script>";
    }

    /** The bundle, gzip + base64, and the code that unpacks it, evaluates it and draws the waiting figures. */
    private String carrierScript(Bundle bundle) {
        return "<script type=\"text/javascript\">(function () {\n"
                + "var A = window.arenaPlotly = window.arenaPlotly || {bundles: {}, queue: []};\n"
                + "if (A.bundles." + bundle.key() + ") { return; }\n"
                + "var packed = '" + payload(bundle) + "';\n"
                + "var bytes = Uint8Array.from(atob(packed), function (c) { return c.charCodeAt(0); });\n"
                + "var text = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));\n"
                + "new Response(text).text().then(function (source) {\n"
                + "  if (A.bundles." + bundle.key() + ") { return; }\n"
                // hide AMD/CommonJS loaders: the bundle then sets window.Plotly
                + "  new Function('define', 'module', 'exports', source)(undefined, undefined, undefined);\n"
                + "  A.bundles." + bundle.key() + " = window.Plotly;\n"
                + "  window.Plotly = A.bundles.full || A.bundles.cartesian;\n"
                + "  var waiting = A.queue; A.queue = [];\n"
                + "  waiting.forEach(function (w) {\n"
                + "    var p = A.bundles.full || (w.need === 'cartesian' && A.bundles.cartesian);\n"
                + "    if (!p) { A.queue.push(w); return; }\n"
                + "    try { w.draw(p); } catch (e) { console.error('arena-kit: a chart failed to draw', e); }\n"
                + "  });\n"
                + "});\n"
                + "})();</script>";
    }

    private String payload(Bundle bundle) {
        return payloads.computeIfAbsent(bundle, b -> {
            Path file = files.get(b).orElseThrow();
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (GZIPOutputStream gz = new GZIPOutputStream(out) {
                    {
                        def.setLevel(Deflater.BEST_COMPRESSION);
                    }
                }) {
                    gz.write(Files.readAllBytes(file));
                }
                return Base64.getEncoder().encodeToString(out.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read plotly.js from " + file, e);
            }
        });
    }
}
