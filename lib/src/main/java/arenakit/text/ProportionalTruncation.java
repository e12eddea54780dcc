package arenakit.text;

import java.util.ArrayList;
import java.util.Arrays;
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
        return Cuts.fitFields(body, budget, ellipsis, ProportionalTruncation::cutPerTurn);
    }

    private static List<int[]> cutPerTurn(List<Piece> fields, int budget, int[] ellipsis) {
        int turns = 0;
        for (Piece p : fields) {
            turns = Math.max(turns, p.turn() + 1);
        }
        long[] turnLength = new long[turns];
        long total = 0;
        for (Piece p : fields) {
            turnLength[p.turn()] += p.ids().length;
            total += p.ids().length;
        }
        int[] share = shares(turnLength, Math.min(budget, total), total);
        int[][] keep = new int[fields.size()][];
        for (int t = 0; t < turns; t++) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < fields.size(); i++) {
                if (fields.get(i).turn() == t) {
                    idx.add(i);
                }
            }
            int[] lengths = idx.stream().mapToInt(i -> fields.get(i).ids().length).toArray();
            int[] k = Cuts.waterFill(lengths, share[t]);
            for (int j = 0; j < idx.size(); j++) {
                keep[idx.get(j)] = Cuts.headEllipsisTail(fields.get(idx.get(j)).ids(), k[j], ellipsis);
            }
        }
        return Arrays.asList(keep);
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
