package arenakit.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Removes external rows whose prompt already appears in train (2nd place: lmsys-33k went from 33k to 21k rows), so
 * validation on a train fold is not inflated by the same prompt in the external data. Prompts compare exactly,
 * all turns ({@link Folds#promptKey}). The dropped rows are returned, not discarded silently.
 */
public final class Dedup {

    /** The rows kept and the rows dropped, both in input order. */
    public record Result(List<Conversation> kept, List<Conversation> dropped) {
        @Override
        public String toString() {
            return "kept " + kept.size() + " external rows, dropped " + dropped.size()
                    + " whose prompt is in train";
        }
    }

    private Dedup() {}

    public static Result againstTrain(List<Conversation> external, List<Conversation> train) {
        Set<List<String>> seen = new HashSet<>();
        train.forEach(c -> seen.add(Folds.promptKey(c)));
        List<Conversation> kept = new ArrayList<>();
        List<Conversation> dropped = new ArrayList<>();
        for (Conversation c : external) {
            (seen.contains(Folds.promptKey(c)) ? dropped : kept).add(c);
        }
        return new Result(kept, dropped);
    }
}
