package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What the pipeline says after a distillation stage: whether it helped and, when not, why from this run's facts. */
class DistillationCheckTest {
    private static final double[] HOLDOUT = {0.35, 0.34, 0.31};

    @Test
    void aBetterStudentIsCalledSo() {
        DistillationCheck c = new DistillationCheck("stage2", 0.3766, "stage1", 0.4001, true, 1000, 1769,
                new double[] {0.38, 0.36, 0.26}, HOLDOUT);
        assertTrue(c.helped());
        assertTrue(c.describe().contains("0.3766 against 0.4001 for stage1 (-0.0235): it helped"), c.describe());
    }

    @Test
    void aWorseStudentGetsTheReasonsOfThisRun() {
        DistillationCheck c = new DistillationCheck("stage2", 0.5562, "stage1", 0.5325, true, 1000, 1769,
                new double[] {0.41, 0.39, 0.20}, HOLDOUT);
        assertFalse(c.helped());
        String d = c.describe();
        assertTrue(d.contains("(+0.0237): it did not help here, it hurt"), d);
        assertTrue(d.contains("started from its own teacher"), d);
        assertTrue(d.contains("1,000 pseudo-labeled pairs, no more than the 1,769 labeled rows"), d);
        assertTrue(d.contains("put 20% on ties where the held-out fold has 31%"), d);
        assertTrue(d.contains("It pays off when"), "and what would make it help: " + d);
    }

    @Test
    void noChangeIsNotCalledHelp() {
        DistillationCheck c = new DistillationCheck("stage2", 1.1051, "stage1", 1.1054, false, 60, 0, HOLDOUT,
                HOLDOUT);
        assertFalse(c.helped());
        assertTrue(c.describe().contains("it changed little."), c.describe());
    }
}
