package arenakit.data;

import java.nio.file.Path;

/**
 * Bad input data, with where it was found: file, 1-based line where the CSV record starts, row id and column.
 * Any of the location parts may be absent (a missing column has no row; an empty file has no line).
 *
 * <p>The message reads like {@code train.csv line 17 (id 30192) column response_a: malformed JSON ...} so that a
 * user can open the file at the right place without a debugger.
 */
public class DataException extends RuntimeException implements arenakit.util.Errors.Explained {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long line;
    private final String id;
    private final String column;
    private final String problem;

    public DataException(Path file, long line, String id, String column, String problem) {
        this(file, line, id, column, problem, null);
    }

    public DataException(Path file, long line, String id, String column, String problem, Throwable cause) {
        super(where(file, line, id, column) + ": " + problem, cause);
        this.file = file;
        this.line = line;
        this.id = id;
        this.column = column;
        this.problem = problem;
    }

    /** A problem with the file as a whole (empty file, wrong header). */
    public static DataException ofFile(Path file, String problem) {
        return new DataException(file, 0, null, null, problem);
    }

    /** The file, or null when the data did not come from a file. */
    public Path file() {
        return file;
    }

    /** 1-based line where the offending record starts, or 0 when the problem is not about one line. */
    public long line() {
        return line;
    }

    /** The row id, or null. */
    public String id() {
        return id;
    }

    /** The column name, or null. */
    public String column() {
        return column;
    }

    /** The problem without the location prefix. */
    public String problem() {
        return problem;
    }

    /** "file line N (id X) column C" with absent parts left out. */
    static String where(Path file, long line, String id, String column) {
        StringBuilder sb = new StringBuilder(file == null ? "<data>" : file.toString());
        if (line > 0) {
            sb.append(" line ").append(line);
        }
        if (id != null) {
            sb.append(" (id ").append(id).append(')');
        }
        if (column != null) {
            sb.append(" column ").append(column);
        }
        return sb.toString();
    }
}
