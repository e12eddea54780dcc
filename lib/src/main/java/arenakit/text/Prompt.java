package arenakit.text;

import java.util.List;

/**
 * What a {@link PromptFormat} says for one conversation, before a {@link ChatTemplate} wraps it: the user turn is
 * {@code prefix} + {@code body} + {@code suffix} (instruction, conversation, closing marker), and the assistant turn
 * opens with {@code cue} ({@code verdict is: [[}), the last tokens of every input.
 */
public record Prompt(String prefix, List<Segment> body, String suffix, String cue) {
    public Prompt {
        body = List.copyOf(body);
    }
}
