package arenakit.data;

import java.util.List;

/**
 * One competition row: the same prompts sent to two models, and (when labeled) which response a human preferred.
 *
 * <p>{@code modelA}/{@code modelB} are null in test data; {@code winner} is null for test and unlabeled rows.
 * {@code line} is the 1-based line in the source file where the row starts (0 for generated rows), so that any
 * later error can still name where the row came from.
 */
public record Conversation(String id, String modelA, String modelB, List<Turn> turns, Winner winner, long line) {

    public Conversation {
        turns = List.copyOf(turns);
    }

    public boolean labeled() {
        return winner != null;
    }

    /** The swap augmentation: responses, model names and label exchanged. */
    public Conversation swapped() {
        return new Conversation(id, modelB, modelA, turns.stream().map(Turn::swapped).toList(),
                winner == null ? null : winner.swapped(), line);
    }
}
