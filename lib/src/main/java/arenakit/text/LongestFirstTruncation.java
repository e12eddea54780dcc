package arenakit.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts the longest fields first: every field is capped at a common length chosen so the body fits exactly (short
 * prompts stay whole, the longest responses lose their ends). If the per-turn labels alone do not fit, the earliest
 * turns are dropped whole first.
 */
final class LongestFirstTruncation implements Truncation {
    @Override
    public String name() {
        return "longest-first";
    }

    @Override
    public List<int[]> fit(List<Piece> body, int budget, int[] ellipsis) {
        if (Cuts.total(body) <= budget) {
            return Cuts.unchanged(body);
        }
        Cuts.structural(body, budget);
        int first = Cuts.firstKeptTurn(body, budget);
        if (first < 0) {
            return Cuts.keepEnd(body, budget);
        }
        int fieldBudget = budget;
        List<Integer> fields = new ArrayList<>();
        for (int i = 0; i < body.size(); i++) {
            Piece p = body.get(i);
            if (p.turn() >= 0 && p.turn() < first) {
                continue;
            }
            if (p.field()) {
                fields.add(i);
            } else {
                fieldBudget -= p.ids().length;
            }
        }
        int[] lengths = fields.stream().mapToInt(i -> body.get(i).ids().length).toArray();
        int[] keep = Cuts.waterFill(lengths, fieldBudget);
        List<int[]> out = new ArrayList<>(body.size());
        int f = 0;
        for (Piece p : body) {
            if (p.turn() >= 0 && p.turn() < first) {
                out.add(new int[0]);
            } else if (p.field()) {
                out.add(Cuts.head(p.ids(), keep[f++]));
            } else {
                out.add(p.ids());
            }
        }
        return out;
    }
}
