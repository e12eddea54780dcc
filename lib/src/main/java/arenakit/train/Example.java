package arenakit.train;

import arenakit.data.Conversation;
import arenakit.data.Winner;

/**
 * One training row: the conversation, its target distribution over (A, B, tie) (one-hot for human labels,
 * probabilities for pseudo-labels) and, for distillation, the teacher's logits (null for human labels).
 */
public record Example(Conversation row, float[] target, float[] teacherLogits) {

    /** A human-labeled row. */
    public static Example labeled(Conversation row) {
        if (!row.labeled()) {
            throw new IllegalArgumentException("row " + row.id() + " (line " + row.line() + ") has no label");
        }
        float[] target = new float[Winner.values().length];
        target[row.winner().ordinal()] = 1f;
        return new Example(row, target, null);
    }

    /** The swap augmentation: responses exchanged, and the A and B entries of target and teacher with them. */
    public Example swapped() {
        return new Example(row.swapped(), swapAB(target), teacherLogits == null ? null : swapAB(teacherLogits));
    }

    /** The class whose target is largest (for class-balanced ordering of soft labels). */
    public int majorityClass() {
        int best = 0;
        for (int c = 1; c < target.length; c++) {
            if (target[c] > target[best]) {
                best = c;
            }
        }
        return best;
    }

    private static float[] swapAB(float[] v) {
        return new float[] {v[Winner.B.ordinal()], v[Winner.A.ordinal()], v[Winner.TIE.ordinal()]};
    }
}
