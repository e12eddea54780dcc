package arenakit.eda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.SampleGenerator;
import arenakit.text.Tokenizer;
import arenakit.util.HeadlessChromium;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** eda.html of a generated sample, opened in headless Chromium with the network cut off: every chart is drawn. */
class EdaReportRenderTest {
    static final int FIGURES = 7;

    @TempDir
    static Path dir;
    static Path html;

    @BeforeAll
    static void writeReport() throws Exception {
        EdaData sample = EdaData.sample(SampleGenerator.Options.defaults().withRows(300, 30, 0, 0));
        try (Tokenizer tok = Tokenizer.gemma()) {
            Eda.run(sample.train(), sample.test(), tok, dir, EdaOptions.defaults());
        }
        html = dir.resolve(Eda.HTML_FILE);
    }

    @Test
    void loadsNothingFromTheNetwork() throws Exception {
        Document doc = Jsoup.parse(Files.readString(html));
        assertTrue(doc.select("script[src], link[href], img[src], iframe, object, embed").isEmpty(),
                "no external resources");
        assertTrue(doc.select("script").get(0).data().startsWith("\n/**\n* plotly.js (cartesian - minified) v2.35.3"),
                "plotly.js inlined: the cartesian bundle draws every EDA chart");
        // plotly.js itself names its CDN only as the default for geo topojson, which these charts never load
        assertTrue(doc.select("script").stream().skip(1).noneMatch(s -> s.data().contains("http")),
                "no chart script names a URL");
        assertEquals(FIGURES, doc.select("div.figure").size());
    }

    @Test
    void chromiumDrawsEveryChart() throws Exception {
        Document dom = Jsoup.parse(HeadlessChromium.dumpDom(html));
        List<Element> figures = dom.select("div.figure");
        assertEquals(FIGURES, figures.size());
        for (Element f : figures) {
            String title = f.select(".gtitle").text();
            assertTrue(f.select(".plot-container .main-svg").size() > 0, "plotly drew nothing for " + f.id());
            assertTrue(f.select("g.trace").size() > 0, "no traces drawn in '" + title + "'");
            assertTrue(f.select("g.trace path, g.trace .point").size() > 0, "no marks drawn in '" + title + "'");
        }

        BufferedImage png = HeadlessChromium.screenshot(html, dir.resolve("eda.png"), 1200, 12000);
        long coloured = HeadlessChromium.colouredPixels(png, 0, 0, png.getWidth(), png.getHeight());
        assertTrue(coloured > FIGURES * 3_000L, "charts visible in the screenshot: " + coloured + " coloured pixels");
    }
}
