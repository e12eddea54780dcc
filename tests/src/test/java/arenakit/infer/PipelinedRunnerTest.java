package arenakit.infer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import arenakit.util.Engines;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The two-thread schedule's failure path: nothing the front half made is left open. */
class PipelinedRunnerTest {
    @Test
    void aFailingBackHalfLeavesNoHiddenStatesOpen() {
        Engines.pytorch(); // the runner's threads switch grad mode, which needs the engine's native library
        List<NDManager> scopes = Collections.synchronizedList(new ArrayList<>());
        PipelinedRunner runner = new PipelinedRunner((scope, batch, input) -> {
            scopes.add(scope);
            return new NDList(scope.zeros(new Shape(batch.size(), 4)));
        }, (scope, batch, input) -> {
            throw new IllegalStateException("back half failed");
        }, "test");
        List<List<int[]>> batches = new ArrayList<>();
        for (int b = 0; b < 12; b++) {
            batches.add(List.of(new int[] {1, 2, 3}));
        }
        var e = assertThrows(IllegalStateException.class, () -> runner.run(batches, (b, tokens) -> { }));
        assertTrue(e.getMessage().contains("back half failed"), e.getMessage());
        assertTrue(!scopes.isEmpty());
        synchronized (scopes) {
            for (NDManager m : scopes) {
                assertTrue(!m.isOpen(), "a front-half scope was left open");
            }
        }
    }
}
