package arenakit.text;

/**
 * One part of a model input before tokenizing: a special token placed by id, fixed format text, or a field of the
 * conversation (prompt or response) that truncation may cut.
 *
 * @param kind what the part is
 * @param text the special token's name ({@code <bos>}) or the text
 * @param turn 0-based turn the part belongs to, or -1 for format structure outside any turn
 */
public record Segment(Kind kind, String text, int turn) {

    public enum Kind {
        /** A special token, looked up by name and placed by id. */
        SPECIAL,
        /** Format text (labels, instruction, markers); never cut except when a whole turn is dropped. */
        FIXED,
        /** Conversation text that truncation may cut. */
        FIELD
    }

    public static Segment special(String token) {
        return new Segment(Kind.SPECIAL, token, -1);
    }

    public static Segment fixed(String text) {
        return new Segment(Kind.FIXED, text, -1);
    }

    public static Segment fixed(String text, int turn) {
        return new Segment(Kind.FIXED, text, turn);
    }

    /** A conversation field; {@code null} elements are shown as the text "null", as the 2nd-place solution did. */
    public static Segment field(String text, int turn) {
        return new Segment(Kind.FIELD, text == null ? "null" : text, turn);
    }
}
