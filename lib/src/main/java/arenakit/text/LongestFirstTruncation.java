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
        return Cuts.fitFields(body, budget, ellipsis, (fields, fieldBudget, marker) -> {
            int[] keep = Cuts.waterFill(Cuts.lengths(fields), fieldBudget);
            List<int[]> out = new ArrayList<>(fields.size());
            for (int i = 0; i < fields.size(); i++) {
                out.add(Cuts.head(fields.get(i).ids(), keep[i]));
            }
            return out;
        });
    }
}
