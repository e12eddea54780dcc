package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import arenakit.model.family.Families;
import arenakit.model.quant.Quantization;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Memory plans of the presets: parameter counts as the models' published totals say, split over two devices. */
class MemoryPlanTest {

    private static MemoryPlan plan(String preset) {
        var config = Families.preset(preset);
        return new MemoryPlan(config, DataType.FLOAT16, Placement.split(Device.gpu(0), Device.gpu(1))
                .stages(config.numHiddenLayers()), 8192, 2048, 64);
    }

    @Test
    void parameterCountsAreThePublishedOnesWithoutTheLmHeadPlusAThreeClassScore() {
        // published totals (with lm_head) minus vocab x hidden, plus 3 x hidden for the score head
        assertEquals(8_030_261_248L - 128_256L * 4096 + 3 * 4096, plan("llama-3-8b").totalParams());
        assertEquals(plan("llama-3-8b").totalParams(), plan("llama-3.1-8b").totalParams());
        assertEquals(7_615_616_512L - 152_064L * 3584 + 3 * 3584, plan("qwen2.5-7b").totalParams());
        assertEquals(14_770_033_664L - 152_064L * 5120 + 3 * 5120, plan("qwen2.5-14b").totalParams());
        assertEquals(9_241_716_736L, plan("gemma-2-9b").totalParams());
    }

    /**
     * What a Kaggle T4 leaves to the model: 14.74 GiB visible to PyTorch (16 GB nominal, less ECC), less ~0.5 GiB
     * of CUDA context and cuBLAS workspace, rounded down.
     */
    private static final long T4_USABLE = 14L << 30;

    private static long peak(MemoryPlan p, int stage) {
        return p.weightBytes(stage) + p.inferenceActivationBytes() + p.dequantizationBytes();
    }

    @Test
    void int8PutsGemma2_9bOnOneT4AndQwen25_14bOnTwo() {
        var gemma = Families.preset("gemma-2-9b");
        var one = Placement.single(Device.gpu(0)).stages(gemma.numHiddenLayers());
        MemoryPlan fp16 = new MemoryPlan(gemma, DataType.FLOAT16, one, 16384, 3072, 0);
        MemoryPlan int8 = new MemoryPlan(gemma, DataType.FLOAT16, one, 16384, 3072, 0, Quantization.INT8);
        assertTrue(peak(fp16, 0) > T4_USABLE, "fp16 gemma-2-9b does not fit one T4: " + fp16);
        assertTrue(peak(int8, 0) < T4_USABLE, "int8 gemma-2-9b fits one T4 (data parallel): " + int8);
        // projections at 1 byte + a 2-byte scale per row, the 0.92e9-parameter embedding still 2 bytes
        double ratio = int8.totalWeightBytes() / (double) fp16.totalWeightBytes();
        assertTrue(ratio > 0.54 && ratio < 0.56, "int8 / fp16 weights " + ratio);
        assertEquals(14336L * 3584 * 2, int8.dequantizationBytes(), "one gate/up projection in fp16");
        assertEquals(0, fp16.dequantizationBytes());
        assertTrue(int8.toString().contains("float16 with int8 projections"), int8.toString());
        assertTrue(int8.toString().contains("int8: the 294 layer projections"), int8.toString());

        var qwen = Families.preset("qwen2.5-14b");
        var two = Placement.split(Device.gpu(0), Device.gpu(1)).stages(qwen.numHiddenLayers());
        MemoryPlan q16 = new MemoryPlan(qwen, DataType.FLOAT16, two, 8192, 3072, 0);
        MemoryPlan q8 = new MemoryPlan(qwen, DataType.FLOAT16, two, 8192, 3072, 0, Quantization.INT8);
        assertTrue(peak(q16, 0) > T4_USABLE, "fp16 qwen2.5-14b does not fit 2x T4: " + q16);
        for (int stage = 0; stage < 2; stage++) {
            assertTrue(peak(q8, stage) < T4_USABLE, "int8 qwen2.5-14b fits 2x T4 pipelined: " + q8);
        }
    }

    @Test
    void everyPresetPrintsItsFamilyAndStages() {
        for (String name : List.of("gemma-2-9b", "gemma-2-2b", "llama-3-8b", "llama-3.1-8b", "qwen2.5-7b",
                "qwen2.5-14b", "Qwen2.5-7B-Instruct", "Meta-Llama-3-8B-Instruct")) {
            MemoryPlan p = plan(name);
            String text = p.toString();
            assertTrue(text.contains(p.config().familyName() + " " + p.config().numHiddenLayers() + " layers"), text);
            assertEquals(p.totalWeightBytes(), p.weightBytes(0) + p.weightBytes(1));
            assertTrue(p.weightBytes(0) > p.weightBytes(1), "the embedding sits with the first stage: " + text);
        }
        assertEquals(List.of("gemma-2-9b", "gemma-2-2b", "llama-3-8b", "llama-3.1-8b", "qwen2.5-7b", "qwen2.5-14b"),
                Families.presets());
    }
}
