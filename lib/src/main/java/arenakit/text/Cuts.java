package arenakit.text;

import arenakit.text.Truncation.Piece;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/** Arithmetic shared by the truncation policies. */
final class Cuts {
    private Cuts() {}

    /** How a policy shares a token budget among the conversation fields of the turns that are kept. */
    @FunctionalInterface
    interface FieldCut {
        /** Each field's ids cut so that all together take at most {@code budget} tokens, in the fields' order. */
        List<int[]> cut(List<Piece> fields, int budget, int[] ellipsis);
    }

    /**
     * What the field-cutting policies share: the body unchanged when it fits; else the earliest turns dropped whole
     * until the structure and the kept turns' format text fit (when not even the last turn's does, only the end is
     * kept), and {@code cut} shares the rest of the budget among the kept turns' fields.
     */
    static List<int[]> fitFields(List<Piece> body, int budget, int[] ellipsis, FieldCut cut) {
        if (total(body) <= budget) {
            return unchanged(body);
        }
        structural(body, budget);
        int first = firstKeptTurn(body, budget);
        if (first < 0) {
            return keepEnd(body, budget);
        }
        int fieldBudget = budget;
        List<Piece> fields = new ArrayList<>();
        for (Piece p : body) {
            if (dropped(p, first)) {
                continue;
            }
            if (p.field()) {
                fields.add(p);
            } else {
                fieldBudget -= p.ids().length;
            }
        }
        Iterator<int[]> cutFields = cut.cut(fields, fieldBudget, ellipsis).iterator();
        List<int[]> out = new ArrayList<>(body.size());
        for (Piece p : body) {
            if (dropped(p, first)) {
                out.add(new int[0]);
            } else {
                out.add(p.field() ? cutFields.next() : p.ids());
            }
        }
        return out;
    }

    private static boolean dropped(Piece p, int firstKeptTurn) {
        return p.turn() >= 0 && p.turn() < firstKeptTurn;
    }

    static int[] lengths(List<Piece> pieces) {
        return pieces.stream().mapToInt(p -> p.ids().length).toArray();
    }

    static int total(List<Piece> body) {
        int n = 0;
        for (Piece p : body) {
            n += p.ids().length;
        }
        return n;
    }

    static List<int[]> unchanged(List<Piece> body) {
        List<int[]> out = new ArrayList<>(body.size());
        for (Piece p : body) {
            out.add(p.ids());
        }
        return out;
    }

    /** Tokens of structural pieces (turn < 0), which no policy cuts. */
    static int structural(List<Piece> body, int budget) {
        int s = 0;
        for (Piece p : body) {
            if (p.turn() < 0) {
                s += p.ids().length;
            }
        }
        if (s > budget) {
            throw new IllegalArgumentException("the format's structure alone takes " + s
                    + " tokens, more than the " + budget + " left for the conversation: raise max_length");
        }
        return s;
    }

    /**
     * The first turn to keep so that the format text of the kept turns (labels such as "### User:") plus the
     * structure fits the budget, or -1 when not even the last turn's labels fit.
     */
    static int firstKeptTurn(List<Piece> body, int budget) {
        int turns = 0;
        for (Piece p : body) {
            turns = Math.max(turns, p.turn() + 1);
        }
        int[] labels = new int[turns];
        int fixed = 0;
        for (Piece p : body) {
            if (p.turn() < 0) {
                fixed += p.ids().length;
            } else if (!p.field()) {
                labels[p.turn()] += p.ids().length;
            }
        }
        for (int first = turns - 1; first >= 0; first--) {
            fixed += labels[first];
            if (fixed > budget) {
                return first == turns - 1 ? -1 : first + 1;
            }
        }
        return 0;
    }

    /** Keeps the last {@code budget} non-structural tokens of the body (structure is kept whole). */
    static List<int[]> keepEnd(List<Piece> body, int budget) {
        int left = budget - structural(body, budget);
        int[][] out = new int[body.size()][];
        for (int i = body.size() - 1; i >= 0; i--) {
            int[] ids = body.get(i).ids();
            if (body.get(i).turn() < 0) {
                out[i] = ids;
            } else {
                int keep = Math.min(left, ids.length);
                out[i] = Arrays.copyOfRange(ids, ids.length - keep, ids.length);
                left -= keep;
            }
        }
        return Arrays.asList(out);
    }

    /**
     * Water-filling: how many tokens each of {@code lengths} keeps so that the sum is exactly
     * {@code min(budget, sum)}, short ones whole and long ones cut to a common cap (earlier ones get the spare
     * tokens of the rounding).
     */
    static int[] waterFill(int[] lengths, int budget) {
        long sum = 0;
        int max = 0;
        for (int l : lengths) {
            sum += l;
            max = Math.max(max, l);
        }
        if (sum <= budget) {
            return lengths.clone();
        }
        int lo = 0;
        int hi = max;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (capped(lengths, mid) <= budget) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int[] keep = new int[lengths.length];
        long extra = budget - capped(lengths, lo);
        for (int i = 0; i < lengths.length; i++) {
            keep[i] = Math.min(lengths[i], lo);
            if (lengths[i] > lo && extra > 0) {
                keep[i]++;
                extra--;
            }
        }
        return keep;
    }

    private static long capped(int[] lengths, int cap) {
        long s = 0;
        for (int l : lengths) {
            s += Math.min(l, cap);
        }
        return s;
    }

    /** The first {@code keep} tokens. */
    static int[] head(int[] ids, int keep) {
        return keep >= ids.length ? ids : Arrays.copyOf(ids, keep);
    }

    /**
     * {@code keep} tokens: head, the ellipsis, tail (head gets the odd token). When {@code keep} has no room for
     * the marker and a token on each side, just the head.
     */
    static int[] headEllipsisTail(int[] ids, int keep, int[] ellipsis) {
        if (keep >= ids.length) {
            return ids;
        }
        if (keep < ellipsis.length + 2) {
            return head(ids, keep);
        }
        int room = keep - ellipsis.length;
        int head = (room + 1) / 2;
        int tail = room - head;
        int[] out = new int[keep];
        System.arraycopy(ids, 0, out, 0, head);
        System.arraycopy(ellipsis, 0, out, head, ellipsis.length);
        System.arraycopy(ids, ids.length - tail, out, head + ellipsis.length, tail);
        return out;
    }
}
