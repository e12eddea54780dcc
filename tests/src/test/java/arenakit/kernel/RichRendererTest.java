package arenakit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.traces.BarTrace;

class RichRendererTest {
    private final AtomicInteger cell = new AtomicInteger();

    private RichRenderer renderer(Optional<Path> plotly) {
        return new RichRenderer(new PlotlyJs(plotly, Optional.empty(),
                () -> new PlotlyJs.Cell(null, "cell " + cell.get(), cell.get())));
    }

    private static String html(DisplayData d) {
        return String.valueOf(d.getData(MIMEType.TEXT_HTML));
    }

    @Test
    void longTablesShowHeadAndTailAndAlwaysTheirSize() {
        Table t = Table.create("long", IntColumn.create("i", IntStream.range(0, 100).toArray()));
        String html = html(renderer(Optional.empty()).render(t));
        assertTrue(html.contains("<tr><th>14</th><td>14</td></tr><tr><th>&hellip;</th>"), html);
        assertTrue(html.contains("<tr><th>95</th><td>95</td></tr>"), html);
        assertFalse(html.contains("<th>15</th>") || html.contains("<th>94</th>"), html);
        assertTrue(html.contains("<p>100 rows &times; 1 column</p>"), html);
        assertTrue(html.contains("<caption style=\"caption-side:top;text-align:left\">long</caption>"), html);
    }

    @Test
    void cellsAreEscapedAndLongTextIsCut() {
        String longText = "x".repeat(500);
        Table t = Table.create("", StringColumn.create("text", "<script>alert(1)</script>", longText));
        DisplayData d = renderer(Optional.empty()).render(t);
        assertTrue(html(d).contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
        assertTrue(html(d).contains("<td>" + "x".repeat(RichRenderer.MAX_CELL_CHARS - 1) + "\u2026</td>"));
        assertEquals(t.toString(), d.getData(MIMEType.TEXT_PLAIN), "text front ends get Tablesaw's own print");
    }

    @Test
    void figuresCarryPlotlyOncePerSessionAndFigureScriptsWaitForIt(@TempDir Path dir) throws Exception {
        Path plotly = Files.writeString(dir.resolve("plotly.min.js"), "window.Plotly = {newPlot: function () {}};");
        RichRenderer r = renderer(Optional.of(plotly));
        Figure fig = new Figure(BarTrace.builder(new String[] {"a", "b"}, new double[] {1, 2}).build());
        String first = html(r.render(fig));
        String second = html(r.render(fig));
        cell.incrementAndGet();
        String nextCell = html(r.renderAs(fig, "text/html"));
        assertTrue(first.contains("DecompressionStream") && first.contains("Plotly.newPlot("), first);
        assertFalse(second.contains("DecompressionStream"), "the session already sent plotly.js");
        assertFalse(nextCell.contains("DecompressionStream"), "once per session, not once per cell");
        assertTrue(nextCell.contains("A.queue.push"), "a figure waits for plotly.js when it is not there yet");
        assertTrue(first.indexOf("DecompressionStream") < first.indexOf("Plotly.newPlot("));
    }
    @Test
    void withoutPlotlyJsTheFigureSaysHowToGetIt() {
        Figure fig = new Figure(BarTrace.builder(new String[] {"a"}, new double[] {1}).build());
        assertTrue(html(renderer(Optional.empty()).render(fig)).contains("bash environment/setup.sh"));
    }

    @Test
    void renderAsKeepsOnlyTheRequestedTypesAndOtherObjectsUseBasekernel() {
        Table t = Table.create("t", IntColumn.create("i", 1));
        DisplayData plain = renderer(Optional.empty()).renderAs(t, "text/plain");
        assertFalse(plain.hasDataForType(MIMEType.TEXT_HTML));
        assertEquals("null", renderer(Optional.empty()).render(null).getData(MIMEType.TEXT_PLAIN));
    }
}
