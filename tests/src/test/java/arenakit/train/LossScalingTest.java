package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import arenakit.data.Conversation;
import arenakit.model.DecoderClassifier;
import arenakit.model.SequenceClassifier;
import arenakit.util.Json;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic loss scaling on a tiny real Gemma-2 with LoRA: exact in float32, overflow skips and growth, float16 on the
 * CPU, and checkpoint/resume of the scale.
 */
class LossScalingTest {
    @TempDir
    static Path dir;
    private static TinySetup setup;

    @BeforeAll
    static void setUp() throws Exception {
        setup = new TinySetup(dir, 32);
    }

    @AfterAll
    static void tearDown() {
        setup.close();
    }

    /** {@code batch} rows a step, random swap when {@code batch} is 4 (the resume tests), none otherwise. */
    private static TrainConfig config(int batch, int maxSteps, String lossScale, double init, int growthInterval) {
        return new TrainConfig(TrainConfig.KIND, "test", new TrainConfig.Model("linear",
                new TrainConfig.Lora(4, 8, 0.1, List.of("q_proj", "v_proj"), false), null, "auto"),
                new TrainConfig.Data(List.of("train"), new TrainConfig.Text("rounds", "proportional", 96), null,
                        batch == 4 ? "random" : "none", true),
                new OptimizerConfig(5e-3, 0.01, List.of(0.9, 0.999), 1e-8, 1.0).withLossScale(lossScale, init,
                        growthInterval),
                new ScheduleConfig(0.1, 0), new TrainConfig.Loader(batch, 512),
                new TrainConfig.Train(7, 20, maxSteps, 0, 0, false), null);
    }

    private static Trainer trainer(SequenceClassifier model, TrainConfig config, List<String> log) {
        return new Trainer(model, config, setup.encoder::encode, Trainer::balanced,
                (m, d) -> m.saveAdapter(d.resolve("adapter")), log::add);
    }

    /** Multiplying the loss and dividing the gradients by powers of two is exact in float32. */
    @Test
    void float32WithDynamicScalingTrainsTheSameWeightsAsWithout() throws Exception {
        List<Example> rows = setup.examples().subList(0, 16);
        Map<String, float[]> unscaled;
        try (DecoderClassifier model = setup.lora(0.1)) {
            List<String> log = new ArrayList<>();
            Trainer.Result r = trainer(model, config(4, 7, "off", 65536, 2000), log).fit(rows, List.of(),
                    dir.resolve("off"), 0);
            assertNull(r.history().get(0).lossScale());
            assertTrue(log.stream().noneMatch(l -> l.contains("loss scal")), log.toString());
            unscaled = values(model);
        }
        // auto on a float32 model is off
        try (DecoderClassifier model = setup.lora(0.1)) {
            Trainer.Result r = trainer(model, config(4, 7, "auto", 65536, 2000), new ArrayList<>()).fit(rows,
                    List.of(), dir.resolve("auto"), 0);
            assertNull(r.history().get(0).lossScale());
            assertWeights(unscaled, values(model));
        }
        try (DecoderClassifier model = setup.lora(0.1)) {
            List<String> log = new ArrayList<>();
            Trainer.Result r = trainer(model, config(4, 7, "dynamic", 1024, 2), log).fit(rows, List.of(),
                    dir.resolve("dynamic"), 0);
            assertWeights(unscaled, values(model));
            TrainLog end = r.history().get(r.history().size() - 1);
            // 7 finite steps with a growth interval of 2: doubled after steps 2, 4 and 6
            assertEquals(8192.0, end.lossScale());
            assertEquals(0, end.skippedSteps());
            assertTrue(log.get(0).startsWith("dynamic loss scaling (float32 model): scale 1024, x2 after 2 finite"),
                    log.toString());
            assertTrue(log.get(1).endsWith(", loss scale 8192"), log.toString());
        }
    }

