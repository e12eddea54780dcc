package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.cli.JbangRun.Result;
import arenakit.data.SampleGenerator;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data jbang scripts, run for real through environment/bin/jbang against the lib installed in ~/.m2 by
 * environment/setup.sh (skipped with a message when the machine is not set up).
 */
class JbangScriptsTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void needJbang() {
        JbangRun.home();
    }

    private Result jbang(String script, String... args) throws IOException, InterruptedException {
        return JbangRun.run(tmp, script, args);
    }

    @Test
    void generateSampleThenValidateItAsJson() throws Exception {
        Path dir = tmp.resolve("data");
        Result gen = jbang("generate-sample.java", "--out", dir.toString(), "--train", "120", "--test", "10",
                "--external", "10", "--preference", "10", "--quiet");
        assertEquals(0, gen.code(), gen.out());
        Result val = jbang("validate.java", "--json", dir.resolve("train.csv").toString());
        assertEquals(0, val.code(), val.out());
        String json = val.out().substring(val.out().indexOf('{'));
        JsonNode summary = Json.MAPPER.readTree(json);
        assertEquals(120, summary.get("rows").asInt());
        assertEquals("TRAIN", summary.get("kind").asText());

        Files.writeString(dir.resolve("test.csv"), Files.readString(dir.resolve("test.csv")) + "broken\n");
        Result bad = jbang("validate.java", dir.resolve("test.csv").toString());
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().contains("line 12"), bad.out());
    }

    /** The EDA with no arguments but --out: the embedded sample, so it works on a fresh machine. */
    @Test
    void edaOnTheEmbeddedSample() throws Exception {
        Path out = tmp.resolve("eda");
        Result eda = jbang("eda.java", "--out", out.toString(), "--max-length-coverage", "0.99");
        assertEquals(0, eda.code(), eda.out());
        assertTrue(eda.out().contains("embedded sample"), eda.out());
        JsonNode json = Json.MAPPER.readTree(out.resolve("eda.json").toFile());
        assertEquals(SampleGenerator.Options.defaults().trainRows(), json.at("/train/rows").asInt());
        assertEquals(0.99, json.at("/train/tokens/recommendation/coverage").asDouble());
        assertTrue(Files.readString(out.resolve("eda.html")).contains("Plotly.newPlot"), "charts in eda.html");
    }

    /**
     * As a user of a JBang catalog runs them: by alias ({@code validate@<checkout>}, the checkout's
     * jbang-catalog.json) from a folder outside the checkout, which is also where relative paths and outputs go;
     * the Gemma tokenizer is found in the checkout's .cache through the installed library.
     */
    @Test
    void scriptsRunByAliasFromAnotherDirectory() throws Exception {
        Path home = JbangRun.home();
        Path work = Files.createDirectories(tmp.resolve("elsewhere"));
        Result version = JbangRun.run(tmp, work, "validate@" + home, "-V");
        assertEquals(0, version.code(), version.out());
        assertTrue(version.out().contains("arena-kit 0.1.0-SNAPSHOT (DJL 0.32.0, PyTorch 2.5.1)"), version.out());

        Result gen = JbangRun.run(tmp, work, "generate-sample@" + home, "--out", "data", "--train", "60", "--test",
                "6", "--external", "0", "--preference", "0", "--quiet");
        assertEquals(0, gen.code(), gen.out());
        assertTrue(Files.isRegularFile(work.resolve("data/train.csv")), "relative to the working directory");
        Result val = JbangRun.run(tmp, work, "validate@" + home, "data/train.csv");
        assertEquals(0, val.code(), val.out());
        assertTrue(val.out().contains("validating train.csv as a train file"), val.out());

        Result notCsv = JbangRun.run(tmp, work, "validate@" + home, home.resolve("README.md").toString());
        assertEquals(1, notCsv.code(), notCsv.out());
        assertTrue(notCsv.out().contains("is not a competition CSV file"), notCsv.out());
        assertFalse(notCsv.out().contains("a submission is validated"), notCsv.out());

        Result eda = JbangRun.run(tmp, work, home.resolve("jbang-scripts/eda.java").toString(), "--train",
                "data/train.csv", "--test", "data/test.csv", "--out", "eda");
        assertEquals(0, eda.code(), eda.out());
        assertTrue(Files.isRegularFile(work.resolve("eda/eda.html")), eda.out());
        assertTrue(Json.MAPPER.readTree(work.resolve("eda/eda.json").toFile()).at("/train/tokens/tokenizer").asText()
                .equals("gemma/tokenizer.json"), "the checkout's Gemma tokenizer, found from outside it");
    }

    /** Quiet by default: no DJL INFO lines, no CUDA warning on a machine without a GPU; --verbose shows them. */
    @Test
    void quietByDefaultVerboseOnRequest() throws Exception {
        Path home = JbangRun.home();
        Result quiet = JbangRun.run(tmp, tmp, "train@" + home, "--config", "smoke", "--out", "quiet",
                "--stop-after", "1");
        assertEquals(0, quiet.code(), quiet.out());
        assertTrue(quiet.out().contains("paused at step 1 of 12"), quiet.out());
        assertFalse(quiet.out().contains("INFO") || quiet.out().contains("ai.djl"), quiet.out());
        if (!arenakit.util.Logging.nvidiaGpuPresent()) {
            assertFalse(quiet.out().contains("Failed to detect GPU count"), quiet.out());
        }
        Result verbose = JbangRun.run(tmp, tmp, "train@" + home, "--verbose", "--config", "smoke", "--out",
                "verbose", "--stop-after", "1");
        assertEquals(0, verbose.code(), verbose.out());
        assertTrue(verbose.out().contains("INFO ai.djl"), "DJL's start-up lines with --verbose:\n" + verbose.out());
    }
}
