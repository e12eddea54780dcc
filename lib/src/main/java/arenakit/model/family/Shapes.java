package arenakit.model.family;

import java.util.Map;

/** Helpers for the families' tensor-shape tables. */
final class Shapes {
    private Shapes() {}

    /** {@code <module>.weight [out, in]} and, with a bias, {@code <module>.bias [out]}. */
    static void linear(Map<String, long[]> m, String module, long out, long in, boolean bias) {
        m.put(module + ".weight", new long[] {out, in});
        if (bias) {
            m.put(module + ".bias", new long[] {out});
        }
    }
}
