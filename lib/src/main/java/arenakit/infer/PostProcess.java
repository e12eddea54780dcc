package arenakit.infer;

import arenakit.data.Conversation;
import arenakit.data.Winner;
import java.util.Objects;

/**
 * Overrides model probabilities where the input decides the verdict (4th place): an empty side loses, identical
 * responses tie. The rule's outcome gets the configured probability; the rest is shared by the other two classes
 * in the model's proportions, so the model's opinion still orders them.
 */
public final class PostProcess {
    private final PostProcessConfig config;

    public PostProcess(PostProcessConfig config) {
        this.config = config;
    }

    /** Which outcome a rule forces for this row, or null when no rule applies. */
    public Winner rule(Conversation row) {
        if (config == null) {
            return null;
        }
        boolean emptyA = row.turns().stream().allMatch(t -> blank(t.responseA()));
        boolean emptyB = row.turns().stream().allMatch(t -> blank(t.responseB()));
        if (config.emptyResponse() != null && emptyA != emptyB) {
            return emptyA ? Winner.B : Winner.A;
        }
        if (config.identicalResponses() != null && !emptyA
                && row.turns().stream().allMatch(t -> Objects.equals(t.responseA(), t.responseB()))) {
            return Winner.TIE;
        }
        return null;
    }

    /** The row's probabilities after the rules (a new array; the input is not changed). */
    public double[] apply(Conversation row, double[] probs) {
        Winner outcome = rule(row);
        if (outcome == null) {
            return probs.clone();
        }
        double target = outcome == Winner.TIE ? config.identicalResponses() : config.emptyResponse();
        int k = outcome.ordinal();
        double rest = 0;
        for (int c = 0; c < probs.length; c++) {
            rest += c == k ? 0 : probs[c];
        }
        double[] out = new double[probs.length];
        for (int c = 0; c < probs.length; c++) {
            out[c] = c == k ? target : rest > 0 ? (1 - target) * probs[c] / rest : (1 - target) / (probs.length - 1);
        }
        return out;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
