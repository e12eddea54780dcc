package arenakit.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-turn proportional cutting (4th place): each turn keeps a share of the budget proportional to its length, so
 * every round stays visible; inside a turn the longest fields are cut first, and a cut field keeps its head and
 * tail with "......" where text was removed. If the per-turn labels alone do not fit, the earliest turns are
 * dropped whole first.
 */
final class ProportionalTruncation implements Truncation {
    @Override
    public String name() {
        return "proportional";
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
        int turns = 0;
        for (Piece p : body) {
            turns = Math.max(turns, p.turn() + 1);
        }
        long[] turnLength = new long[turns];
        long fieldTotal = 0;
        long fieldBudget = budget;
        for (Piece p : body) {
            if (p.turn() >= 0 && p.turn() < first) {
                continue;
            }
            if (p.field()) {
                turnLength[p.turn()] += p.ids().length;
                fieldTotal += p.ids().length;
            } else {
                fieldBudget -= p.ids().length;
            }
        }
        int[] share = shares(turnLength, Math.min(fieldBudget, fieldTotal), fieldTotal);
        int[][] keep = new int[body.size()][];
        for (int t = first; t < turns; t++) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < body.size(); i++) {
                if (body.get(i).turn() == t && body.get(i).field()) {
                    idx.add(i);
                }
            }
            int[] lengths = idx.stream().mapToInt(i -> body.get(i).ids().length).toArray();
            int[] k = Cuts.waterFill(lengths, share[t]);
            for (int j = 0; j < idx.size(); j++) {
                keep[idx.get(j)] = Cuts.headEllipsisTail(body.get(idx.get(j)).ids(), k[j], ellipsis);
            }
        }
        List<int[]> out = new ArrayList<>(body.size());
        for (int i = 0; i < body.size(); i++) {
            Piece p = body.get(i);
            if (p.turn() >= 0 && p.turn() < first) {
                out.add(new int[0]);
            } else {
                out.add(p.field() ? keep[i] : p.ids());
            }
        }
        return out;
    }

    /** Largest-remainder split of {@code budget} over turns in proportion to their lengths. */
    private static int[] shares(long[] length, long budget, long total) {
        int[] share = new int[length.length];
        if (total == 0) {
            return share;
        }
        double[] frac = new double[length.length];
        long used = 0;
        for (int t = 0; t < length.length; t++) {
            long exact = budget * length[t];
            share[t] = (int) (exact / total);
            frac[t] = (exact % total) / (double) total;
            used += share[t];
        }
        for (long left = budget - used; left > 0; left--) {
            int best = -1;
            for (int t = 0; t < length.length; t++) {
                if (share[t] < length[t] && (best < 0 || frac[t] > frac[best])) {
                    best = t;
                }
            }
            if (best < 0) {
                break;
            }
            share[best]++;
            frac[best] = -1;
        }
        return share;
    }
}
