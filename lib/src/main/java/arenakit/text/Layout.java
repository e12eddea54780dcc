package arenakit.text;

import java.util.List;

/**
 * A model input in three parts. The prefix and suffix are kept whole (the chat template, the instruction and, at the
 * very end, the verdict cue the classifier reads its logits from); only the body is truncated to fit the budget.
 */
public record Layout(List<Segment> prefix, List<Segment> body, List<Segment> suffix) {
    public Layout {
        prefix = List.copyOf(prefix);
        body = List.copyOf(body);
        suffix = List.copyOf(suffix);
    }
}
