package arenakit.model.layers;

import java.util.Arrays;
import java.util.List;

/**
 * Sequences of token ids laid out for one forward pass, in one of two exact layouts:
 * <ul>
 *   <li><b>padded</b> {@code [size, maxLength]}: right-padded with the pad id. Every real token keeps its position
 *       and, under the causal mask, only attends to real tokens before it, so nothing leaks between sequences;
 *       padded positions compute values nobody reads.</li>
 *   <li><b>packed</b> {@code [1, tokens]}: the sequences concatenated without padding (like the 2nd-place
 *       solution's varlen batches). Token-wise layers see only real tokens; attention runs per sequence on its
 *       own slice, positions restart at 0 for each sequence.</li>
 * </ul>
 * The classifier reads each sequence at its last real token in both layouts.
 *
 * @param ids the ids in row-major layout ({@code [size, maxLength]} padded, {@code [1, tokens]} packed)
 */
public record TokenBatch(long[] ids, int[] lengths, int maxLength, boolean packed) {

    /** Right-pads {@code sequences} (each non-empty) with {@code padId}. */
    public static TokenBatch padded(List<int[]> sequences, int padId) {
        int[] lengths = lengths(sequences);
        int max = Arrays.stream(lengths).max().orElseThrow();
        long[] ids = new long[lengths.length * max];
        Arrays.fill(ids, padId);
        for (int i = 0; i < lengths.length; i++) {
            int[] seq = sequences.get(i);
            for (int t = 0; t < seq.length; t++) {
                ids[i * max + t] = seq[t];
            }
        }
        return new TokenBatch(ids, lengths, max, false);
    }

    /** Concatenates {@code sequences} (each non-empty) without padding. */
    public static TokenBatch packed(List<int[]> sequences) {
        int[] lengths = lengths(sequences);
        long[] ids = new long[Arrays.stream(lengths).sum()];
        int at = 0;
        for (int[] seq : sequences) {
            for (int id : seq) {
                ids[at++] = id;
            }
        }
        return new TokenBatch(ids, lengths, Arrays.stream(lengths).max().orElseThrow(), true);
    }

    private static int[] lengths(List<int[]> sequences) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        int[] lengths = new int[sequences.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = sequences.get(i).length;
            if (lengths[i] == 0) {
                throw new IllegalArgumentException("sequence " + i + " of the batch is empty");
            }
        }
        return lengths;
    }

    /** Number of sequences. */
    public int size() {
        return lengths.length;
    }

    /** Real tokens in the batch (without padding). */
    public long tokens() {
        return Arrays.stream(lengths).asLongStream().sum();
    }

    /** Shape of the ids: {@code [size, maxLength]} or {@code [1, tokens]}. */
    public long[] shape() {
        return packed ? new long[] {1, ids.length} : new long[] {lengths.length, maxLength};
    }

    /** Where each sequence starts along the token axis of its row (all 0 when padded). */
    public int[] offsets() {
        int[] out = new int[lengths.length];
        for (int i = 1; packed && i < out.length; i++) {
            out[i] = out[i - 1] + lengths[i - 1];
        }
        return out;
    }

    /** Row and column of each sequence's last real token: {@code [rows, cols]}. */
    public long[][] lastTokens() {
        long[] rows = new long[lengths.length];
        long[] cols = new long[lengths.length];
        int[] offsets = offsets();
        for (int i = 0; i < lengths.length; i++) {
            rows[i] = packed ? 0 : i;
            cols[i] = offsets[i] + lengths[i] - 1;
        }
        return new long[][] {rows, cols};
    }

    /** Position of every token along the token axis (packed: restarting at 0 per sequence). */
    public long[] positions() {
        long[] pos = new long[(int) shape()[1]];
        if (!packed) {
            for (int t = 0; t < pos.length; t++) {
                pos[t] = t;
            }
            return pos;
        }
        int at = 0;
        for (int len : lengths) {
            for (int t = 0; t < len; t++) {
                pos[at++] = t;
            }
        }
        return pos;
    }

    /**
     * Checks that no sequence is longer than {@code maxPositions} (config.json's max_position_embeddings) and that
     * every id is in {@code [0, vocabSize)}; the error names sequence and position.
     */
    public void check(int vocabSize, int maxPositions) {
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] > maxPositions) {
                throw new IllegalArgumentException("sequence " + i + " has " + lengths[i] + " tokens, more than the "
                        + "model's max_position_embeddings (" + maxPositions + "); truncate it");
            }
        }
        int[] offsets = offsets();
        for (int i = 0; i < lengths.length; i++) {
            int start = packed ? offsets[i] : i * maxLength;
            for (int t = 0; t < lengths[i]; t++) {
                long id = ids[start + t];
                if (id < 0 || id >= vocabSize) {
                    throw new IllegalArgumentException("sequence " + i + ", position " + t + ": token id " + id
                            + " is outside the vocabulary [0, " + vocabSize + ")");
                }
            }
        }
    }
}
