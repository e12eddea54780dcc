package arenakit.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Class-balanced training order (silver team): every prefix of the order has class shares as close as possible to
 * the whole set's, so no stretch of training sees mostly one class. Within a class the order is a seeded shuffle.
 * Apply before {@link Swap#withSwaps} so swapped pairs stay adjacent.
 */
public final class BalancedOrder {
    private BalancedOrder() {}

    /**
     * The rows reordered: at each position, the class furthest behind its target count goes next; at any prefix
     * of length n each class count is within 1 of n times its share.
     *
     * @throws IllegalArgumentException for unlabeled rows
     */
    public static List<Conversation> of(List<Conversation> rows, long seed) {
        Map<Winner, List<Conversation>> byClass = new EnumMap<>(Winner.class);
        for (Winner w : Winner.values()) {
            byClass.put(w, new ArrayList<>());
        }
        for (Conversation c : rows) {
            if (!c.labeled()) {
                throw new IllegalArgumentException("row " + c.id() + " has no label: balanced order needs labels");
            }
            byClass.get(c.winner()).add(c);
        }
        Random rng = new Random(seed);
        byClass.values().forEach(l -> Collections.shuffle(l, rng));
        int n = rows.size();
        int[] taken = new int[Winner.values().length];
        List<Conversation> out = new ArrayList<>(n);
        for (int pos = 1; pos <= n; pos++) {
            Winner next = null;
            double worst = Double.NEGATIVE_INFINITY;
            for (Winner w : Winner.values()) {
                int size = byClass.get(w).size();
                if (taken[w.ordinal()] == size) {
                    continue;
                }
                double deficit = (double) pos * size / n - taken[w.ordinal()];
                if (deficit > worst) {
                    worst = deficit;
                    next = w;
                }
            }
            out.add(byClass.get(next).get(taken[next.ordinal()]++));
        }
        return out;
    }
}
