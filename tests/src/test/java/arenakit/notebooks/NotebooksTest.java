package arenakit.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every notebook in notebooks/, executed for real: Debian's Jupyter runs it headless on the project's kernel
 * ({@link NotebookRunner}: kernelspec from this build, {@code ARENA_CONFIG=smoke}, executed copies in
 * {@code tests/target/executed-notebooks/}). A notebook passes when no cell fails (cells tagged
 * {@code raises-exception} may) and its key outputs match its entry in {@link NotebookExpectations}, which every
 * notebook must have. New notebooks are picked up automatically.
 *
 * <p>The committed notebooks themselves are checked statically: no outputs (results are never stale, diffs stay
 * readable), the project's kernelspec, and only magics that stock IJava also has.
 */
class NotebooksTest {
    /** Line magics both IJava and the project's kernel provide. */
    private static final Set<String> IJAVA_MAGICS =
            Set.of("maven", "addMavenDependency", "addMavenDependencies", "mavenRepo", "jars", "classpath");
    private static final Pattern MAGIC = Pattern.compile("(?m)^\\s*(%%?)(\\w+)");

    @TestFactory
    Stream<DynamicTest> everyNotebookRunsAndShowsItsKeyOutputs() throws Exception {
        List<Path> notebooks = NotebookRunner.notebooks();
        assertFalse(notebooks.isEmpty(), "no notebooks in notebooks/");
        return notebooks.stream().map(path -> DynamicTest.dynamicTest(path.getFileName().toString(), () -> {
            String name = path.getFileName().toString();
            NotebookExpectations.Check check = NotebookExpectations.of(name);
            assertNotNull(check, name + " has no entry in NotebookExpectations: tag its key cells and add one "
                    + "(see that class's documentation)");
            ExecutedNotebook nb = NotebookRunner.shared().execute(path);
            List<String> errors = nb.unexpectedErrors();
            assertTrue(errors.isEmpty(), name + " has failing cells:\n" + String.join("\n\n", errors));
            assertQuietAndLight(nb);
            check.verify(nb);
        }));
    }

    /**
     * What every executed notebook must not carry: library log noise (DJL's INFO lines, the CUDA-detection warning on
     * a machine without a GPU) in its cells, more than one copy of plotly.js, markup as the plain-text fallback of an
     * output, or more than a megabyte (plotly.js once, compressed: about 0.6 MB).
     */
    static void assertQuietAndLight(ExecutedNotebook nb) throws Exception {
        List<String> noise = nb.stderr().stream()
                .filter(e -> e.contains("ai.djl") || e.contains("CudaUtils") || e.contains(" INFO ")).toList();
        assertTrue(noise.isEmpty(), nb.name + " shows library log lines:\n" + String.join("\n", noise));
        assertTrue(nb.plotlyCopies() <= 1, nb.name + " carries plotly.js " + nb.plotlyCopies() + " times");
        assertEquals(List.of(), nb.markupAsPlainText(), nb.name + ": the plain-text fallback of these outputs is HTML");
        long bytes = java.nio.file.Files.size(nb.file);
        assertTrue(bytes < 1_000_000, nb.name + " is " + bytes + " bytes executed");
    }

    @Test
    void committedNotebooksHaveNoOutputsAndSpeakIJavasDialect() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> problems = new ArrayList<>();
        for (Path path : NotebookRunner.notebooks()) {
            String name = path.getFileName().toString();
            JsonNode nb = json.readTree(path.toFile());
            assertEquals(NotebookRunner.KERNEL, nb.path("metadata").path("kernelspec").path("name").asText(),
                    name + ": kernelspec");
            assertEquals("java", nb.path("metadata").path("kernelspec").path("language").asText(), name + ": language");
            int index = 0;
            for (JsonNode cell : nb.path("cells")) {
                if (cell.path("cell_type").asText().equals("code")) {
                    if (!cell.path("outputs").isEmpty() || !cell.path("execution_count").isNull()) {
                        problems.add(name + " cell " + index + " was committed with outputs or an execution count"
                                + " (clear them: Jupyter's \"Clear All Outputs\", then save)");
                    }
                    Matcher m = MAGIC.matcher(ExecutedNotebook.string(cell.path("source")));
                    while (m.find()) {
                        if (m.group(1).equals("%%") || !IJAVA_MAGICS.contains(m.group(2))) {
                            problems.add(name + " cell " + index + " uses " + m.group(1) + m.group(2)
                                    + ", which stock IJava does not have (allowed: " + IJAVA_MAGICS + ")");
                        }
                    }
                }
                index++;
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }
}