    /**
     * Why float16 training needs the scale: unscaled, small gradients underflow in the float16 backward and the
     * model falls behind its float32 twin; scaled, it follows it (and gradients reach the float32 LoRA weights
     * through the float16 layers at all).
     */
    @Test
    void float16WithLossScalingTrainsLikeFloat32() throws Exception {
        List<Example> rows = setup.examples().subList(0, 8);
        List<Conversation> holdout = rows.stream().map(Example::row).toList();
        double[] after = new double[3];
        String[][] runs = {{"float32", "off"}, {"float16", "off"}, {"float16", "auto"}};
        for (int k = 0; k < runs.length; k++) {
            DataType dtype = runs[k][0].equals("float32") ? DataType.FLOAT32 : DataType.FLOAT16;
            try (DecoderClassifier model = setup.lora(0, dtype)) {
                Trainer.Result r = trainer(model, config(8, 20, runs[k][1], 1024, 2000), new ArrayList<>())
                        .fit(rows, holdout, dir.resolve("like-float32-" + k), 0);
                assertEquals(runs[k][1].equals("auto") ? 1024.0 : null, r.history().get(0).lossScale());
                after[k] = r.valLogLoss();
            }
        }
        String losses = "held-out log loss after 20 steps: float32 " + after[0] + ", float16 unscaled " + after[1]
                + ", float16 scaled " + after[2];
        assertEquals(after[0], after[2], 0.005, losses);
        assertTrue(after[1] > after[2] + 0.03, losses);
    }

    /**
     * A float16 model with a start scale far too large: the scaled gradients overflow float16's range (65504) in
     * the backward until the scale is small enough. Those steps are skipped (weights, moments and step count
     * untouched) and the scale halves each time; then the model learns.
     */
    @Test
    void float16OverflowsSkipStepsAndHalveTheScaleThenTrainingLearns() throws Exception {
        List<Example> rows = setup.examples().subList(0, 8);
        List<Conversation> holdout = rows.stream().map(Example::row).toList();
        // every step trains on the same 8 rows, and the first one overflows from 2^16 up already (measured): from 2^24
        // the first four (weights unchanged, scales 2^24 to 2^21) surely do
        TrainConfig config = config(8, 20, "auto", 1 << 24, 2000);
        Path stage = dir.resolve("overflow");
        List<String> log = new ArrayList<>();
        double before;
        try (DecoderClassifier model = setup.lora(0, DataType.FLOAT16)) {
            Map<String, float[]> initial = values(model);
            Trainer t = trainer(model, config, log);
            before = t.evaluate(holdout)[0];
            assertTrue(t.fit(rows, holdout, stage, 4).stopped());
            assertWeights(initial, values(model));
            Path ckpt = new Checkpoints(stage).latest().orElseThrow();
            assertEquals(new LossScaler.State(1 << 20, 0), Checkpoints.state(ckpt).lossScaler());
            assertEquals(4, Checkpoints.state(ckpt).skippedSinceLine());
            try (AdamW saved = new AdamW(model.trainable(), config.optimizer());
                    InputStream in = Files.newInputStream(ckpt.resolve("optimizer.ndlist"))) {
                saved.load(in);
                assertEquals(0, saved.steps(), "skipped steps leave the optimizer's step count alone");
            }
        }
        assertTrue(log.get(0).startsWith("dynamic loss scaling (float16 model): scale 16777216"), log.toString());
        for (int k = 0; k < 4; k++) {
            String expected = "step " + (k + 1) + ": gradient overflow at loss scale " + (1 << (24 - k))
                    + ", step skipped, scale -> " + (1 << (23 - k));
            assertEquals(expected, log.get(k + 1));
        }
        try (DecoderClassifier model = setup.lora(0, DataType.FLOAT16)) {
            Trainer.Result r = trainer(model, config, log).fit(rows, holdout, stage, 0);
            assertEquals(20, r.steps());
            TrainLog end = r.history().get(0);
            assertTrue(end.skippedSteps() >= 4 && end.skippedSteps() < 15, end.toString());
            assertTrue(end.lossScale() < 1 << 20, end.toString());
            assertTrue(r.valLogLoss() < before - 0.2, "loss on the rows trained on: " + before + " -> "
                    + r.valLogLoss());
        }
    }

