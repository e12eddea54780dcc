package arenakit.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Pairwise preference sets ({@code id, prompt, chosen, rejected}; JSON-array cells like the Kaggle files, no ties),
 * used only through pseudo-labels: a teacher scores them, the student trains on the teacher's soft labels.
 *
 * <p>Read rows are {@link Conversation}s with response A = chosen, response B = rejected and <em>no</em> label
 * (a preference set's judge is not the arena's crowd, and its "chosen" must never be trained on as a label).
 * {@link #unlabeled} then places the responses at random sides for the teacher.
 */
public final class PreferencePairs {

    /**
     * One pair ready for pseudo-labeling.
     *
     * @param conversation unlabeled, responses in random order
     * @param chosenSide where the preference set's chosen response ended up ({@link Winner#A} or {@link Winner#B}):
     *     for analysis of the teacher only, never a training label
     */
    public record UnlabeledPair(Conversation conversation, Winner chosenSide) {}

    private PreferencePairs() {}

    /** Reads and validates a preference file (same rules as {@link KaggleCsv}). */
    public static DataSet read(Path file) {
        return KaggleCsv.readConversations(file, DataKind.PREFERENCE);
    }

    /** Writes pairs (response A = chosen, B = rejected) in the preference file format. */
    public static void write(Path file, List<Conversation> pairs) throws IOException {
        KaggleCsv.writeCsv(file, DataKind.PREFERENCE.columns(), pairs.stream().map(c -> {
            List<String> cells = new ArrayList<>(List.of(c.id()));
            cells.addAll(KaggleCsv.turnCells(c.turns(), Turn::prompt, Turn::responseA, Turn::responseB));
            return cells.toArray(String[]::new);
        }).toList());
    }

    /**
     * Unlabeled pairs with chosen/rejected placed at A or B by a seeded coin per pair. The coin depends on the
     * seed and the pair's id only, so a pair lands on the same side whatever else is in the list.
     */
    public static List<UnlabeledPair> unlabeled(List<Conversation> pairs, long seed) {
        List<UnlabeledPair> out = new ArrayList<>(pairs.size());
        for (Conversation c : pairs) {
            boolean swap = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + c.id().hashCode()).nextBoolean();
            Conversation plain = new Conversation(c.id(), c.modelA(), c.modelB(), c.turns(), null, c.line());
            out.add(swap ? new UnlabeledPair(plain.swapped(), Winner.B) : new UnlabeledPair(plain, Winner.A));
        }
        return out;
    }
}
