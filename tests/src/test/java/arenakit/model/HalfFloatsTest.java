package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.tensor.HalfFloats;
import arenakit.util.Engines;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    @Test
    void everyHalfSurvivesARoundTripThroughFloat() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float f = HalfFloats.halfToFloat((short) bits);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals((short) bits, HalfFloats.floatToHalf(f), "half 0x" + Integer.toHexString(bits));
        }
    }

    @Test
    void floatToHalfRoundsLikePyTorch() {
        Random random = new Random(7);
        float[] values = new float[20000];
        for (int i = 0; i < values.length; i++) {
            // normals, subnormals, overflow and exact ties between neighbouring halves
            values[i] = switch (i % 4) {
                case 0 -> (float) (random.nextGaussian() * 10);
                case 1 -> (float) (random.nextGaussian() * 1e-5);
                case 2 -> (float) (random.nextGaussian() * 70000);
                default -> {
                    short h = (short) random.nextInt(0x7bff);
                    yield (HalfFloats.halfToFloat(h) + HalfFloats.halfToFloat((short) (h + 1))) / 2;
                }
            };
        }
        try (NDManager m = Engines.newManager()) {
            NDArray half = m.create(values).toType(DataType.FLOAT16, false);
            ByteBuffer bytes = half.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < values.length; i++) {
                assertEquals(bytes.getShort(2 * i), HalfFloats.floatToHalf(values[i]), "value " + values[i]);
            }
        }
    }

    @Test
    void bfloat16IsTheRoundedTopHalfOfAFloat() {
        assertEquals(1.0f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1.0f)));
        // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: round to even (1.0)
        assertEquals(1.0f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1.0f + 0x1p-8f)));
        assertEquals(1.0f + 0x1p-7f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1.0f + 0x1p-8f + 0x1p-20f)));
        assertEquals(-3.140625f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(-3.14159f)));
        assertEquals(Float.NaN, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN)));
    }
}
