package arenakit.text;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import java.util.ArrayList;
import java.util.List;

/**
 * The round-structured format of a silver-medal writeup: {@code round_1:} with {@code <prompt>:},
 * {@code <response_a>:}, {@code <response_b>:} per turn, a short question after the rounds and the cue
 * {@code Answer:} in the assistant turn. Fewer instruction tokens than PAB, so more room for the conversation.
 */
final class RoundsFormat implements PromptFormat {
    static final String CUE = "Answer:";

    @Override
    public String name() {
        return "rounds";
    }

    @Override
    public String verdictCue() {
        return CUE;
    }

    @Override
    public Prompt prompt(Conversation c) {
        List<Segment> body = new ArrayList<>();
        List<Turn> turns = c.turns();
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            body.add(Segment.fixed("\nround_" + (i + 1) + ":\n<prompt>: ", i));
            body.add(Segment.field(t.prompt(), i));
            body.add(Segment.fixed("\n<response_a>: ", i));
            body.add(Segment.field(t.responseA(), i));
            body.add(Segment.fixed("\n<response_b>: ", i));
            body.add(Segment.field(t.responseB(), i));
        }
        return new Prompt("Two AI assistants answered the same user in the rounds below.\n", body,
                "\n\n---\nWhich response did the user prefer? [A or B or tie]", CUE);
    }
}
