package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
