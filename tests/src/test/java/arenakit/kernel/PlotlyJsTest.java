package arenakit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.util.ArenaHome;
import arenakit.util.HeadlessChromium;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.traces.BarTrace;
import tech.tablesaw.plotly.traces.Scatter3DTrace;

/** plotly.js once per kernel session: which figure carries it, in which bundle, and that every figure draws. */
class PlotlyJsTest {
    private static final Pattern PAYLOAD = Pattern.compile("var packed = '([A-Za-z0-9+/=]+)'");
    private final AtomicReference<PlotlyJs.Cell> running = new AtomicReference<>();

    private PlotlyJs plotly(Path full, Path cartesian) {
        return new PlotlyJs(Optional.of(full), Optional.ofNullable(cartesian), running::get);
    }

    private static String bar(PlotlyJs p, String id) {
        Figure f = new Figure(BarTrace.builder(new String[] {"a", "b"}, new double[] {1, 2}).build());
        return p.figure(id, f.divString(id), f.asJavascript(id));
    }

    private static String scatter3d(PlotlyJs p, String id) {
        Figure f = new Figure(Scatter3DTrace.builder(new double[] {1, 2}, new double[] {3, 4}, new double[] {5, 6})
                .build());
        return p.figure(id, f.divString(id), f.asJavascript(id));
    }

    private static String unpacked(String html) throws Exception {
        Matcher m = PAYLOAD.matcher(html);
        assertTrue(m.find(), "no plotly.js in " + html.substring(0, Math.min(300, html.length())));
        byte[] gz = Base64.getDecoder().decode(m.group(1));
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theFirstFigureOfASessionCarriesTheSmallestBundleThatDrawsIt(@TempDir Path dir) throws Exception {
        Path full = Files.writeString(dir.resolve("plotly.min.js"), "/* full */");
        Path cartesian = Files.writeString(dir.resolve("plotly-cartesian.min.js"), "/* cartesian */");
        PlotlyJs p = plotly(full, cartesian);
        running.set(new PlotlyJs.Cell("c1", "display(chart)", 1));
        String first = bar(p, "f1");
        assertEquals("/* cartesian */", unpacked(first), "a bar chart needs only the cartesian bundle");
        assertFalse(bar(p, "f2").contains("var packed"), "a second chart of the same cell");
        running.set(new PlotlyJs.Cell("c2", "display(other)", 2));
        assertFalse(bar(p, "f3").contains("var packed"), "another cell of the same session");
        assertEquals("/* full */", unpacked(scatter3d(p, "f4")), "3-D needs the full bundle, once");
        assertFalse(scatter3d(p, "f5").contains("var packed"));
        assertEquals(Set.of("scatter3d"), PlotlyJs.traceTypes(scatter3d(new PlotlyJs(Optional.of(full),
                Optional.of(cartesian), () -> null), "f6")));
    }

    @Test
    void theCarrierCellRunningAgainSendsItAgainSoTheSavedNotebookKeepsACopy(@TempDir Path dir) throws Exception {
        Path full = Files.writeString(dir.resolve("plotly.min.js"), "/* full */");
        PlotlyJs p = plotly(full, null);
        running.set(new PlotlyJs.Cell("c1", "display(chart)", 1));
        assertEquals("/* full */", unpacked(bar(p, "f1")), "without the cartesian bundle: the full one");
        running.set(new PlotlyJs.Cell("c2", "display(chart)", 2));
        assertFalse(bar(p, "f2").contains("var packed"), "same source, other cell id: another cell");
        running.set(new PlotlyJs.Cell("c1", "display(chart) // edited", 3));
        assertTrue(bar(p, "f3").contains("var packed"), "the carrier (by id) ran again: its old copy is replaced");
        // front ends that send no cell id (classic Notebook, nbclient): the source tells the cell
        PlotlyJs q = plotly(full, null);
        running.set(new PlotlyJs.Cell(null, "display(chart)", 1));
        assertTrue(bar(q, "f1").contains("var packed"));
        running.set(new PlotlyJs.Cell(null, "display(other)", 2));
        assertFalse(bar(q, "f2").contains("var packed"));
        running.set(new PlotlyJs.Cell(null, "display(chart)", 3));
        assertTrue(bar(q, "f3").contains("var packed"));
    }

    /**
     * The real bundles in headless Chromium: figures shown before the output that carries plotly.js (outputs
     * rendered out of order), the carrier, and a second session's carrier on the same page (a restart) all draw.
     */
    @Test
    void everyFigureDrawsWhereverPlotlyJsSitsOnThePage(@TempDir Path dir) throws Exception {
        Path full = ArenaHome.plotlyJs();
        Path cartesian = ArenaHome.plotlyCartesianJs();
        PlotlyJs session1 = plotly(full, cartesian);
        running.set(new PlotlyJs.Cell("c1", "a", 1));
        String carrier = bar(session1, "f1");
        String later = bar(session1, "f2");
        String threeD = scatter3d(session1, "f3");
        PlotlyJs session2 = plotly(full, cartesian);
        String restarted = bar(session2, "f4");
        Path page = dir.resolve("page.html");
        Files.writeString(page, "<!DOCTYPE html><html><head><meta charset=\"UTF-8\"></head><body>"
                + later + threeD + carrier + restarted + "</body></html>");
        String dom = HeadlessChromium.dumpDom(page);
        for (String id : new String[] {"f1", "f2", "f3", "f4"}) {
            Matcher drawn = Pattern.compile("id=\"" + id + "\"[^>]*>\\s*<div class=\"plot-container plotly\"")
                    .matcher(dom);
            assertTrue(drawn.find(), id + " was not drawn");
        }
        assertFalse(dom.contains("class=\"arena-plotly-wait\""), "every 'waiting for plotly.js' note is gone");
    }
}
