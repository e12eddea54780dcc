package arenakit.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The validated rows of one file, with the repairs applied while reading it.
 *
 * @param file where the rows came from (null for generated data)
 * @param kind what kind of file it was
 * @param rows the rows in file order
 * @param repairs what the reader changed, counted
 */
public record DataSet(Path file, DataKind kind, List<Conversation> rows, Repairs repairs) {

    public DataSet {
        rows = List.copyOf(rows);
        Objects.requireNonNull(repairs, "repairs");
    }

    public int size() {
        return rows.size();
    }

    /** Counts for a quick look (and the validate CLI): rows, labels, turns, nulls, repairs. */
    public DataSummary summary() {
        return DataSummary.of(this);
    }

    /** The rows as a Tablesaw table; see {@link #table(String, List)}. */
    public Table table() {
        return table(file == null ? kind.name().toLowerCase(java.util.Locale.ROOT) : file.getFileName().toString(),
                rows);
    }

    /**
     * A Tablesaw table with one row per conversation: {@code id, model_a, model_b, turns, prompt, response_a,
     * response_b, winner, line}. Text columns join the turns with a blank line ({@code null} elements as empty
     * text; the {@link Conversation}s keep the difference); {@code winner} is A, B, TIE or missing.
     */
    public static Table table(String name, List<Conversation> rows) {
        StringColumn id = StringColumn.create("id");
        StringColumn modelA = StringColumn.create("model_a");
        StringColumn modelB = StringColumn.create("model_b");
        IntColumn turns = IntColumn.create("turns");
        StringColumn prompt = StringColumn.create("prompt");
        StringColumn responseA = StringColumn.create("response_a");
        StringColumn responseB = StringColumn.create("response_b");
        StringColumn winner = StringColumn.create("winner");
        LongColumn line = LongColumn.create("line");
        for (Conversation c : rows) {
            id.append(c.id());
            modelA.append(c.modelA());
            modelB.append(c.modelB());
            turns.append(c.turns().size());
            prompt.append(join(c.turns(), Turn::prompt));
            responseA.append(join(c.turns(), Turn::responseA));
            responseB.append(join(c.turns(), Turn::responseB));
            winner.append(c.winner() == null ? null : c.winner().name());
            line.append(c.line());
        }
        return Table.create(name, id, modelA, modelB, turns, prompt, responseA, responseB, winner, line);
    }

    private static String join(List<Turn> turns, java.util.function.Function<Turn, String> field) {
        StringBuilder sb = new StringBuilder();
        for (Turn t : turns) {
            if (sb.length() > 0) {
                sb.append("\n\n");
            }
            String s = field.apply(t);
            sb.append(s == null ? "" : s);
        }
        return sb.toString();
    }
}
