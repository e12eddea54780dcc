package arenakit.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A notebook after headless execution, with the queries its expectations need. Cells are found by tag (cell
 * metadata "tags", set in Jupyter's property inspector), so checks survive cells being added or moved.
 */
final class ExecutedNotebook {
    static final String RAISES_EXCEPTION = "raises-exception";
    private static final Pattern TABLE_SIZE = Pattern.compile("<p>(\\d+) rows? &times; (\\d+) columns?</p>");
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*m");

    final String name;
    final Path file;
    final Duration took;
    private final List<Cell> cells = new ArrayList<>();

    ExecutedNotebook(String name, Path file, Duration took) throws IOException {
        this.name = name;
        this.file = file;
        this.took = took;
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        int index = 0;
        for (JsonNode cell : json.path("cells")) {
            if (cell.path("cell_type").asText().equals("code")) {
                cells.add(new Cell(index, string(cell.path("source")), tags(cell), cell.path("outputs")));
            }
            index++;
        }
    }

    /** The code cell carrying this tag. */
    Cell cell(String tag) {
        List<Cell> tagged = cells.stream().filter(c -> c.tags.contains(tag)).collect(Collectors.toList());
        if (tagged.size() != 1) {
            Set<String> known = cells.stream().flatMap(c -> c.tags.stream()).collect(Collectors.toCollection(LinkedHashSet::new));
            fail(name + ": expected one code cell tagged '" + tag + "', found " + tagged.size() + " (tags: " + known + ")");
        }
        return tagged.get(0);
    }

    /** Error outputs of cells not tagged raises-exception, described for a failure message. */
    List<String> unexpectedErrors() {
        List<String> errors = new ArrayList<>();
        for (Cell c : cells) {
            if (c.tags.contains(RAISES_EXCEPTION)) {
                continue;
            }
            for (JsonNode o : c.outputs) {
                if (o.path("output_type").asText().equals("error")) {
                    errors.add("cell " + c.index + " (" + c.head() + "): " + o.path("ename").asText() + ": "
                            + ANSI.matcher(String.join("\n", lines(o.path("traceback")))).replaceAll(""));
                }
            }
        }
        return errors;
    }

    /** Every text/html output of the notebook in order, as one page (plotly.js comes with the first figures). */
    String htmlPage() {
        StringBuilder page = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"UTF-8\"><title>")
                .append(name).append("</title></head><body>\n");
        for (Cell c : cells) {
            c.html().forEach(h -> page.append(h).append('\n'));
        }
        return page.append("</body></html>\n").toString();
    }

    /** What the cells printed to stderr, as "cell N: text" (library log lines land here). */
    List<String> stderr() {
        List<String> out = new ArrayList<>();
        for (Cell c : cells) {
            for (JsonNode o : c.outputs) {
                if (o.path("output_type").asText().equals("stream") && o.path("name").asText().equals("stderr")) {
                    out.add("cell " + c.index + " (" + c.head() + "): " + string(o.path("text")));
                }
            }
        }
        return out;
    }

    /** Copies of plotly.js in the notebook's outputs (the kernel sends it with a session's first chart). */
    int plotlyCopies() {
        return cells.stream().mapToInt(c -> (int) c.html().stream()
                .mapToLong(h -> Pattern.compile("var packed = '").matcher(h).results().count()).sum()).sum();
    }

    /** Outputs with HTML whose text/plain fallback is HTML too (front ends that show text would print markup). */
    List<String> markupAsPlainText() {
        List<String> bad = new ArrayList<>();
        for (Cell c : cells) {
            for (JsonNode o : c.outputs) {
                String plain = string(o.path("data").path("text/plain")).strip();
                if (o.path("data").has("text/html") && plain.startsWith("<") && plain.endsWith(">")) {
                    bad.add("cell " + c.index + " (" + c.head() + "): "
                            + plain.substring(0, Math.min(80, plain.length())));
                }
            }
        }
        return bad;
    }

    /** Figures drawn by the whole notebook. */
    int figures() {
        return cells.stream().mapToInt(Cell::figures).sum();
    }

    /** A code cell and its outputs. */
    static final class Cell {
        final int index;
        final String source;
        final Set<String> tags;
        final JsonNode outputs;

        Cell(int index, String source, Set<String> tags, JsonNode outputs) {
            this.index = index;
            this.source = source;
            this.tags = tags;
            this.outputs = outputs;
        }

        String head() {
            String first = source.lines().findFirst().orElse("");
            return first.length() > 60 ? first.substring(0, 60) + "..." : first;
        }

        /** What the cell printed to stdout. */
        String stdout() {
            StringBuilder s = new StringBuilder();
            for (JsonNode o : outputs) {
                if (o.path("output_type").asText().equals("stream") && o.path("name").asText().equals("stdout")) {
                    s.append(string(o.path("text")));
                }
            }
            return s.toString();
        }

        /** stdout, stderr and the text/plain of every result and display, in order. */
        String text() {
            StringBuilder s = new StringBuilder();
            for (JsonNode o : outputs) {
                s.append(o.path("output_type").asText().equals("stream") ? string(o.path("text"))
                        : string(o.path("data").path("text/plain"))).append('\n');
            }
            return s.toString();
        }

        /** The text/html of every result and display, in order. */
        List<String> html() {
            List<String> html = new ArrayList<>();
            for (JsonNode o : outputs) {
                if (o.path("data").has("text/html")) {
                    html.add(string(o.path("data").path("text/html")));
                }
            }
            return html;
        }

        /**
         * The value of a {@code key: value} line the cell printed (the convention for checkable numbers: print
         * e.g. {@code rows: 999}); fails naming the cell when there is none.
         */
        String printed(String key) {
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(key) + ":\\s*(.*?)\\s*$").matcher(stdout());
            if (!m.find()) {
                fail("cell " + index + " (" + head() + ") printed no '" + key + ": ...' line; it printed:\n" + stdout());
            }
            return m.group(1);
        }

        double number(String key) {
            String value = printed(key);
            try {
                return Double.parseDouble(value);
            } catch (NumberFormatException e) {
                return fail("cell " + index + ": '" + key + ": " + value + "' is not a number");
            }
        }

        /** Plotly figures the cell showed. */
        int figures() {
            return (int) html().stream().filter(h -> h.contains("Plotly.newPlot(")).count();
        }

        /** Row counts of the tables (Tablesaw, rendered by the kernel) the cell showed, in order. */
        List<Integer> tableRows() {
            List<Integer> rows = new ArrayList<>();
            for (String h : html()) {
                Matcher m = TABLE_SIZE.matcher(h);
                while (m.find()) {
                    rows.add(Integer.parseInt(m.group(1)));
                }
            }
            return rows;
        }

        /**
         * The one text/html output containing {@code marker} (e.g. "arena-progress" for a progress bar: after its
         * in-place updates, the saved output holds the final state).
         */
        String htmlContaining(String marker) {
            List<String> found = html().stream().filter(h -> h.contains(marker)).collect(Collectors.toList());
            assertEquals(1, found.size(), "cell " + index + " (" + head() + "): outputs containing '" + marker + "'");
            return found.get(0);
        }
    }

    private static Set<String> tags(JsonNode cell) {
        Set<String> tags = new LinkedHashSet<>();
        cell.path("metadata").path("tags").forEach(t -> tags.add(t.asText()));
        return tags;
    }

    private static List<String> lines(JsonNode array) {
        List<String> lines = new ArrayList<>();
        array.forEach(n -> lines.add(n.asText()));
        return lines;
    }

    /** nbformat stores multi-line strings as a string or a list of lines. */
    static String string(JsonNode node) {
        if (node.isArray()) {
            StringBuilder s = new StringBuilder();
            node.forEach(n -> s.append(n.asText()));
            return s.toString();
        }
        return node.isMissingNode() || node.isNull() ? "" : node.asText();
    }
}
