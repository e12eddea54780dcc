package arenakit.data;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates the records of one source one at a time, with the rules of {@link KaggleCsv} (train, test, external)
 * and {@link PreferencePairs}: JSON turn cells, turn counts, labels, blank values, duplicate ids within the source.
 * The CSV readers run every record through it; so can a reader of another row store (Parquet, through Spark), so
 * that a bad row gets the same message whatever the file format.
 */
public final class RowReader {
    private static final String[] TURN_COLUMNS = {"prompt", "response_a", "response_b"};
    private static final String[] PREFERENCE_COLUMNS = {"prompt", "chosen", "rejected"};
    private final Path file;
    private final DataKind kind;
    private final Repairs repairs;
    private final Map<String, Long> firstLine = new HashMap<>();

    private RowReader(Path file, DataKind kind, Repairs repairs) {
        if (kind == DataKind.SUBMISSION) {
            throw DataException.ofFile(file, "this is a submission-shaped file; read it with Submission.read");
        }
        this.file = file;
        this.kind = kind;
        this.repairs = repairs;
    }

    /** A reader for rows of {@code kind} whose values come in {@link DataKind#columns()} order. */
    public static RowReader of(Path file, DataKind kind) {
        return new RowReader(file, kind, new Repairs());
    }

    static RowReader of(Path file, DataKind kind, Repairs repairs) {
        return new RowReader(file, kind, repairs);
    }

    /**
     * A reader for a source with these column names (any order): the kind is guessed from them
     * ({@link DataKind#guess}) and they must be exactly that kind's columns, else a {@link DataException} names the
     * missing, unexpected or repeated ones. Values still go to {@link #read} in {@link DataKind#columns()} order.
     */
    public static RowReader forHeader(Path file, List<String> header) {
        DataKind kind = DataKind.guess(header);
        RowReader reader = new RowReader(file, kind, new Repairs());
        CsvRecords.checkHeader(file, header, kind.columns());
        return reader;
    }

    public DataKind kind() {
        return kind;
    }

    /** The repairs applied so far (lone surrogates replaced; a CSV reader adds BOM and CRLF repairs). */
    public Repairs repairs() {
        return repairs;
    }

    /**
     * One validated row. {@code values} are the record's cells in {@link DataKind#columns()} order; {@code line} is
     * where it starts in the source (1-based; 0 when the source has no lines), for messages.
     *
     * @throws DataException naming file, line, id and column of the first problem
     */
    public Conversation read(long line, String... values) {
        if (values.length != kind.columns().size()) {
            throw new IllegalArgumentException(kind + " rows have " + kind.columns().size() + " values, got "
                    + values.length);
        }
        KaggleCsv.Cells cells = new KaggleCsv.Cells(file, line, values[0], repairs);
        String id = cells.id(firstLine);
        if (kind == DataKind.TRAIN) {
            List<Turn> turns = cells.turns(TURN_COLUMNS, values[3], values[4], values[5]);
            return new Conversation(id, cells.nonBlank("model_a", values[1]), cells.nonBlank("model_b", values[2]),
                    turns, cells.winner(values[6], values[7], values[8]), line);
        }
        String[] columns = kind == DataKind.PREFERENCE ? PREFERENCE_COLUMNS : TURN_COLUMNS;
        return new Conversation(id, null, null, cells.turns(columns, values[1], values[2], values[3]), null, line);
    }
}