    /** A resumed run continues with the saved scale and count of finite steps: it equals an uninterrupted run. */
    @Test
    void resumedRunKeepsTheScaleAndEqualsAnUninterruptedRun() throws Exception {
        List<Example> rows = setup.examples().subList(0, 16);
        // float16 from 2^20: overflows first, then growth every 3 finite steps brings more overflows
        TrainConfig config = config(4, 12, "dynamic", 1 << 20, 3);
        Map<String, float[]> straight;
        TrainLog straightEnd;
        try (DecoderClassifier model = setup.lora(0.1, DataType.FLOAT16)) {
            List<String> log = new ArrayList<>();
            Trainer.Result r = trainer(model, config, log).fit(rows, List.of(), dir.resolve("straight"), 0);
            straight = values(model);
            straightEnd = r.history().get(0);
            // overflows at steps 1-7 (2^20 down to 2^14), growth back to 2^14 after step 10, overflow at step 11
            assertEquals(8, straightEnd.skippedSteps(), log.toString());
        }
        Path resumed = dir.resolve("resumed");
        // pauses at step 5 (scale 2^15) and at step 9 (scale 2^13 with 2 finite steps counted: growth comes after
        // the next one only if the count was restored)
        LossScaler.State[] expected = {new LossScaler.State(32768, 0), new LossScaler.State(8192, 2)};
        int[] pauses = {5, 4};
        for (int k = 0; k < pauses.length; k++) {
            try (DecoderClassifier model = setup.lora(0.1, DataType.FLOAT16)) {
                assertTrue(trainer(model, config, new ArrayList<>()).fit(rows, List.of(), resumed, pauses[k])
                        .stopped());
            }
            assertEquals(expected[k], Checkpoints.state(new Checkpoints(resumed).latest().orElseThrow()).lossScaler());
        }
        try (DecoderClassifier model = setup.lora(0.1, DataType.FLOAT16)) {
            Trainer.Result r = trainer(model, config, new ArrayList<>()).fit(rows, List.of(), resumed, 0);
            assertFalse(r.stopped());
            assertWeights(straight, values(model));
            TrainLog end = r.history().get(0);
            assertEquals(straightEnd.step(), end.step());
            assertEquals(straightEnd.lossScale(), end.lossScale());
            assertEquals(straightEnd.skippedSteps(), end.skippedSteps());
            assertEquals(straightEnd.trainLoss(), end.trainLoss(), 1e-9);
            assertEquals(straightEnd.gradNorm(), end.gradNorm(), 1e-9);
        }
    }

    @Test
    void scaleBacksOffOnOverflowAndGrowsAfterTheIntervalAsPyTorchDoes() {
        LossScaler s = new LossScaler(65536, 3);
        s.update(true);
        s.update(true);
        assertEquals(65536, s.scale());
        s.update(true);
        assertEquals(131072, s.scale()); // 3 finite steps in a row
        s.update(true);
        s.update(false);
        assertEquals(65536, s.scale()); // backoff, and the count starts over
        assertEquals(new LossScaler.State(65536, 0), s.state());
        s.update(true);
        s.update(true);
        assertEquals(new LossScaler.State(65536, 2), s.state());
        LossScaler top = new LossScaler(Math.scalb(1.0, 127), 1);
        top.update(true);
        assertEquals(Math.scalb(1.0, 127), top.scale(), "never beyond float32's range");
    }

