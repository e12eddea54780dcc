package arenakit.model.quant;

import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * How a decoder's projections are stored: as loaded ({@link #NONE}) or as int8 with per-row scales
 * ({@link #INT8}, {@link Int8Weight}). Only the 2-D weights of the decoder layers (q, k, v, o, gate, up, down) are
 * quantized; the embedding, the norms, the biases and the head stay in the compute type.
 */
public enum Quantization {
    NONE, INT8;

    /** The config and command-line spelling: {@code none} or {@code int8}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code "int8"} / {@code "none"} (any case), null = {@link #NONE}; anything else is an error naming where. */
    public static Quantization parse(String name, String where) {
        if (name == null) {
            return NONE;
        }
        for (Quantization q : values()) {
            if (q.configName().equals(name.toLowerCase(Locale.ROOT))) {
                return q;
            }
        }
        throw new IllegalArgumentException(where + " must be none or int8, got '" + name + "'");
    }

    /** A config value checked and in lower case ({@code null} stays null: the field's default). */
    public static String check(String name, String where) {
        return name == null ? null : parse(name, where).configName();
    }

    /** Whether a checkpoint tensor is stored this way: the 2-D tensors of {@code model.layers.*} (the projections). */
    public boolean quantizes(String name, long[] shape) {
        return this != NONE && shape.length == 2 && name.startsWith("model.layers.");
    }

    /** Device bytes of a {@code [rows, cols]} projection weight stored this way, computing in {@code dtype}. */
    public long weightBytes(long rows, long cols, DataType dtype) {
        return this == NONE ? rows * cols * dtype.getNumOfBytes() : rows * cols + rows * dtype.getNumOfBytes();
    }
}
