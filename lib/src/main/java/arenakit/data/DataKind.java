package arenakit.data;

import java.util.List;

/** The CSV files the pipeline reads, each with its exact Kaggle column set. */
public enum DataKind {
    /** Kaggle train.csv, and the lmsys-33k external file (same columns). */
    TRAIN(List.of("id", "model_a", "model_b", "prompt", "response_a", "response_b",
            "winner_model_a", "winner_model_b", "winner_tie")),
    /** Kaggle test.csv. */
    TEST(List.of("id", "prompt", "response_a", "response_b")),
    /** Kaggle sample_submission.csv, and every submission. */
    SUBMISSION(List.of("id", "winner_model_a", "winner_model_b", "winner_tie")),
    /** A pairwise preference set (no ties) for pseudo-labeling; cells are JSON arrays like the Kaggle files. */
    PREFERENCE(List.of("id", "prompt", "chosen", "rejected"));

    private final List<String> columns;

    DataKind(List<String> columns) {
        this.columns = columns;
    }

    /** The columns in the order the writers use. */
    public List<String> columns() {
        return columns;
    }

    /**
     * Checks that {@code file}'s header has exactly this kind's columns (any order), reading only the header line:
     * a {@link DataException} naming the missing, unexpected or repeated columns otherwise.
     */
    public void checkHeader(java.nio.file.Path file) {
        CsvRecords.checkHeader(file, CsvRecords.header(file), columns);
    }

    /** The kind a file most likely is, from its header line ({@link #guess(List)}). */
    public static DataKind guessFrom(java.nio.file.Path file) {
        return guess(CsvRecords.header(file));
    }

    /** The column names of a CSV file's first line (bad bytes or quoting are a {@link DataException}). */
    public static List<String> headerOf(java.nio.file.Path file) {
        return CsvRecords.header(file);
    }

    /**
     * The kind a header most likely belongs to (the reader then reports any column mismatch precisely):
     * {@code chosen} means a preference file, {@code prompt} plus a label column train, {@code prompt} alone test,
     * label columns alone a submission.
     */
    public static DataKind guess(List<String> header) {
        if (header.contains("chosen") || header.contains("rejected")) {
            return PREFERENCE;
        }
        boolean labels = header.stream().anyMatch(h -> h.startsWith("winner_"));
        boolean text = header.contains("prompt") || header.contains("response_a");
        if (text) {
            return labels || header.contains("model_a") ? TRAIN : TEST;
        }
        return SUBMISSION;
    }
}
