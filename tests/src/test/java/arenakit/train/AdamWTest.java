package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import arenakit.util.Engines;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Two AdamW steps against torch.optim.AdamW's update rule, worked out in plain arithmetic. */
class AdamWTest {
    private static final OptimizerConfig CONFIG = new OptimizerConfig(0.1, 0.01, List.of(0.9, 0.999), 1e-8, 0);

    private static void backward(NDArray p, float[] grad) {
        try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(p.mul(p.getManager().create(grad, p.getShape())).sum());
        }
    }

    @Test
    void matchesTorchAdamWAndRestoresState() throws Exception {
        try (NDManager m = Engines.newManager()) {
            NDArray p = m.create(new float[] {1, 2}, new Shape(1, 2));
            p.setRequiresGradient(true);
            try (AdamW opt = new AdamW(Map.of("w", p), CONFIG)) {
                backward(p, new float[] {0.5f, -1f});
                assertEquals(Math.sqrt(1.25), opt.step(0.1), 1e-6);
                assertArrayEquals(new float[] {0.899f, 2.098f}, p.toFloatArray(), 1e-6f);
                // gradients were zeroed by the step, so the next backward starts from zero
                ByteArrayOutputStream saved = new ByteArrayOutputStream();
                opt.save(saved);
                backward(p, new float[] {1f, 1f});
                opt.step(0.1);
                assertArrayEquals(new float[] {0.8015828f, 2.0906388f}, p.toFloatArray(), 1e-5f); // float32 rounding

                // the saved state (after step 1) replays step 2 exactly
                NDArray q = m.create(new float[] {0.899f, 2.098f}, new Shape(1, 2));
                q.setRequiresGradient(true);
                try (AdamW restored = new AdamW(Map.of("w", q), CONFIG)) {
                    restored.load(new ByteArrayInputStream(saved.toByteArray()));
                    assertEquals(1, restored.steps());
                    backward(q, new float[] {1f, 1f});
                    restored.step(0.1);
                    assertArrayEquals(p.toFloatArray(), q.toFloatArray(), 1e-6f);
                }
            }
        }
    }

    /**
     * Gradients of a loss scaled by 1024 give the unscaled step; an overflow skips the step without touching weights,
     * moments or step count; without scaling a non-finite norm stays an error.
     */
    @Test
    void scaledStepUnscalesAndSkipsOverflows() {
        try (NDManager m = Engines.newManager()) {
            NDArray p = m.create(new float[] {1, 2}, new Shape(1, 2));
            p.setRequiresGradient(true);
            try (AdamW opt = new AdamW(Map.of("w", p), CONFIG)) {
                backward(p, new float[] {0.5f * 1024, -1f * 1024});
                assertEquals(Math.sqrt(1.25), opt.scaledStep(0.1, 1024), 1e-6);
                assertArrayEquals(new float[] {0.899f, 2.098f}, p.toFloatArray(), 1e-6f);

                float[] afterStep1 = p.toFloatArray();
                backward(p, new float[] {Float.POSITIVE_INFINITY, 1f});
                assertTrue(Double.isInfinite(opt.scaledStep(0.1, 1024)));
                assertArrayEquals(afterStep1, p.toFloatArray(), 0f);
                assertEquals(1, opt.steps());
                assertArrayEquals(new float[] {0, 0}, p.getGradient().toFloatArray(), 0f);

                // the moments are those of step 1: step 2 lands where matchesTorchAdamWAndRestoresState's does
                backward(p, new float[] {1024f, 1024f});
                opt.scaledStep(0.1, 1024);
                assertArrayEquals(new float[] {0.8015828f, 2.0906388f}, p.toFloatArray(), 1e-5f);

                backward(p, new float[] {Float.NaN, 1f});
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(0.1));
                assertTrue(e.getMessage().contains("gradient norm is NaN at optimizer step 3 (non-finite in [w])"),
                        e.getMessage());
            }
        }
    }

    @Test
    void clipsTheGlobalNorm() {
        try (NDManager m = Engines.newManager()) {
            NDArray p = m.create(new float[] {0, 0}, new Shape(2));
            p.setRequiresGradient(true);
            // beta1 = beta2 = 0 and eps = 1: the update is g / (|g| + 1) elementwise, which tells the clipped
            // gradient (3, 4) / 5 -> (0.6/1.6, 0.8/1.8) from the raw one (3/4, 4/5)
            OptimizerConfig clip = new OptimizerConfig(1, 0, List.of(0.0, 0.0), 1.0, 1.0);
            try (AdamW opt = new AdamW(Map.of("b", p), clip)) {
                backward(p, new float[] {3f, 4f});
                assertEquals(5, opt.step(1), 1e-5); // the norm before clipping
                assertArrayEquals(new float[] {-0.375f, -0.8f / 1.8f}, p.toFloatArray(), 1e-5f);
            }
        }
    }
}
