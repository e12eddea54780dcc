package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The validate and generate-sample commands, run in-process. */
class DataCommandsTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(Callable<Integer> command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(command).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void generateThenValidateEveryFile() throws IOException {
        Path dir = tmp.resolve("sample");
        Run gen = run(new GenerateSampleCommand(), "--out", dir.toString(), "--train", "300", "--test", "20",
                "--external", "50", "--preference", "40", "--seed", "3", "--set", "multiTurnShare=0.5");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.out().contains("rows                 300"), gen.out());

        Run text = run(new ValidateCommand(), dir.resolve("train.csv").toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("labels") && text.out().contains("no repairs"), text.out());
        int multi = Json.MAPPER.readTree(run(new ValidateCommand(), "--json", dir.resolve("train.csv").toString())
                .out()).get("multiTurnRows").asInt();
        assertTrue(multi > 100, "--set multiTurnShare=0.5 took effect: " + multi + " of 300");

        Run json = run(new ValidateCommand(), "--json", "--kind", "external", dir.resolve("lmsys-33k.csv").toString());
        assertEquals(0, json.code(), json.err());
        JsonNode summary = Json.MAPPER.readTree(json.out());
        assertEquals(50, summary.get("rows").asInt());
        assertEquals(50, summary.get("labels").get("A").asInt() + summary.get("labels").get("B").asInt()
                + summary.get("labels").get("TIE").asInt());

        Run pref = run(new ValidateCommand(), "--json", dir.resolve("preference.csv").toString());
        assertEquals("PREFERENCE", Json.MAPPER.readTree(pref.out()).get("kind").asText());

        Run test = run(new ValidateCommand(), dir.resolve("test.csv").toString(), "--sample",
                dir.resolve("sample_submission.csv").toString());
        assertEquals(0, test.code(), test.err());

        Run sub = run(new ValidateCommand(), dir.resolve("solution.csv").toString(), "--test",
                dir.resolve("test.csv").toString(), "--sample", dir.resolve("sample_submission.csv").toString());
        assertEquals(0, sub.code(), sub.err());
        assertTrue(sub.out().contains("valid submission, 20 rows"), sub.out());

        Run noRefs = run(new ValidateCommand(), dir.resolve("solution.csv").toString());
        assertEquals(2, noRefs.code());
        assertTrue(noRefs.err().contains("--test and --sample"), noRefs.err());
    }

    @Test
    void badDataExitsWithOneAndNamesTheLine() throws IOException {
        Path bad = Files.writeString(tmp.resolve("train.csv"), "id,model_a,model_b,prompt,response_a,response_b,"
                + "winner_model_a,winner_model_b,winner_tie\n5,a,b,\"[\"\"p\"\"]\",\"[\"\"x\"\"]\",\"[\"\"y\"\"]\","
                + "1,1,0\n");
        Run r = run(new ValidateCommand(), bad.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("line 2 (id 5) column winner_model_b: two labels set"), r.err());
    }
}
