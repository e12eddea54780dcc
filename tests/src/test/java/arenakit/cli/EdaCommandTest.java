package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.cli.DataCommandsTest.Run;
import arenakit.data.SampleGenerator;
import arenakit.eda.Eda;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The eda command, run in-process on generated CSV files. */
class EdaCommandTest {
    @TempDir
    Path tmp;

    @Test
    void helpListsTheOptions() {
        Run help = DataCommandsTest.run(new EdaCommand(), "--help");
        assertEquals(0, help.code());
        for (String option : new String[] {"--train", "--test", "--out", "--max-length-coverage", "--format"}) {
            assertTrue(help.out().contains(option), option + " in\n" + help.out());
        }
    }

    @Test
    void writesReportAndJsonForTheGivenFiles() throws Exception {
        SampleGenerator.SampleFiles files = SampleGenerator.write(tmp.resolve("data"),
                SampleGenerator.Options.defaults().withRows(150, 12, 0, 0));
        Path out = tmp.resolve("eda");
        Run run = DataCommandsTest.run(new EdaCommand(), "--train", files.train().toString(), "--test",
                files.test().toString(), "--out", out.toString(), "--max-length-coverage", "0.9");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("recommended max length"), run.out());

        JsonNode json = Json.MAPPER.readTree(out.resolve(Eda.JSON_FILE).toFile());
        assertEquals(0.9, json.at("/options/maxLengthCoverage").asDouble());
        assertEquals(0.9, json.at("/train/tokens/recommendation/coverage").asDouble());
        assertEquals(150, json.at("/train/rows").asLong());
        assertEquals(12, json.at("/test/rows").asLong());
        assertEquals(0, json.at("/test/labeledRows").asLong());
        assertTrue(Files.size(out.resolve(Eda.HTML_FILE)) > 1_000_000, "plotly.js is inlined");
    }

    @Test
    void badInputFailsWithAClearMessage() throws Exception {
        Run coverage = DataCommandsTest.run(new EdaCommand(), "--out", tmp.toString(), "--max-length-coverage", "1.5");
        assertNotEquals(0, coverage.code());
        assertTrue(coverage.err().contains("maxLengthCoverage must be in (0, 1]"), coverage.err());

        Path broken = tmp.resolve("train.csv");
        Files.writeString(broken, "id,model_a\n1,x\n");
        Run csv = DataCommandsTest.run(new EdaCommand(), "--train", broken.toString(), "--out", tmp.toString());
        assertNotEquals(0, csv.code());
        assertTrue(csv.err().contains(broken.toString()), csv.err());
    }
}
