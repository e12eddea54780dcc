package arenakit.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class MicroBatchesTest {
    @Test
    void packsLongestFirstUnderThePaddedBudget() {
        List<int[]> seqs = List.of(new int[3], new int[10], new int[4], new int[9], new int[2], new int[25]);
        List<int[]> batches = MicroBatches.pack(seqs, 20);
        // 25 alone (over budget, still runs); 10 + 9 (2 x 10 = 20); 4 + 3 + 2 (3 x 4 = 12; 4 x 4 would fit too
        // but there are no more)
        assertEquals(3, batches.size());
        assertArrayEquals(new int[] {5}, batches.get(0));
        assertArrayEquals(new int[] {1, 3}, batches.get(1));
        assertArrayEquals(new int[] {2, 0, 4}, batches.get(2));
    }
}
