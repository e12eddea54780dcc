package arenakit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The notebook bar's HTML and plain text; drawing it in a live kernel is checked by the walkthrough's test. */
class NotebookProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void showsPercentCountElapsedEtaRateInItsUnitAndMessage() {
        String html = NotebookProgress.html("train", 45, 100, 3 * SECOND, "loss 0.51", false, "step");
        assertTrue(html.contains(" 45% "), html);
        assertTrue(html.contains("<progress value=\"45\" max=\"100\""), html);
        assertTrue(html.contains("45/100 [00:03&lt;00:04, 15.0 steps/s] loss 0.51"), html);
    }

    @Test
    void thePlainTextFallbackIsABarInText() {
        String text = NotebookProgress.text("train stage1", 45, 100, 3 * SECOND, "loss 0.51", false, "step");
        assertEquals("train stage1:  45%|#########           | 45/100 [00:03<00:04, 15.0 steps/s] loss 0.51", text);
        assertFalse(NotebookProgress.text("t", 1, 2, SECOND, "a <b>", true, "row").contains("&lt;"),
                "plain text is not escaped HTML");
    }

    @Test
    void tokenRatesReadAsTokensPerSecondAndFinishedBarsDropTheEta() {
        assertTrue(NotebookProgress.html("evaluate", 11984, 11984, 2 * SECOND, "", true, "token")
                .contains("11984/11984 [00:02, 5,992 tokens/s]"));
        assertTrue(NotebookProgress.html("t", 100, 100, 8 * SECOND, "", true, "row")
                .contains("100/100 [00:08, 12.5 rows/s]"));
        String unknown = NotebookProgress.html("read", 7, -1, 2 * SECOND, "", false, "row");
        assertFalse(unknown.contains("<progress"), unknown);
        assertTrue(unknown.contains("</b> 7 [00:02, 3.5 rows/s]"), unknown);
    }

    @Test
    void slowStepsAreShownAsSecondsPerStepAndLongRunsInHours() {
        assertTrue(NotebookProgress.html("t", 2, 10, 8 * SECOND, "", false, "step")
                .contains("[00:08&lt;00:32, 4.0 s/step]"));
        assertEquals("1:02:05", NotebookProgress.clock(3725));
        assertEquals("00:59", NotebookProgress.clock(59.4));
        assertEquals("? tokens/s", Progress.rate(0, "token"));
        assertEquals("3.0 it/s", Progress.rate(3, "it"));
    }

    @Test
    void taskAndMessageAreEscaped() {
        String html = NotebookProgress.html("<fold 1>", 1, 2, SECOND, "a & b", false, "row");
        assertTrue(html.contains("<b>&lt;fold 1&gt;</b>") && html.contains("a &amp; b"), html);
    }

    @Test
    void inactiveOutsideAJupyterKernel() {
        // the tests' class path has the project's kernel (and so IJava's runtime classes) but no kernel runs here
        assertFalse(new NotebookProgress().active());
    }
}
