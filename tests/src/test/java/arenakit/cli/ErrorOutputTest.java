package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.pipeline.ConfigFolder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees when a command fails: one message with file and reason; the stack trace with --verbose only. */
class ErrorOutputTest {
    @TempDir
    Path dir;

    private record Run(int code, String err) {}

    private static Run run(Object command, String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Cli.execute(command, args);
            return new Run(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    private Path badSetup() throws Exception {
        ConfigFolder smoke = ConfigFolder.of("smoke");
        smoke.copyTo(dir);
        Files.writeString(dir.resolve("stage1.json"), smoke.text("stage1.json").replace("\"alpha\": 8",
                "\"alpha\": \"thirty-two\""));
        return dir;
    }

    @Test
    void aBadConfigIsOneLineWithFileKeyAndExpectation() throws Exception {
        Run r = run(new PipelineCommand(), "--config", badSetup().toString(), "--out", dir.resolve("out").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("error: " + dir.resolve("stage1.json") + ": 'model.lora.alpha' must be a number, "
                + "got \"thirty-two\" (a string)"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void verboseShowsTheStackTrace() throws Exception {
        Run r = run(new TrainCommand(), "--config", badSetup().toString(), "--out", dir.resolve("out").toString(),
                "--verbose");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("'model.lora.alpha' must be a number"), r.err());
        assertTrue(r.err().contains("\tat arenakit."), r.err());
    }

    @Test
    void fileErrorsKeepTheirReasonAndBugsSayTheyAreBugs() {
        assertEquals("/kaggle/input/x/train.csv: permission denied",
                Cli.describe(new AccessDeniedException("/kaggle/input/x/train.csv"), false));
        String bug = Cli.describe(new NullPointerException("Cannot invoke \"Object.toString()\""), false);
        assertTrue(bug.startsWith("internal error: java.lang.NullPointerException: Cannot invoke"), bug);
        assertTrue(bug.contains(" at "), bug);
        // PyTorch's dispatcher dumps are cut to their first line unless --verbose
        RuntimeException torch = new ai.djl.engine.EngineException("Could not run 'aten::empty' with arguments from "
                + "the 'CUDA' backend.\nline 2 of 60\nline 3 of 60");
        assertEquals("Could not run 'aten::empty' with arguments from the 'CUDA' backend. (PyTorch's full message: "
                + "--verbose)", Cli.describe(torch, false));
        assertTrue(Cli.describe(torch, true).contains("line 3 of 60"));
    }

    /** Every command has --verbose, also under the arena-kit launcher. */
    @Test
    void everyCommandHasVerbose() {
        Run r = run(new ArenaKit(), "validate", "--verbose", dir.resolve("nothing.csv").toString());
        assertEquals(1, r.code(), r.err());
        assertFalse(r.err().contains("Unknown option"), r.err());
    }
}
