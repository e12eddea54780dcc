package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.SampleGenerator;
import arenakit.util.ArenaHome;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data jbang scripts, run for real through environment/bin/jbang against the lib installed in ~/.m2 by
 * environment/setup.sh (skipped with a message when the machine is not set up).
 */
class JbangScriptsTest {
    static Path home;

    @TempDir
    Path tmp;

    @BeforeAll
    static void needJbang() {
        home = ArenaHome.find().orElseThrow();
        Path lib = Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "arenakit", "arena-kit-lib",
                "0.1.0-SNAPSHOT", "arena-kit-lib-0.1.0-SNAPSHOT.jar");
        try (var jars = Files.list(home.resolve(".cache").resolve("jbang"))) {
            Assumptions.assumeTrue(jars.anyMatch(p -> p.getFileName().toString().startsWith("jbang-cli")),
                    "JBang not installed: run bash environment/setup.sh");
        } catch (IOException e) {
            Assumptions.abort("JBang not installed (" + e + "): run bash environment/setup.sh");
        }
        Assumptions.assumeTrue(Files.isRegularFile(lib), "lib not installed in ~/.m2: run bash environment/setup.sh");
    }

    record Result(int code, String out) {}

    Result jbang(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", home.resolve("environment/bin/jbang").toString(),
                "--fresh", home.resolve("jbang-scripts").resolve(script).toString()));
        cmd.addAll(List.of(args));
        Path log = tmp.resolve(script + ".out");
        // From the checkout root, as the README runs them: that is how scripts find .cache (tokenizer, plotly.js).
        Process p = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), script + " timed out");
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
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
