package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Device names as configs and command lines spell them, and layer stages over devices. */
class PlacementTest {
    @Test
    void devicesInEverySpellingTheConfigsUse() {
        assertEquals(Device.cpu(), Placement.device("cpu"));
        assertEquals(Device.cpu(), Placement.device("cpu()"));
        assertEquals(Device.gpu(0), Placement.device("gpu"));
        assertEquals(Device.gpu(0), Placement.device(" GPU0 "));
        assertEquals(Device.gpu(1), Placement.device("gpu(1)"));
        for (String bad : List.of("gpu(O)", "cpu0", "tpu", "gpu(1", "")) {
            var e = assertThrows(IllegalArgumentException.class, () -> Placement.device(bad), bad);
            assertEquals("unknown device '" + bad + "' (cpu, gpu0 or gpu(0), gpu1, ...)", e.getMessage());
        }
    }

    @Test
    void stagesSplitEvenlyOrAtTheGivenLayer() {
        assertEquals(List.of(new Placement.Stage(Device.gpu(0), 0, 21), new Placement.Stage(Device.gpu(1), 21, 42)),
                Placement.parse("gpu0,gpu(1)").stages(42));
        assertEquals(List.of(new Placement.Stage(Device.gpu(0), 0, 10), new Placement.Stage(Device.gpu(1), 10, 42)),
                Placement.parse("gpu0:10,gpu1").stages(42));
        assertThrows(IllegalArgumentException.class, () -> Placement.parse("gpu0:50,gpu1").stages(42));
    }
}
