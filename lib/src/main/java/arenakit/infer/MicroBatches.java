package arenakit.infer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Packs sequences into micro-batches under a token budget. Sequences are sorted longest first, so similar
 * lengths share a batch (little padding) and an out-of-memory shows up on the first batch, not after hours.
 * The budget counts padded tokens (rows x longest row); a single sequence longer than the budget gets a batch
 * of its own.
 */
public final class MicroBatches {
    private MicroBatches() {}

    /** Indices into {@code sequences}, grouped into micro-batches. */
    public static List<int[]> pack(List<int[]> sequences, int maxTokens) {
        Integer[] order = IntStream.range(0, sequences.size()).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(order, Comparator.comparingInt((Integer i) -> -sequences.get(i).length)
                .thenComparingInt(i -> i));
        List<int[]> batches = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        int longest = 0;
        for (int i : order) {
            int len = sequences.get(i).length;
            int widest = Math.max(longest, len);
            if (!current.isEmpty() && (long) widest * (current.size() + 1) > maxTokens) {
                batches.add(current.stream().mapToInt(Integer::intValue).toArray());
                current.clear();
                widest = len;
            }
            current.add(i);
            longest = widest;
        }
        if (!current.isEmpty()) {
            batches.add(current.stream().mapToInt(Integer::intValue).toArray());
        }
        return batches;
    }
}
