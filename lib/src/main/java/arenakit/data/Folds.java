package arenakit.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Cross-validation folds: StratifiedGroupKFold (as in scikit-learn) with the conversation's prompts as the group,
 * so no prompt is in both the training and validation part, while each fold's class shares stay close to the whole
 * set's. Seeded and deterministic.
 *
 * <p>The algorithm: groups are shuffled with the seed, then taken in order of decreasing spread of their class
 * counts; each goes to the fold where it keeps the per-class fold shares most even (smallest mean over classes of
 * the standard deviation across folds of the fold's share of that class), ties to the smaller fold.
 */
public final class Folds {

    /** A training part and a validation part. */
    public record Split(List<Conversation> train, List<Conversation> valid) {}

    private Folds() {}

    /** The group of a row: its prompts, turn by turn ({@code null} elements included). */
    public static List<String> promptKey(Conversation c) {
        return c.turns().stream().map(Turn::prompt).toList();
    }

    /**
     * The fold (0..k-1) of each row.
     *
     * @throws IllegalArgumentException for unlabeled rows, or k below 2 or above the number of distinct prompts
     */
    public static int[] stratifiedGroupKFold(List<Conversation> rows, int k, long seed) {
        Map<List<String>, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            Conversation c = rows.get(i);
            if (!c.labeled()) {
                throw new IllegalArgumentException("row " + c.id() + " (line " + c.line() + ") has no label: "
                        + "stratified folds need labeled rows");
            }
            groups.computeIfAbsent(promptKey(c), g -> new ArrayList<>()).add(i);
        }
        if (k < 2 || k > groups.size()) {
            throw new IllegalArgumentException("k must be in [2, number of distinct prompts = " + groups.size()
                    + "], got " + k);
        }
        int classes = Winner.values().length;
        List<int[]> counts = new ArrayList<>();
        List<List<Integer>> members = new ArrayList<>(groups.values());
        Collections.shuffle(members, new Random(seed));
        for (List<Integer> m : members) {
            int[] cnt = new int[classes];
            m.forEach(i -> cnt[rows.get(i).winner().ordinal()]++);
            counts.add(cnt);
        }
        Integer[] order = new Integer[members.size()];
        for (int g = 0; g < order.length; g++) {
            order[g] = g;
        }
        // stable sort: groups with the most uneven class counts first
        Arrays.sort(order, Comparator.comparingDouble(g -> -std(counts.get(g))));

        double[] total = new double[classes];
        for (Conversation c : rows) {
            total[c.winner().ordinal()]++;
        }
        int[][] perFold = new int[k][classes];
        int[] foldSize = new int[k];
        int[] fold = new int[rows.size()];
        for (int g : order) {
            int[] cnt = counts.get(g);
            int best = -1;
            double bestEval = Double.POSITIVE_INFINITY;
            for (int f = 0; f < k; f++) {
                double eval = evaluate(perFold, cnt, f, total);
                if (eval < bestEval - 1e-12
                        || (Math.abs(eval - bestEval) <= 1e-12 && foldSize[f] < foldSize[best])) {
                    best = f;
                    bestEval = eval;
                }
            }
            for (int c = 0; c < classes; c++) {
                perFold[best][c] += cnt[c];
            }
            foldSize[best] += members.get(g).size();
            for (int i : members.get(g)) {
                fold[i] = best;
            }
        }
        return fold;
    }

    /** Rows of fold {@code valid} as validation, the rest as training, both in input order. */
    public static Split split(List<Conversation> rows, int[] folds, int valid) {
        if (folds.length != rows.size()) {
            throw new IllegalArgumentException(folds.length + " fold indices for " + rows.size() + " rows");
        }
        List<Conversation> train = new ArrayList<>();
        List<Conversation> val = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            (folds[i] == valid ? val : train).add(rows.get(i));
        }
        return new Split(train, val);
    }

    /** Mean over classes of the std across folds of each fold's share of the class, if group goes to fold f. */
    private static double evaluate(int[][] perFold, int[] group, int f, double[] total) {
        int k = perFold.length;
        double sum = 0;
        for (int c = 0; c < group.length; c++) {
            if (total[c] == 0) {
                continue;
            }
            double[] shares = new double[k];
            for (int j = 0; j < k; j++) {
                shares[j] = (perFold[j][c] + (j == f ? group[c] : 0)) / total[c];
            }
            sum += std(shares);
        }
        return sum / group.length;
    }

    private static double std(int[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return std(d);
    }

    private static double std(double[] v) {
        double mean = 0;
        for (double x : v) {
            mean += x;
        }
        mean /= v.length;
        double ss = 0;
        for (double x : v) {
            ss += (x - mean) * (x - mean);
        }
        return Math.sqrt(ss / v.length);
    }
}
