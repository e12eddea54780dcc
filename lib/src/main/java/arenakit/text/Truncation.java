package arenakit.text;

import java.util.List;
import java.util.Locale;

/**
 * How a too-long body is cut to a token budget: a named strategy chosen in stage configs by {@link #forName}.
 * Implementations are exact: the returned pieces total at most the budget, and pieces with {@code turn < 0}
 * (format structure) are kept whole.
 */
public interface Truncation {

    /**
     * One tokenized body segment.
     *
     * @param ids its token ids
     * @param field whether it is conversation text (cuttable) rather than format text
     * @param turn the turn it belongs to, or -1 for structure outside turns
     */
    record Piece(int[] ids, boolean field, int turn) {}

    /** The name used in configs. */
    String name();

    /**
     * The body's pieces cut to at most {@code budget} tokens in total, same order and count (a dropped piece is an
     * empty array).
     *
     * @param ellipsis ids of the "......" marker, for policies that mark cuts
     * @throws IllegalArgumentException if even the structural pieces exceed the budget
     */
    List<int[]> fit(List<Piece> body, int budget, int[] ellipsis);

    /** The policies by config name: {@code proportional}, {@code drop-start}, {@code longest-first}. */
    static Truncation forName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "proportional" -> new ProportionalTruncation();
            case "drop-start" -> new DropStartTruncation();
            case "longest-first" -> new LongestFirstTruncation();
            default -> throw new IllegalArgumentException(
                    "unknown truncation '" + name + "'; valid names: " + String.join(", ", names()));
        };
    }

    static List<String> names() {
        return List.of("proportional", "drop-start", "longest-first");
    }
}
