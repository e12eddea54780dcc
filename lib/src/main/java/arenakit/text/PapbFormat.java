package arenakit.text;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import java.util.ArrayList;
import java.util.List;

/**
 * The 2nd-place "PAPB" variant: assistant A's whole conversation (prompts + A's responses), then assistant B's
 * (prompts again + B's responses), each between its own markers; same instruction and cue as {@link PabFormat}.
 * Prompts appear twice, so it costs more tokens than PAB for the same conversation.
 */
final class PapbFormat implements PromptFormat {

    @Override
    public String name() {
        return "papb";
    }

    @Override
    public String verdictCue() {
        return PabFormat.CUE;
    }

    @Override
    public Prompt prompt(Conversation c) {
        List<Segment> body = new ArrayList<>();
        side(body, c.turns(), true);
        body.add(Segment.fixed("<|The End of Assistant A's Conversation with User|>\n\n"
                + "<|The Start of Assistant B's Conversation with User|>"));
        side(body, c.turns(), false);
        return new Prompt(PabFormat.JUDGE + "<|The Start of Assistant A's Conversation with User|>",
                body, "<|The End of Assistant B's Conversation with User|>\n", PabFormat.CUE);
    }

    private static void side(List<Segment> body, List<Turn> turns, boolean a) {
        String label = a ? "\n\n### Assistant A:\n" : "\n\n### Assistant B:\n";
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            body.add(Segment.fixed("\n### User:\n", i));
            body.add(Segment.field(t.prompt(), i));
            body.add(Segment.fixed(label, i));
            body.add(Segment.field(a ? t.responseA() : t.responseB(), i));
            body.add(Segment.fixed("\n", i));
        }
    }
}
