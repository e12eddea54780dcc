package arenakit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Swap augmentation, class-balanced order and dedup of external rows. */
class TrainingOrderTest {
    static final SampleGenerator.Sample SAMPLE =
            SampleGenerator.generate(SampleGenerator.Options.defaults().withRows(1000, 0, 400, 0));

    @Test
    void swapsFollowTheirOriginalWithResponsesModelsAndLabelsExchanged() {
        List<Conversation> rows = SAMPLE.train().subList(0, 50);
        List<Conversation> out = Swap.withSwaps(rows);
        assertEquals(100, out.size());
        for (int i = 0; i < rows.size(); i++) {
            Conversation c = out.get(2 * i);
            Conversation s = out.get(2 * i + 1);
            assertEquals(rows.get(i), c);
            assertEquals(c.id(), s.id());
            assertEquals(c.modelA(), s.modelB());
            assertEquals(c.winner().swapped(), s.winner());
            for (int t = 0; t < c.turns().size(); t++) {
                assertEquals(c.turns().get(t).prompt(), s.turns().get(t).prompt());
                assertEquals(c.turns().get(t).responseA(), s.turns().get(t).responseB());
                assertEquals(c.turns().get(t).responseB(), s.turns().get(t).responseA());
            }
        }
    }

    @Test
    void balancedOrderKeepsClassSharesSteadyAlongTheOrder() {
        List<Conversation> rows = SAMPLE.train();
        List<Conversation> order = BalancedOrder.of(rows, 3);
        assertEquals(new HashSet<>(rows), new HashSet<>(order));
        assertEquals(rows.size(), order.size());
        double[] share = FoldsTest.shares(rows);
        int[] count = new int[3];
        for (int n = 1; n <= order.size(); n++) {
            count[order.get(n - 1).winner().ordinal()]++;
            for (int c = 0; c < 3; c++) {
                assertTrue(Math.abs(count[c] - n * share[c]) <= 1.0 + 1e-9, "prefix " + n + " class " + c);
            }
        }
        assertEquals(order, BalancedOrder.of(rows, 3));
        assertNotEquals(order, BalancedOrder.of(rows, 4));
    }

    @Test
    void dedupDropsExternalRowsWhosePromptIsInTrainAndReportsThem() {
        Dedup.Result r = Dedup.againstTrain(SAMPLE.external(), SAMPLE.train());
        assertEquals(SAMPLE.external().size(), r.kept().size() + r.dropped().size());
        assertTrue(r.dropped().size() > 0, r.toString());
        var trainPrompts = new HashSet<List<String>>();
        SAMPLE.train().forEach(c -> trainPrompts.add(Folds.promptKey(c)));
        assertTrue(r.kept().stream().noneMatch(c -> trainPrompts.contains(Folds.promptKey(c))));
        assertTrue(r.dropped().stream().allMatch(c -> trainPrompts.contains(Folds.promptKey(c))));
        assertTrue(r.toString().contains("dropped " + r.dropped().size()));
    }
}
