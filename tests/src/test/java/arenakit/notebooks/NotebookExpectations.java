package arenakit.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.util.HeadlessChromium;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What each notebook must show after a headless run (on top of "no cell failed", which every notebook gets).
 *
 * <p>Every notebook in notebooks/ needs an entry here, or {@link NotebooksTest} fails for it. To add one:
 * <ol>
 *   <li>tag the cells whose outputs matter (Jupyter: property inspector, "Cell tags"; in the JSON:
 *       {@code "metadata": {"tags": ["eda-balance"]}}); tags are invisible to readers and survive cell moves;</li>
 *   <li>have those cells show what can be checked: print {@code key: value} lines for numbers
 *       ({@code System.out.println("rows: " + table.rowCount())}), display Tablesaw tables and jsplot figures;</li>
 *   <li>add {@code expect("NN-name.ipynb", nb -> ...)} below, using {@link ExecutedNotebook#cell(String)} and the
 *       {@link ExecutedNotebook.Cell} queries: {@code printed(key)}, {@code number(key)}, {@code stdout()},
 *       {@code text()}, {@code tableRows()}, {@code figures()}, {@code html()}, {@code htmlContaining(marker)}; and
 *       {@link #assertChartsDraw} for a notebook whose charts should be opened in Chromium.</li>
 * </ol>
 * Checks run on the smoke setup ({@code ARENA_CONFIG=smoke}): assert what that setup must produce (row counts of its
 * data, columns, shapes of outputs, a submission's rows), not numbers that depend on a long training run.
 */
final class NotebookExpectations {
    /** Checks of one executed notebook. */
    @FunctionalInterface
    interface Check {
        void verify(ExecutedNotebook nb) throws Exception;
    }

    private static final Map<String, Check> CHECKS = new TreeMap<>();

    private NotebookExpectations() {}

    static void expect(String notebook, Check check) {
        CHECKS.put(notebook, check);
    }

    static Check of(String notebook) {
        return CHECKS.get(notebook);
    }

    static {
        expect("00-walkthrough.ipynb", nb -> {
            ExecutedNotebook.Cell losses = nb.cell("log-loss-table");
            assertEquals(List.of(9), losses.tableRows(), "one row per probability given to the true class");
            assertEquals(0.1054, losses.number("loss at p=0.9"), 1e-4);
            assertEquals(6.9078, losses.number("loss at p=0.001"), 1e-4);
            assertEquals(1, nb.cell("log-loss-curve").figures());
            ExecutedNotebook.Cell byHand = nb.cell("log-loss-by-hand");
            assertEquals(byHand.number("log loss by hand"), byHand.number("log loss with DJL"), 1e-5);
            assertEquals(1.0986, byHand.number("uniform guess"), 1e-4);

            ExecutedNotebook.Cell tta = nb.cell("swap-tta");
            assertTrue(tta.number("log loss with TTA") < tta.number("log loss (A,B) only"),
                    "averaging with the swapped order must help the position-biased toy model");
            assertEquals(1, tta.tableRows().size());

            ExecutedNotebook.Cell ranks = nb.cell("svd-rank");
            assertEquals(1, ranks.figures());
            assertTrue(ranks.number("PiSSA residual at r=8") < ranks.number("random rank-8 residual"),
                    "the top singular directions must capture more than a random rank-8 subspace");
            ExecutedNotebook.Cell training = nb.cell("lora-training");
            assertTrue(training.number("PiSSA final loss") < training.number("LoRA final loss"),
                    "PiSSA starts from the principal directions, so the same steps must reach a lower loss");
            String bar = training.htmlContaining("arena-progress");
            assertTrue(bar.contains("100%") && bar.contains("400/400"), "the progress bar must end complete: " + bar);

            ExecutedNotebook.Cell temperature = nb.cell("distill-temperature");
            assertEquals(List.of(4), temperature.tableRows(), "one row per temperature");
            assertEquals(1, temperature.figures());
            ExecutedNotebook.Cell kl = nb.cell("distill-kl");
            assertTrue(kl.number("soft-label log loss") < kl.number("hard-label log loss"));

            assertChartsDraw(nb);
        });
    }

    /**
     * Opens every chart of the executed notebook in headless Chromium (no network) and checks that plotly drew
     * each one: a plot container per figure in the DOM after scripts ran, and coloured pixels on a screenshot.
     */
    static void assertChartsDraw(ExecutedNotebook nb) throws Exception {
        int figures = nb.figures();
        assertTrue(figures > 0, nb.name + " shows no charts");
        Path page = nb.file.resolveSibling("charts.html");
        Files.writeString(page, nb.htmlPage());
        String dom = HeadlessChromium.dumpDom(page);
        Matcher drawn = Pattern.compile("class=\"plot-container plotly\"").matcher(dom);
        int plots = 0;
        while (drawn.find()) {
            plots++;
        }
        assertEquals(figures, plots, "plotly drew " + plots + " of " + figures + " charts in " + page);
        long coloured = HeadlessChromium.colouredPixels(
                HeadlessChromium.screenshot(page, page.resolveSibling("charts.png"), 1200, 6000), 0, 0, 1200, 6000);
        assertTrue(coloured > 5_000, "the charts' screenshot is nearly colourless (" + coloured + " pixels)");
    }
}
