package arenakit.data;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a validated file holds, for a quick look and for the validate CLI's text and JSON output.
 *
 * @param file file name (or the kind for generated data)
 * @param kind kind of file
 * @param rows number of rows
 * @param labels rows per class ({@code A}, {@code B}, {@code TIE}); empty for unlabeled data
 * @param turns total turns over all rows
 * @param multiTurnRows rows with more than one turn
 * @param maxTurns most turns in one row
 * @param nullElements JSON {@code null} elements in prompt and response cells
 * @param emptyElements empty-string elements in prompt and response cells
 * @param identicalResponses rows whose two responses are equal in every turn
 * @param repairs repair counts by {@link Repairs.Kind} name
 * @param repairNotes the repairs as text, with where they happened
 */
public record DataSummary(String file, DataKind kind, int rows, Map<String, Integer> labels, long turns,
        int multiTurnRows, int maxTurns, long nullElements, long emptyElements, int identicalResponses,
        Map<String, Long> repairs, String repairNotes) {

    static DataSummary of(DataSet data) {
        EnumMap<Winner, Integer> byClass = new EnumMap<>(Winner.class);
        long turns = 0;
        long nulls = 0;
        long empties = 0;
        int multi = 0;
        int maxTurns = 0;
        int identical = 0;
        for (Conversation c : data.rows()) {
            if (c.winner() != null) {
                byClass.merge(c.winner(), 1, Integer::sum);
            }
            int n = c.turns().size();
            turns += n;
            multi += n > 1 ? 1 : 0;
            maxTurns = Math.max(maxTurns, n);
            boolean same = true;
            for (Turn t : c.turns()) {
                for (String s : new String[] {t.prompt(), t.responseA(), t.responseB()}) {
                    nulls += s == null ? 1 : 0;
                    empties += s != null && s.isEmpty() ? 1 : 0;
                }
                same &= Objects.equals(t.responseA(), t.responseB());
            }
            identical += same ? 1 : 0;
        }
        Map<String, Integer> labels = new LinkedHashMap<>();
        byClass.forEach((w, v) -> labels.put(w.name(), v));
        String name = data.file() == null ? data.kind().name() : data.file().getFileName().toString();
        return new DataSummary(name, data.kind(), data.size(), labels, turns, multi, maxTurns, nulls, empties,
                identical, data.repairs().counts(), data.repairs().toString());
    }

    /** A few aligned lines for a terminal. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-20s %s (%s)%n", "file", file, kind.name().toLowerCase(Locale.ROOT)));
        sb.append(String.format("%-20s %d%n", "rows", rows));
        if (!labels.isEmpty()) {
            StringBuilder l = new StringBuilder();
            labels.forEach((k, v) -> l.append(l.length() == 0 ? "" : "  ")
                    .append(k).append(' ').append(v)
                    .append(String.format(Locale.ROOT, " (%.1f%%)", 100.0 * v / Math.max(1, rows))));
            sb.append(String.format("%-20s %s%n", "labels", l));
        }
        sb.append(String.format("%-20s %d (multi-turn rows %d, max %d per row)%n", "turns", turns, multiTurnRows,
                maxTurns));
        sb.append(String.format("%-20s %d null, %d empty%n", "elements", nullElements, emptyElements));
        sb.append(String.format("%-20s %d%n", "identical A/B", identicalResponses));
        sb.append(String.format("%-20s %s%n", "repairs", repairNotes.replace("\n", "\n" + " ".repeat(21))));
        return sb.toString();
    }
}
