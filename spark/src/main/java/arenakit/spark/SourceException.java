package arenakit.spark;

import arenakit.data.DataException;

/**
 * A data-layer problem reported with the row's real place: a Hadoop path (hdfs://, s3a://, ...) where the data
 * layer, which names files by local {@code Path}, saw a stand-in name, or a Parquet row. The problem text is the
 * data layer's own.
 */
final class SourceException extends DataException {
    private static final long serialVersionUID = 1L;
    private final String message;

    /** {@code e}'s message with its location prefix {@code shown} (the name the data layer was given) replaced. */
    SourceException(DataException e, String shown, String place) {
        super(null, e.line(), e.id(), e.column(), e.problem(), e);
        String m = e.getMessage();
        this.message = m.startsWith(shown) ? place + m.substring(shown.length()) : place + ": " + m;
    }

    /** A problem found by the job itself (an id in two files), with the data layer's message shape. */
    SourceException(String place, String id, String column, String problem) {
        super(null, 0, id, column, problem);
        this.message = place + (id == null ? "" : " (id " + id + ")") + (column == null ? "" : " column " + column)
                + ": " + problem;
    }

    @Override
    public String getMessage() {
        return message;
    }
}
