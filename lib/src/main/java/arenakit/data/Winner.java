package arenakit.data;

/** The human verdict. The ordinal is the class index everywhere (labels, logits, submission columns). */
public enum Winner {
    A("winner_model_a"),
    B("winner_model_b"),
    TIE("winner_tie");

    private final String column;

    Winner(String column) {
        this.column = column;
    }

    /** The Kaggle column name for this class. */
    public String column() {
        return column;
    }

    /** The verdict after swapping the two responses. */
    public Winner swapped() {
        return switch (this) {
            case A -> B;
            case B -> A;
            case TIE -> TIE;
        };
    }

    public static Winner ofIndex(int index) {
        return values()[index];
    }
}
