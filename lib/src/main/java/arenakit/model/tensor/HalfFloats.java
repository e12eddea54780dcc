package arenakit.model.tensor;

/**
 * Bit-exact conversions between float32 and the two 16-bit float formats of Hugging Face checkpoints.
 *
 * <p>Done in Java because DJL must never see BFLOAT16 (its native dtype table stops before it and the JVM aborts),
 * and Java 17 has no {@code Float.floatToFloat16}. Rounding is round-to-nearest-even, like PyTorch's casts.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** bfloat16 bits to float32 (exact: bf16 is the top half of a float32). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float32 to bfloat16 bits, round-to-nearest-even; NaN stays NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** IEEE half-precision bits to float32 (exact). */
    public static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            float sub = mant * 0x1p-24f;
            return sign == 0 ? sub : -sub;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** float32 to IEEE half-precision bits, round-to-nearest-even; beyond ±65504 becomes ±infinity. */
    public static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            return (short) (sign | (abs > 0x7f800000 ? 0x7e00 : 0x7c00));
        }
        if (abs >= 0x477ff000) { // rounds past the largest half (65504)
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x38800000) { // below the smallest normal half: subnormal or zero
            if (abs < 0x33000000) {
                return (short) sign;
            }
            int exp = abs >>> 23;
            int mant = (abs & 0x7fffff) | 0x800000;
            int shift = 126 - exp;
            int half = mant >>> shift;
            int rest = mant & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int exp = (abs >>> 23) - 127 + 15;
        int mant = abs & 0x7fffff;
        int half = (exp << 10) | (mant >>> 13);
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++;
        }
        return (short) (sign | half);
    }
}
