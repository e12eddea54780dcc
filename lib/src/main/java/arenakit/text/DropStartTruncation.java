package arenakit.text;

import java.util.List;

/**
 * Drops tokens from the start of the conversation (16th place): the latest turns survive whole, the earliest go
 * first, and the first surviving piece loses its beginning. Format structure outside turns is kept. Suits
 * {@code pab} and {@code rounds}; with {@code papb} it eats assistant A's block before B's.
 */
final class DropStartTruncation implements Truncation {
    @Override
    public String name() {
        return "drop-start";
    }

    @Override
    public List<int[]> fit(List<Piece> body, int budget, int[] ellipsis) {
        if (Cuts.total(body) <= budget) {
            return Cuts.unchanged(body);
        }
        return Cuts.keepEnd(body, budget);
    }
}
