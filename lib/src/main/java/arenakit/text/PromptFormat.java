package arenakit.text;

import arenakit.data.Conversation;
import java.util.List;
import java.util.Locale;

/**
 * How a conversation becomes one model input: a named strategy chosen in stage configs by {@link #forName}.
 *
 * <p>A format writes the whole comparison as one user turn ({@link Prompt}: instruction, conversation, closing
 * marker) and a verdict cue; the base model's {@link ChatTemplate} wraps it, and the assistant turn's opening plus the
 * cue are the last tokens of every input, where the classifier head reads:
 * {@code <bos><start_of_turn>user\n ... <end_of_turn>\n<start_of_turn>model\n<cue>} in Gemma's template.
 */
public interface PromptFormat {

    /** The name used in configs. */
    String name();

    /** The format's user turn and cue for one conversation. */
    Prompt prompt(Conversation conversation);

    /** The text the assistant turn starts with after the template's role line (e.g. {@code verdict is: [[}). */
    String verdictCue();

    /** The input's segments for one conversation in {@code template}. */
    default Layout layout(Conversation conversation, ChatTemplate template) {
        return template.wrap(prompt(conversation));
    }

    /** The input's segments in the Gemma template. */
    default Layout layout(Conversation conversation) {
        return layout(conversation, ChatTemplate.GEMMA);
    }

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
}
