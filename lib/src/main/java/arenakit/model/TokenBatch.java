package arenakit.model;

import java.util.List;

/**
 * Sequences of token ids, right-padded to the longest one.
 *
 * <p>Right padding is what keeps a batch exact: every real token keeps its position (RoPE) and, under the causal
 * mask, only ever attends to real tokens before it, so a sequence's logits do not depend on its neighbours; the
 * classifier reads each sequence at its own last real token. Padded positions compute garbage nobody reads.
 *
 * @param ids row-major {@code [size, maxLength]}, padded with the pad token id
 */
public record TokenBatch(long[] ids, int[] lengths, int maxLength) {

    /** Pads {@code sequences} (each non-empty) with {@code padId}. */
    public static TokenBatch of(List<int[]> sequences, int padId) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        int max = 0;
        int[] lengths = new int[sequences.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = sequences.get(i).length;
            if (lengths[i] == 0) {
                throw new IllegalArgumentException("sequence " + i + " of the batch is empty");
            }
            max = Math.max(max, lengths[i]);
        }
        long[] ids = new long[lengths.length * max];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < lengths.length; i++) {
            int[] seq = sequences.get(i);
            for (int t = 0; t < seq.length; t++) {
                ids[i * max + t] = seq[t];
            }
        }
        return new TokenBatch(ids, lengths, max);
    }

    public int size() {
        return lengths.length;
    }

    /** Real tokens in the batch (without padding). */
    public long tokens() {
        long n = 0;
        for (int l : lengths) {
            n += l;
        }
        return n;
    }

    /** Checks that every id is in {@code [0, vocabSize)}; the error names sequence and position. */
    void checkIds(int vocabSize) {
        for (int i = 0; i < lengths.length; i++) {
            for (int t = 0; t < lengths[i]; t++) {
                long id = ids[i * maxLength + t];
                if (id < 0 || id >= vocabSize) {
                    throw new IllegalArgumentException("sequence " + i + ", position " + t + ": token id " + id
                            + " is outside the vocabulary [0, " + vocabSize + ")");
                }
            }
        }
    }
}
