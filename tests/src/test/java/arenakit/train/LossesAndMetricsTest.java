package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import arenakit.model.BackwardAfterGcTest;
import arenakit.util.Engines;
import org.junit.jupiter.api.Test;

/** Loss and metric values against numbers worked out by hand (see the comments). */
class LossesAndMetricsTest {
    // softmax(ln 1, ln 2, ln 3) = (1/6, 2/6, 3/6)
    private static final float[] LOGITS = {0f, (float) Math.log(2), (float) Math.log(3)};

    @Test
    void crossEntropyOnHardAndSoftTargets() {
        try (NDManager m = Engines.newManager()) {
            NDArray logits = m.create(new float[][] {LOGITS, LOGITS});
            NDArray targets = m.create(new float[][] {{0, 0, 1}, {0.5f, 0.5f, 0}});
            // -ln(1/2) and -(ln(1/6) + ln(1/3)) / 2
            assertArrayEquals(new float[] {0.6931472f, 1.4451859f},
                    Losses.crossEntropy(logits, targets).toFloatArray(), 1e-5f);
        }
    }

    @Test
    void distillationIsTemperatureScaledKl() {
        try (NDManager m = Engines.newManager()) {
            NDArray student = m.create(LOGITS, new Shape(1, 3));
            NDArray uniformTeacher = m.zeros(new Shape(1, 3));
            // T = 1: KL(u || (1/6, 1/3, 1/2)) = ln(4/3) / 3
            assertEquals(0.0958940, Losses.distillation(student, uniformTeacher, 1).getFloat(0), 1e-6);
            // T = 2: student softmax ~ (1, sqrt 2, sqrt 3); times T^2 = 4
            assertEquals(0.0998756, Losses.distillation(student, uniformTeacher, 2).getFloat(0), 1e-6);
            // identical teacher and student: zero at any temperature
            assertEquals(0, Losses.distillation(student, student, 5).getFloat(0), 1e-6);

            NDArray target = m.create(new float[] {0, 0, 1}, new Shape(1, 3));
            DistillConfig d = new DistillConfig(2, 0.9);
            // 0.9 * 0.0998756 + 0.1 * ln 2
            assertEquals(0.1592028, Losses.objective(student, target, uniformTeacher, d).getFloat(0), 1e-6);
            assertEquals(0.6931472, Losses.objective(student, target, null, d).getFloat(0), 1e-6);
        }
    }

    /**
     * The distillation objective's gradient, and the step-mean scaling the trainer applies, must not depend on what
     * happens between forward and backward: the scalars they multiply or divide by are kept by autograd, so they
     * must not live in Java direct buffers that the garbage collector frees (see BackwardAfterGcTest).
     */
    @Test
    void lossGradientsSurviveCollectionBetweenForwardAndBackward() {
        float[] reference = null;
        for (boolean churn : new boolean[] {false, true, true}) {
            try (NDManager m = Engines.newManager()) {
                NDArray logits = m.create(new float[][] {LOGITS, {1f, -1f, 0.5f}});
                logits.setRequiresGradient(true);
                NDArray target = m.create(new float[][] {{0.2f, 0.7f, 0.1f}, {0.6f, 0.1f, 0.3f}});
                NDArray teacher = m.create(new float[][] {{0f, 1f, -1f}, {2f, 0f, 1f}});
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = Trainer.stepMean(Losses.objective(logits, target, teacher,
                            new DistillConfig(5, 0.9)).sum(), 4);
                    if (churn) {
                        BackwardAfterGcTest.churnDirectMemory();
                    }
                    gc.backward(loss);
                }
                float[] grad = logits.getGradient().toFloatArray();
                if (reference == null) {
                    reference = grad;
                } else {
                    assertArrayEquals(reference, grad, 1e-6f);
                }
            }
        }
    }

    @Test
    void logLossMatchesKaggle() {
        double[][] p = {{0.5, 0.3, 0.2}, {0.1, 0.6, 0.3}};
        assertEquals((Math.log(2) - Math.log(0.6)) / 2, Metrics.logLoss(p, new int[] {0, 1}), 1e-12);
        // rows are renormalised first: (1, 1, 2) -> tie has 1/2
        assertEquals(Math.log(2), Metrics.logLoss(new double[][] {{1, 1, 2}}, new int[] {2}), 1e-12);
        // a zero probability on the truth is clipped to 1e-15, not infinite
        assertEquals(-Math.log(1e-15), Metrics.logLoss(new double[][] {{0, 1, 0}}, new int[] {0}), 1e-9);
        assertEquals(0.5, Metrics.accuracy(p, new int[] {0, 2}), 1e-12);
    }

    @Test
    void classPriorBaseline() {
        int[] labels = {0, 0, 1, 2};
        double[] prior = Metrics.prior(labels, 3);
        assertArrayEquals(new double[] {0.5, 0.25, 0.25}, prior, 1e-12);
        // -(2 ln .5 + 2 ln .25) / 4
        assertEquals(-(2 * Math.log(0.5) + 2 * Math.log(0.25)) / 4, Metrics.priorLogLoss(prior, labels), 1e-12);
        // uniform on three classes: ln 3 = 1.0986
        assertEquals(Math.log(3), Metrics.priorLogLoss(new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}, labels), 1e-12);
    }

    @Test
    void warmupThenLinearDecay() {
        LrSchedule s = new LrSchedule(1e-3, 10, new ScheduleConfig(0.2, 0.0));
        assertEquals(2, s.warmupSteps());
        double[] expected = {0.5e-3, 1e-3, 1e-3, 0.875e-3, 0.75e-3, 0.625e-3, 0.5e-3, 0.375e-3, 0.25e-3, 0.125e-3};
        for (int i = 0; i < 10; i++) {
            assertEquals(expected[i], s.lr(i), 1e-15, "step " + i);
        }
        LrSchedule floor = new LrSchedule(1e-3, 4, new ScheduleConfig(0, 0.5));
        // no warm-up; decays from 1e-3 towards 0.5e-3: remaining fractions 4/4, 3/4, 2/4, 1/4
        assertArrayEquals(new double[] {1e-3, 0.875e-3, 0.75e-3, 0.625e-3},
                new double[] {floor.lr(0), floor.lr(1), floor.lr(2), floor.lr(3)}, 1e-15);
    }
}