    @Test
    void autoScalesFloat16ModelsOnly() {
        OptimizerConfig auto = new OptimizerConfig(1e-4, 0, null, 1e-8, 1);
        assertEquals(OptimizerConfig.AUTO, auto.lossScale());
        assertEquals(65536.0, auto.lossScaleInit());
        assertEquals(2000, auto.lossScaleGrowthInterval());
        assertTrue(LossScaler.of(auto, DataType.FLOAT16).isPresent());
        assertTrue(LossScaler.of(auto, DataType.FLOAT32).isEmpty());
        assertTrue(LossScaler.of(auto.withLossScale("dynamic", 8, 5), DataType.FLOAT32).isPresent());
        assertTrue(LossScaler.of(auto.withLossScale("off", 8, 5), DataType.FLOAT16).isEmpty());
        assertEquals(8, LossScaler.of(auto.withLossScale("dynamic", 8, 5), DataType.FLOAT32).orElseThrow().scale());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> auto.withLossScale("static", 8, 5))
                .getMessage().contains("optimizer.loss_scale must be auto, dynamic or off"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> auto.withLossScale("dynamic", 0.5, 5))
                .getMessage().contains("optimizer.loss_scale_init"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> auto.withLossScale("dynamic", 8, 0))
                .getMessage().contains("optimizer.loss_scale_growth_interval"));
    }

    /**
     * The optimizer section reads strictly: the loss-scaling keys may be left to their documented defaults, the
     * AdamW keys may not (a missing grad_clip or betas would silently change the optimizer); a checkpoint from before
     * checkpoints recorded their inputs is refused with the reason.
     */
    @Test
    void configFieldsReadStrictlyAndOldCheckpointsAreRefused() throws Exception {
        OptimizerConfig c = Json.parse("optimizer.json", """
                {"lr": 1e-4, "weight_decay": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "grad_clip": 1.0,
                 "loss_scale": "dynamic", "loss_scale_init": 1024, "loss_scale_growth_interval": 100}""".getBytes(),
                OptimizerConfig.class, null);
        assertEquals(new OptimizerConfig(1e-4, 0.01, List.of(0.9, 0.999), 1e-8, 1.0).withLossScale("dynamic", 1024,
                100), c);
        List<arenakit.util.StrictJson.Defaulted> defaulted = new java.util.ArrayList<>();
        assertEquals(new OptimizerConfig(1e-4, 0.01, List.of(0.9, 0.999), 1e-8, 1.0), Json.parse("optimizer.json",
                ("{\"lr\": 1e-4, \"weight_decay\": 0.01, \"betas\": [0.9, 0.999], \"eps\": 1e-8, "
                        + "\"grad_clip\": 1.0}").getBytes(), OptimizerConfig.class, defaulted));
        assertEquals(List.of("loss_scale", "loss_scale_init", "loss_scale_growth_interval"),
                defaulted.stream().map(arenakit.util.StrictJson.Defaulted::path).toList());
        Json.Invalid missing = assertThrows(Json.Invalid.class, () -> Json.parse("optimizer.json",
                "{\"lr\": 1e-4, \"weight_decay\": 0.01, \"eps\": 1e-8}".getBytes(), OptimizerConfig.class, null));
        assertTrue(missing.getMessage().contains("optimizer.json: missing field 'betas' (a list of numbers)"),
                missing.getMessage());
        assertTrue(missing.getMessage().contains("optimizer.json: missing field 'grad_clip' (a number)"),
                missing.getMessage());

        TrainConfig config = config(4, 4, "auto", 65536, 2000);
        TrainLog line = new TrainLog(2, 0, 1e-3, 1.0, 0.5, null, null, 1.0, null, 0);
        Checkpoints.State now = new Checkpoints.State(4, 100, 1.5, List.of(line), config, 2.0, 1.0, 2, 0, null,
                arenakit.util.Fingerprint.builder().text("rows", "x").build());
        Path ckpt = Files.createDirectories(dir.resolve("checkpoints").resolve("step-000004"));
        Json.write(ckpt.resolve("state.json"), now);
        assertEquals(now, Checkpoints.state(ckpt));
        // what a checkpoint from before inputs were recorded holds: no "inputs"
        String old = Files.readString(ckpt.resolve("state.json")).replaceAll(",\\s*\"inputs\" : \\{[^}]*\\}\\s*\\}", "");
        assertFalse(old.contains("inputs"), old);
        Files.writeString(ckpt.resolve("state.json"), old);
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> Checkpoints.state(ckpt));
        assertTrue(e.getMessage().contains("did not record the settings, data and model"), e.getMessage());
        assertTrue(e.getMessage().contains("delete " + dir.resolve("checkpoints")), e.getMessage());
    }

    /** Bit for bit. */
    private static void assertWeights(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name), actual.get(name), name);
        }
    }

    private static Map<String, float[]> values(SequenceClassifier model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        model.trainable().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
