package arenakit.data;

/**
 * One round of a conversation: the user's prompt and the two models' responses to it. Any field may be
 * {@code null}: the competition's JSON arrays hold {@code null} elements, and EDA and post-processing treat a null
 * response differently from an empty one.
 */
public record Turn(String prompt, String responseA, String responseB) {

    /** The same turn with the two responses exchanged. */
    public Turn swapped() {
        return new Turn(prompt, responseB, responseA);
    }
}
