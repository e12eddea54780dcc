package arenakit.text;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import java.util.ArrayList;
import java.util.List;

/**
 * The 2nd-place "PAB" judge format: an impartial-judge instruction, then each turn as {@code ### User:} prompt,
 * {@code ### Assistant A:} response, {@code ### Assistant B:} response between start/end-of-conversation markers,
 * all in one user turn of the model's chat template; the assistant turn starts with the cue {@code verdict is: [[}.
 */
final class PabFormat implements PromptFormat {
    static final String JUDGE = "Please act as an impartial judge of the answers two AI assistants gave in the "
            + "conversation below. Pick the assistant that follows the user's instructions and answers the user's "
            + "questions better, weighing helpfulness, relevance, accuracy, depth, creativity and level of detail. "
            + "Do not let the order of the answers, their length or the assistants' names sway you, and be as "
            + "objective as possible. Give your final verdict strictly as \"[[A]]\" if assistant A is better, "
            + "\"[[B]]\" if assistant B is better, and \"[[C]]\" for a tie.\n";
    static final String CUE = "verdict is: [[";

    @Override
    public String name() {
        return "pab";
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
            body.add(Segment.fixed("\n### User:\n", i));
            body.add(Segment.field(t.prompt(), i));
            body.add(Segment.fixed("\n\n### Assistant A:\n", i));
            body.add(Segment.field(t.responseA(), i));
            body.add(Segment.fixed("\n\n### Assistant B:\n", i));
            body.add(Segment.field(t.responseB(), i));
            body.add(Segment.fixed("\n", i));
        }
        return new Prompt(JUDGE + "<|The Start of Conversation between a User and two Assistants|>",
                body, "<|The End of Conversation between a User and two Assistants|>\n", CUE);
    }
}
