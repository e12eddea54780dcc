package arenakit.util;

import java.util.Locale;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.columns.numbers.NumberColumnFormatter;

/**
 * How numbers print in the project's tables (terminal, notebook, HTML): learning rates in scientific notation
 * ({@code 4.17e-05}, not {@code 0.000041666666666666665}), probabilities and losses to a fixed number of decimals
 * (every row of a column alike), missing values as blanks. Independent of the machine's locale.
 */
public final class Formats {
    private Formats() {}

    /** {@code 4.17e-05} with {@code digits} decimals. */
    public static NumberColumnFormatter scientific(int digits) {
        return new Fixed("%." + digits + "e");
    }

    /** {@code 0.3333} with {@code decimals} decimals and thousands separators ({@code 1,234.5}). */
    public static NumberColumnFormatter fixed(int decimals) {
        return new Fixed("%,." + decimals + "f");
    }

    /** The column, printed with {@code formatter} (for chaining). */
    public static DoubleColumn as(DoubleColumn column, NumberColumnFormatter formatter) {
        column.setPrintFormatter(formatter);
        return column;
    }

    private static final class Fixed extends NumberColumnFormatter {
        private final String pattern;

        Fixed(String pattern) {
            this.pattern = pattern;
        }

        @Override
        public String format(double value) {
            return Double.isNaN(value) ? "" : String.format(Locale.ROOT, pattern, value);
        }

        @Override
        public String format(float value) {
            return format((double) value);
        }

        @Override
        public String toString() {
            return "Formats " + pattern;
        }
    }
}
