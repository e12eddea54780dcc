package arenakit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.components.Layout;
import tech.tablesaw.plotly.traces.BarTrace;

class HtmlReportTest {

    private static HtmlReport report() {
        Table t = Table.create("Fruit <&> counts",
                StringColumn.create("fruit", "apple", "pear"), DoubleColumn.create("kg", 3.5, 1.25));
        Figure bars = new Figure(Layout.builder("Fruit").width(600).height(400).build(),
                BarTrace.builder(t.categoricalColumn("fruit"), t.numberColumn("kg")).build());
        return new HtmlReport("Report \"title\"").heading("Section").paragraph("a < b").table(t).figure(bars);
    }

    @Test
    void pageLoadsNothingFromTheNetwork() throws Exception {
        String html = report().html();
        String plotly = Files.readString(ArenaHome.plotlyCartesianJs());
        assertTrue(html.contains(plotly), "plotly.js (the cartesian bundle: a bar chart needs no more) is inlined");
        assertFalse(html.contains(Files.readString(ArenaHome.plotlyJs())), "not the 4.6 MB bundle");
        String markup = html.replace(plotly, "");
        assertFalse(markup.contains("http://") || markup.contains("https://"), "no URL outside plotly.js:\n" + markup);
        Document doc = Jsoup.parse(markup);
        assertTrue(doc.select("script[src], link[href], img[src], iframe").isEmpty(), "no external resources");
        assertEquals("Fruit <&> counts", doc.selectFirst("table caption").text());
        assertEquals(2, doc.select("table tbody tr").size());
        assertEquals("a < b", doc.selectFirst("p").text());
    }

    @Test
    void aFigureTheCartesianBundleCannotDrawBringsTheFullOne() throws Exception {
        Figure scatter3d = new Figure(tech.tablesaw.plotly.traces.Scatter3DTrace.builder(new double[] {1, 2},
                new double[] {3, 4}, new double[] {5, 6}).build());
        String html = new HtmlReport("3-D").figure(scatter3d).html();
        assertTrue(html.contains(Files.readString(ArenaHome.plotlyJs())), "scatter3d needs the full bundle");
        assertFalse(new HtmlReport("no charts").paragraph("text").html().contains("plotly.js v2"),
                "a page without charts carries no plotly.js");
    }

    @Test
    void captionsKeepDollarSignsAndBackslashes() {
        Table t = Table.create("Cost in $1 \\ row", StringColumn.create("item", "tea"));
        assertEquals("Cost in $1 \\ row", Jsoup.parse(HtmlReport.tableHtml(t)).selectFirst("table caption").text());
    }

    @Test
    void chromiumDrawsTheFigure(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("report.html");
        report().write(file);

        Document dom = Jsoup.parse(HeadlessChromium.dumpDom(file));
        Element figure = dom.selectFirst("div.figure");
        assertTrue(figure.select(".plot-container .main-svg").size() > 0, "plotly drew into the figure div");
        assertEquals(2, figure.select("g.trace.bars g.point").size(), "one bar per row");

        BufferedImage png = HeadlessChromium.screenshot(file, dir.resolve("report.png"), 1000, 1200);
        assertTrue(HeadlessChromium.colouredPixels(png, 0, 0, png.getWidth(), png.getHeight()) > 5_000,
                "the bars are visible in the screenshot");
    }
}
