package arenakit.infer;

import java.util.List;

/**
 * Per-row class probabilities (A, B, tie) and matching logits. With TTA the probabilities are the average of
 * f(A,B) and the swapped-back f(B,A) and the logits are their logs, so a softmax of the logits gives the
 * probabilities back (what distillation from these predictions needs).
 */
public record Predictions(List<String> ids, double[][] probs, double[][] logits) {
    public Predictions {
        ids = List.copyOf(ids);
        if (probs.length != ids.size() || logits.length != ids.size()) {
            throw new IllegalArgumentException("ids, probs and logits differ in length");
        }
    }

    public int size() {
        return ids.size();
    }
}
