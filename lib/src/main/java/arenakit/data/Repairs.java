package arenakit.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The documented repairs a reader applied to a file, counted, with the first few places each happened. Readers
 * never change data silently: every repair lands here and in the summary that the CLI prints.
 */
public final class Repairs {

    /** Every repair a reader may apply. Anything else wrong with the input is a {@link DataException}. */
    public enum Kind {
        /** A UTF-8 byte order mark at the start of the file was skipped (Excel writes one). */
        BOM_STRIPPED("UTF-8 byte order mark skipped"),
        /** A CRLF line end was read as LF (files saved on Windows); counted per CRLF. */
        CRLF_LINE_END("CRLF line end read as LF"),
        /**
         * A JSON string held a lone UTF-16 surrogate (e.g. {@code "\ud83d"} without its pair). It was replaced by
         * U+FFFD because the tokenizer (Rust, UTF-8) cannot represent it. Counted per surrogate.
         */
        LONE_SURROGATE("lone UTF-16 surrogate replaced by U+FFFD");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    private static final int EXAMPLES = 5;

    private final EnumMap<Kind, Long> counts = new EnumMap<>(Kind.class);
    private final EnumMap<Kind, List<String>> examples = new EnumMap<>(Kind.class);

    /** Records {@code n} repairs of one kind at a place (e.g. "line 12 (id 7) column prompt"). */
    public void add(Kind kind, long n, String where) {
        if (n <= 0) {
            return;
        }
        counts.merge(kind, n, Long::sum);
        List<String> ex = examples.computeIfAbsent(kind, k -> new ArrayList<>());
        if (ex.size() < EXAMPLES && where != null) {
            ex.add(where);
        }
    }

    public long count(Kind kind) {
        return counts.getOrDefault(kind, 0L);
    }

    public long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    public boolean isEmpty() {
        return counts.isEmpty();
    }

    /** Counts keyed by kind name, in declaration order (for JSON output). */
    public Map<String, Long> counts() {
        Map<String, Long> out = new LinkedHashMap<>();
        counts.forEach((k, v) -> out.put(k.name(), v));
        return out;
    }

    /** The first few places a kind of repair happened. */
    public List<String> examples(Kind kind) {
        return Collections.unmodifiableList(examples.getOrDefault(kind, List.of()));
    }

    /** One line per kind: count, description and the first places. */
    @Override
    public String toString() {
        if (counts.isEmpty()) {
            return "no repairs";
        }
        StringBuilder sb = new StringBuilder();
        counts.forEach((k, v) -> {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append(v).append(" x ").append(k.description());
            List<String> ex = examples.getOrDefault(k, List.of());
            if (!ex.isEmpty()) {
                sb.append(" (").append(String.join("; ", ex)).append(v > ex.size() ? "; ..." : "").append(')');
            }
        });
        return sb.toString();
    }
}
