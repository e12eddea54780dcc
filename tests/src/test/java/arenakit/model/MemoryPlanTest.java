package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import arenakit.model.family.Families;
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
