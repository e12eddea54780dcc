package arenakit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import arenakit.notebooks.NotebookRunner;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed kernel driven by Jupyter's own client library (jupyter_client, Debian's python3), over ZeroMQ,
 * exactly as a front end drives it: display ids and in-place updates, errors, interrupt (interrupt_mode message),
 * completion, inspection, is-complete. One kernel session runs the whole script (protocol_client.py).
 */
class KernelProtocolTest {
    private static JsonNode session;

    @BeforeAll
    static void runClient(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("protocol_client.py");
        try (InputStream in = KernelProtocolTest.class.getResourceAsStream("protocol_client.py")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        NotebookRunner runner = NotebookRunner.shared(); // checks Jupyter, installs this build's kernelspec
        Path stdout = dir.resolve("out.json");
        Path stderr = dir.resolve("err.log");
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", script.toString(), NotebookRunner.KERNEL)
                .directory(dir.toFile()).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().put("JUPYTER_PATH", runner.jupyterPath().toString());
        pb.environment().put("JUPYTER_RUNTIME_DIR", dir.resolve("runtime").toString());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("the Jupyter client did not finish in 5 minutes: " + Files.readString(stderr));
        }
        if (p.exitValue() != 0) {
            fail("the Jupyter client failed: " + Files.readString(stderr));
        }
        session = new ObjectMapper().readTree(stdout.toFile());
    }

    private static List<JsonNode> iopub(String step, String type) {
        List<JsonNode> found = new ArrayList<>();
        session.path(step).path("iopub").forEach(m -> {
            if (m.path("type").asText().equals(type)) {
                found.add(m.path("content"));
            }
        });
        return found;
    }

    @Test
    void kernelInfoDescribesJava() {
        JsonNode info = session.path("kernel_info");
        assertEquals("Java", info.path("language_info").path("name").asText());
        assertTrue(info.path("banner").asText().contains("arena-kit kernel (IJava dialect)"));
    }

    @Test
    void displayPublishesAnIdThatUpdateDisplayReplacesInPlace() {
        List<JsonNode> shown = iopub("display", "display_data");
        List<JsonNode> updated = iopub("display", "update_display_data");
        assertEquals(1, shown.size());
        assertEquals(1, updated.size());
        String id = shown.get(0).path("transient").path("display_id").asText();
        assertTrue(!id.isEmpty(), "display_data carries a display id");
        assertEquals(id, updated.get(0).path("transient").path("display_id").asText());
        assertEquals("<b>step 1</b>", shown.get(0).path("data").path("text/html").asText());
        assertEquals("<b>step 2</b>", updated.get(0).path("data").path("text/html").asText());
        assertEquals(List.of(), iopub("display", "execute_result"), "a trailing ';' shows no value");
    }

    @Test
    void aCellThatThrowsReportsTheExceptionAndTheKernelGoesOn() {
        JsonNode reply = session.path("error").path("reply");
        assertEquals("error", reply.path("status").asText());
        assertEquals("IllegalArgumentException", reply.path("ename").asText());
        assertEquals("bad row 7", reply.path("evalue").asText());
        assertEquals("42", iopub("after_error", "execute_result").get(0).path("data").path("text/plain").asText());
    }

    @Test
    void interruptStopsABusyLoopAndTheSessionSurvives() {
        JsonNode reply = session.path("interrupt").path("reply");
        assertEquals("error", reply.path("status").asText());
        assertEquals("EvaluationInterruptedException", reply.path("ename").asText());
        assertTrue(session.path("interrupt_seconds").asDouble() < 30, "stopped soon after the interrupt");
        assertEquals("42", iopub("after_interrupt", "execute_result").get(0).path("data").path("text/plain").asText());
    }

    @Test
    void completionInspectionAndIsCompleteAnswer() {
        JsonNode complete = session.path("complete");
        List<String> matches = new ArrayList<>();
        complete.path("matches").forEach(m -> matches.add(m.asText()));
        assertTrue(matches.contains("substring("), matches.toString());
        assertEquals("String s = \"abc\";\ns.".length(), complete.path("cursor_start").asInt());

        JsonNode inspect = session.path("inspect");
        assertTrue(inspect.path("found").asBoolean());
        assertTrue(inspect.path("data").path("text/plain").asText().contains("abs("), inspect.toString());

        assertEquals("incomplete", session.path("is_complete").path("status").asText());
    }
}
