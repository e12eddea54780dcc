package arenakit.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.util.ArenaHome;
import arenakit.util.HeadlessChromium;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
            assertExercisesWithAnswers(nb, 4);
            assertNbconvertHtmlRenders(nb);
        });

        expect("01-eda.ipynb", nb -> {
            // the smoke setup's embedded sample (its EDA stage: the same rows, tokenizer and format)
            ExecutedNotebook.Cell rows = nb.cell("eda-data");
            assertEquals(240, rows.number("train rows"));
            assertEquals(40, rows.number("test rows"));
            assertEquals(List.of(5), rows.tableRows());

            boolean real = ArenaHome.realRows().isPresent(); // ../shared/data/lmsys-sample, when present
            ExecutedNotebook.Cell run = nb.cell("eda-run");
            List<String> bars = run.html().stream().filter(h -> h.contains("arena-progress")).toList();
            assertEquals(real ? 3 : 2, bars.size(), "one tokenizing bar per split (and the real rows')");
            assertTrue(bars.stream().allMatch(b -> b.contains("100%")), "every bar ends complete: " + bars);
            assertEquals("rounds", run.printed("format"), "the setup's first training stage's format");
            assertEquals("data/tokenizer.json", run.printed("tokenizer"), "the setup's word-level tokenizer");
            assertEquals(1, run.tableRows().size(), "the summary table");

            ExecutedNotebook.Cell signals = nb.cell("eda-signals");
            assertEquals(List.of(6), signals.tableRows(), "six planted signals");
            double sample = signals.number("longer response wins (train)");
            assertTrue(sample > 0.75, "length decides the sample's verdicts: " + sample);
            if (real) {
                double onReal = signals.number("longer response wins (real rows)");
                assertTrue(onReal > 0.5 && onReal < sample, "weaker on real rows: " + onReal);
                assertEquals(1, signals.figures(), "the length chart of the real rows");
            } else {
                assertTrue(signals.stdout().contains("no real rows"), signals.stdout());
            }

            ExecutedNotebook.Cell balance = nb.cell("eda-balance");
            assertEquals(240, balance.number("labeled rows"));
            assertTrue(balance.number("constant-prior log loss") <= Math.log(3) + 1e-9);
            assertEquals(List.of(3, 1), balance.tableRows());
            assertEquals(1, balance.figures());

            ExecutedNotebook.Cell groups = nb.cell("eda-groups");
            assertEquals(List.of(5, 7), groups.tableRows(), "five response groups, seven element counts");
            assertEquals(1, groups.figures());
            assertEquals(List.of(20), nb.cell("eda-models").tableRows(), "the 20 most-played models");
            assertEquals(1, nb.cell("eda-models").figures());
            ExecutedNotebook.Cell length = nb.cell("eda-length");
            assertEquals(List.of(11), length.tableRows(), "eleven length-difference bins");
            assertTrue(length.printed("length").startsWith("the longer response won"), length.stdout());
            assertTrue(String.join("", length.html()).contains(length.printed("length")),
                    "the chart's title says it, from the data");
            assertEquals(1, nb.cell("eda-turns").figures());

            ExecutedNotebook.Cell tokens = nb.cell("eda-tokens");
            double maxLength = tokens.number("recommended max length");
            assertTrue(maxLength >= 16 && maxLength % 16 == 0, "a positive multiple of 16: " + maxLength);
            assertTrue(tokens.number("rows covered") >= 0.95 * 240);
            assertEquals(4, tokens.tableRows().get(0), "prompt, response_a, response_b, model_input");
            assertEquals(2, tokens.figures());
            assertTrue(nb.cell("eda-files").number("html bytes") > 1_000_000, "eda.html carries plotly.js");

            assertEquals(real ? 8 : 7, nb.figures());
            assertChartsDraw(nb);
        });

        // stage notebooks on the smoke setup (configs/smoke): 12 stage-1 steps evaluated at 6 and 12, an 8-step stage on
        // a tiny Llama and one on a tiny Qwen2, 60 preference pairs to pseudo-label with the three-backbone ensemble,
        // 4 steps each for stages 2 and 3 evaluated at 2 and 4, 40 test rows
        expect("02-stage1-train.ipynb", nb -> {
            ExecutedNotebook.Cell train = nb.cell("train");
            assertEquals(12, train.number("steps"));
            assertTrue(train.number("val log loss") > 0 && train.number("val log loss") < 5);
            assertTrue(train.number("class prior") <= Math.log(3) + 1e-9);
            List<String> bars = train.html().stream().filter(h -> h.contains("arena-progress")).toList();
            assertTrue(bars.stream().anyMatch(b -> b.contains("train stage1") && b.contains("12/12")),
                    "the training bar must end complete: " + bars);
            ExecutedNotebook.Cell history = nb.cell("history");
            assertEquals(List.of(6), history.tableRows(), "a history row every 2 steps (train.log_every)");
            assertEquals(1, history.figures());
            String curve = String.join("", history.html());
            assertTrue(curve.contains("training loss: cross-entropy") && curve.contains("yaxis2")
                    && curve.contains("grid"), "training loss and held-out log loss in two panels");
            String files = nb.cell("files").stdout();
            assertTrue(files.contains("adapter_config.json") && files.contains("adapter_model.safetensors"), files);
            assertChartsDraw(nb);
        });

        expect("03-pseudo-labels.ipynb", nb -> {
            assertEquals(60, nb.cell("run").number("pseudo-labels"));
            ExecutedNotebook.Cell labels = nb.cell("labels");
            assertEquals(60, labels.number("rows"));
            double sum = labels.number("mean P(A)") + labels.number("mean P(B)") + labels.number("mean P(tie)");
            assertEquals(1, sum, 1e-3);
            assertEquals(List.of(10), labels.tableRows());
            assertEquals(1, labels.figures());
            assertChartsDraw(nb);
        });

        expect("04-stage2-3.ipynb", nb -> {
            ExecutedNotebook.Cell run = nb.cell("run");
            for (String stage : List.of("stage1", "llama_stage1", "qwen_stage1", "stage2", "stage3")) {
                assertTrue(run.number(stage + " val log loss") > 0, stage);
            }
            assertEquals(List.of(6), run.tableRows(), "the summary of the six stages up to stage 3");
            ExecutedNotebook.Cell history = nb.cell("history");
            assertEquals(List.of(4, 4), history.tableRows(), "stages 2 and 3 log every one of their 4 steps");
            assertEquals(2, history.figures());
            String curves = String.join("", history.html());
            assertTrue(curves.contains("training loss: distillation mix") && curves.contains("training loss: "
                    + "cross-entropy"), "stage 2's training loss is the distillation mix, stage 3's cross-entropy");
            assertChartsDraw(nb);
        });

        expect("05-submission.ipynb", nb -> {
            assertEquals(40, nb.cell("predict").number("rows"));
            ExecutedNotebook.Cell submission = nb.cell("submission");
            assertEquals(40, submission.number("valid rows"));
            assertEquals(List.of(10), submission.tableRows(), "the head of submission.csv");
            assertTrue(submission.printed("file").endsWith("submission.csv"));
            double score = nb.cell("score").number("test log loss");
            assertTrue(score > 0 && score < 5, "test log loss " + score);
        });

    }

    /** Each of the {@code sections} sections ends with exercises whose answers are folded away ({@code <details>}). */
    static void assertExercisesWithAnswers(ExecutedNotebook nb, int sections) throws Exception {
        JsonNode cells = new ObjectMapper().readTree(nb.file.toFile()).path("cells");
        int exercises = 0;
        for (JsonNode c : cells) {
            String text = ExecutedNotebook.string(c.path("source"));
            if (c.path("cell_type").asText().equals("markdown") && text.startsWith("### Exercises")) {
                exercises++;
                int questions = (int) text.lines()
                        .filter(l -> l.matches("^\\*\\*Exercise \\d+\\.\\*\\* .*")).count();
                int answers = text.split("<details>", -1).length - 1;
                assertTrue(questions > 0 && questions == answers, nb.name + ": every exercise has an answer to "
                        + "reveal (" + questions + " questions, " + answers + " answers):\n" + text);
            }
        }
        assertEquals(sections, exercises, nb.name + ": exercise cells");
    }

    /**
     * nbconvert's HTML of the notebook (what a reader opens without Jupyter) in headless Chromium, no network:
     * plotly (carried once, by the first chart) drew every chart, MathJax (Debian's, from file://) typeset every
     * formula, and no TeX source is left as text.
     */
    static void assertNbconvertHtmlRenders(ExecutedNotebook nb) throws Exception {
        Path html = NotebookRunner.shared().toHtml(nb);
        String page = Files.readString(html);
        assertTrue(page.contains("file:///usr/share/javascript/mathjax/MathJax.js"),
                "nbconvert loads MathJax from Debian's libjs-mathjax (bash environment/setup.sh installs it)");
        org.jsoup.nodes.Document dom = org.jsoup.Jsoup.parse(HeadlessChromium.dumpDom(html));
        assertEquals(nb.figures(), dom.select("div.plot-container.plotly").size(), "charts drawn in " + html);
        int typeset = dom.select("span.MathJax_CHTML").size();
        assertTrue(typeset >= 30, nb.name + ": MathJax typeset " + typeset + " formulas in " + html);
        assertEquals(0, dom.select(".MathJax_Error, .mjx-error, merror").size(), "MathJax errors in " + html);
        dom.select("script, style, .MathJax_Preview").remove();
        String text = dom.select(".jp-RenderedMarkdown, .text_cell_render").text();
        assertTrue(!text.isEmpty() && !text.contains("$-\\ln p$") && !text.contains("\\frac{"),
                "TeX left as text in " + html);
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
