package arenakit.text;

import arenakit.data.Conversation;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How a conversation becomes one model input: a named strategy chosen in stage configs by {@link #forName}.
 *
 * <p>All formats put the whole comparison in one user turn of the Gemma chat template and end with the model turn's
 * opening plus a verdict cue, so the last token (where the classifier head reads) is always the same:
 * {@code <bos><start_of_turn>user\n ... <end_of_turn>\n<start_of_turn>model\n<cue>}.
 */
public interface PromptFormat {

    /** The name used in configs. */
    String name();

    /** The input's segments for one conversation. */
    Layout layout(Conversation conversation);

    /** The text after the final {@code <start_of_turn>}: "model\n" plus the format's cue. */
    String verdictCue();

    /** The formats by config name: {@code pab}, {@code papb}, {@code rounds}. */
    static PromptFormat forName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "pab" -> new PabFormat();
            case "papb" -> new PapbFormat();
            case "rounds" -> new RoundsFormat();
            default -> throw new IllegalArgumentException(
                    "unknown prompt format '" + name + "'; valid names: " + String.join(", ", names()));
        };
    }

    static List<String> names() {
        return List.of("pab", "papb", "rounds");
    }

    /**
     * The Gemma chat template around one user turn: {@code <bos><start_of_turn>user\n} + user prefix, then the body,
     * then user suffix + {@code <end_of_turn>\n<start_of_turn>} + {@code cue}.
     */
    static Layout gemmaChat(String userPrefix, List<Segment> body, String userSuffix, String cue) {
        List<Segment> prefix = List.of(Segment.special("<bos>"), Segment.special("<start_of_turn>"),
                Segment.fixed("user\n" + userPrefix));
        List<Segment> suffix = new ArrayList<>();
        if (!userSuffix.isEmpty()) {
            suffix.add(Segment.fixed(userSuffix));
        }
        suffix.add(Segment.special("<end_of_turn>"));
        suffix.add(Segment.fixed("\n"));
        suffix.add(Segment.special("<start_of_turn>"));
        suffix.add(Segment.fixed(cue));
        return new Layout(prefix, body, suffix);
    }
}
