package arenakit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FoldsTest {
    static final List<Conversation> ROWS =
            SampleGenerator.generate(SampleGenerator.Options.defaults().withRows(3000, 0, 0, 0)).train();

    @Test
    void noPromptCrossesFoldsAndClassSharesStayWithinOnePoint() {
        for (int k : new int[] {5, 10}) {
            int[] folds = Folds.stratifiedGroupKFold(ROWS, k, 42);
            Map<List<String>, Integer> foldOfPrompt = new HashMap<>();
            for (int i = 0; i < ROWS.size(); i++) {
                Integer before = foldOfPrompt.putIfAbsent(Folds.promptKey(ROWS.get(i)), folds[i]);
                assertTrue(before == null || before == folds[i], "prompt in two folds: " + ROWS.get(i).id());
            }
            assertTrue(foldOfPrompt.size() < ROWS.size(), "the data must have repeated prompts for this to test");
            double[] overall = shares(ROWS);
            for (int f = 0; f < k; f++) {
                Folds.Split split = Folds.split(ROWS, folds, f);
                assertEquals(ROWS.size(), split.train().size() + split.valid().size());
                assertEquals(ROWS.size() / (double) k, split.valid().size(), ROWS.size() * 0.1 / k, "fold size");
                double[] s = shares(split.valid());
                for (int c = 0; c < 3; c++) {
                    assertEquals(overall[c], s[c], 0.01, "k=" + k + " fold " + f + " class " + Winner.ofIndex(c));
                }
            }
        }
    }

    @Test
    void seededAndDeterministic() {
        assertArrayEquals(Folds.stratifiedGroupKFold(ROWS, 5, 1), Folds.stratifiedGroupKFold(ROWS, 5, 1));
        assertFalse(Arrays.equals(Folds.stratifiedGroupKFold(ROWS, 5, 1), Folds.stratifiedGroupKFold(ROWS, 5, 2)));
    }

    @Test
    void unlabeledRowsAndBadKAreErrors() {
        Conversation unlabeled = new Conversation("x", null, null, List.of(new Turn("p", "a", "b")), null, 7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Folds.stratifiedGroupKFold(List.of(unlabeled), 2, 0));
        assertTrue(e.getMessage().contains("x") && e.getMessage().contains("line 7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Folds.stratifiedGroupKFold(ROWS, 1, 0));
    }

    static double[] shares(List<Conversation> rows) {
        double[] s = new double[3];
        rows.forEach(c -> s[c.winner().ordinal()] += 1.0 / rows.size());
        return s;
    }
}
