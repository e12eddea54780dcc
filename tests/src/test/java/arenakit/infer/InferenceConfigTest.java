package arenakit.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Overriding the devices of a configured inference (submit.java --devices / --mode). */
class InferenceConfigTest {
    private static InferenceConfig on(String mode, String... devices) {
        return new InferenceConfig(true, List.of(devices), mode, null, 4096, null, 8);
    }

    @Test
    void withoutAModeTheModeFollowsTheDeviceCount() {
        assertEquals(InferenceConfig.SINGLE, on("pipeline", "gpu(0)", "gpu(1)").withDevices(List.of("cpu"), null).mode());
        assertEquals(InferenceConfig.PIPELINE, on("single", "cpu").withDevices(List.of("cpu", "cpu"), null).mode());
        assertEquals(InferenceConfig.DATA_PARALLEL,
                on("data_parallel", "cpu", "cpu").withDevices(List.of("gpu0", "gpu1"), null).mode());
        assertEquals(InferenceConfig.DATA_PARALLEL,
                on("single", "cpu").withDevices(List.of("cpu", "cpu"), "data_parallel").mode());
    }
}
