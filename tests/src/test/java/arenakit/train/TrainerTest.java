package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import arenakit.model.DecoderClassifier;
import arenakit.model.SequenceClassifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer on a tiny real Gemma-2 with LoRA: gradient accumulation, learning, and checkpoint/resume. */
class TrainerTest {
    @TempDir
    static Path dir;
    private static TinySetup setup;

    @BeforeAll
    static void setUp() throws Exception {
        setup = new TinySetup(dir, 48);
    }

    @AfterAll
    static void tearDown() {
        setup.close();
    }

    private static TrainConfig config(String swap, int batch, int epochs, int maxSteps, double lr,
            int checkpointEvery) {
        return config(swap, batch, epochs, maxSteps, lr, checkpointEvery, 0);
    }

    private static TrainConfig config(String swap, int batch, int epochs, int maxSteps, double lr,
            int checkpointEvery, int evalEvery) {
        return config(swap, batch, epochs, maxSteps, lr, checkpointEvery, evalEvery, 0);
    }

    private static TrainConfig config(String swap, int batch, int epochs, int maxSteps, double lr,
            int checkpointEvery, int evalEvery, int logEvery) {
        return new TrainConfig(TrainConfig.KIND, "test", new TrainConfig.Model("linear",
                new TrainConfig.Lora(4, 8, 0.1, List.of("q_proj", "v_proj"), false), null, "float32"),
                new TrainConfig.Data(List.of("train"), new TrainConfig.Text("rounds", "proportional", 96), null, swap,
                        true),
                new OptimizerConfig(lr, 0.01, List.of(0.9, 0.999), 1e-8, 1.0), new ScheduleConfig(0.1, 0),
                new TrainConfig.Loader(batch, 512), new TrainConfig.Train(7, epochs, maxSteps, evalEvery,
                        checkpointEvery, false, logEvery), null);
    }

    private static Map<String, float[]> gradients(SequenceClassifier model, List<Trainer.Sequence> seqs,
            int maxTokens) {
        try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
            Trainer.accumulate(model, c, seqs, maxTokens, null, 1);
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : model.trainable().entrySet()) {
            NDArray g = e.getValue().getGradient();
            out.put(e.getKey(), g.toFloatArray());
            g.subi(g); // zero for the next accumulation
        }
        return out;
    }

    @Test
    void fullSwapAccumulatesBothOrdersIntoOneStep() throws Exception {
        Example row = setup.examples().get(0);
        Example swapped = row.swapped();
        Trainer.Sequence ab = new Trainer.Sequence(setup.encoder.encode(row.row()), row.target(), null);
        Trainer.Sequence ba = new Trainer.Sequence(setup.encoder.encode(swapped.row()), swapped.target(), null);
        try (DecoderClassifier model = setup.lora(0)) {
            // a budget of one sequence per micro-batch: the two orders run as separate micro-batches
            Map<String, float[]> both = gradients(model, List.of(ab, ba), 1);
            Map<String, float[]> onlyAb = gradients(model, List.of(ab), 1);
            Map<String, float[]> onlyBa = gradients(model, List.of(ba), 1);
            for (String name : both.keySet()) {
                float[] expected = new float[both.get(name).length];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = (onlyAb.get(name)[i] + onlyBa.get(name)[i]) / 2; // the step's mean loss
                }
                assertArrayEquals(expected, both.get(name), 1e-6f, name);
            }
            assertTrue(both.values().stream().anyMatch(g -> g.length > 0 && norm(g) > 0), "gradients are non-zero");
        }
    }

    /**
     * On a fresh thread, as a notebook kernel runs cells: PyTorch's grad mode is on there by default, and the
     * optimizer's in-place updates must still work.
     */
    @Test
    void trainingLowersTheLossOnAnyThread() throws Exception {
        List<Example> rows = setup.examples().subList(0, 8);
        double[] losses = new double[2];
        Throwable[] failure = new Throwable[1];
        Thread worker = new Thread(() -> {
            try (DecoderClassifier model = setup.lora(0)) {
                Trainer trainer = new Trainer(model, config("none", 8, 20, 0, 5e-3, 0), setup.encoder::encode,
                        Trainer::balanced, (m, d) -> m.saveAdapter(d.resolve("adapter")), s -> {});
                List<arenakit.data.Conversation> holdout = rows.stream().map(Example::row).toList();
                losses[0] = trainer.evaluate(holdout)[0];
                Trainer.Result r = trainer.fit(rows, holdout, dir.resolve("learn"), 0);
                assertEquals(20, r.steps());
                losses[1] = r.valLogLoss();
            } catch (Throwable t) {
                failure[0] = t;
            }
        });
        worker.start();
        worker.join();
        if (failure[0] != null) {
            throw new AssertionError("training on a new thread failed", failure[0]);
        }
        assertTrue(losses[1] < losses[0] - 0.2, "loss on the rows trained on: " + losses[0] + " -> " + losses[1]);
    }

    /** The held-out rows are tokenized once per run, not at every evaluation. */
    @Test
    void everyEvaluationReusesOneTokenizationOfTheHoldout() throws Exception {
        List<Example> rows = setup.examples().subList(0, 8);
        List<arenakit.data.Conversation> holdout = setup.examples().subList(8, 12).stream().map(Example::row).toList();
        java.util.concurrent.atomic.AtomicInteger encoded = new java.util.concurrent.atomic.AtomicInteger();
        try (DecoderClassifier model = setup.lora(0)) {
            Trainer t = new Trainer(model, config("none", 4, 1, 2, 1e-3, 0, 1), c -> {
                encoded.incrementAndGet();
                return setup.encoder.encode(c);
            }, Trainer::shuffled, (m, d) -> m.saveAdapter(d.resolve("adapter")), s -> {});
            Trainer.Result r = t.fit(rows, holdout, dir.resolve("evaluations"), 0);
            assertEquals(2, r.history().stream().filter(l -> l.valLogLoss() != null).count());
        }
        assertEquals(rows.size() + holdout.size(), encoded.get(), "8 training rows + 4 held-out rows, once each");
    }

    /**
     * A running training loss every log_every steps, the held-out numbers only where the holdout was evaluated, and
     * each line's loss the mean of exactly the steps since the previous line.
     */
    @Test
    void historyHasALineEveryLogEveryStepsAndEvaluationsOnTheirOwnSteps() throws Exception {
        List<Example> rows = setup.examples().subList(0, 24);
        List<arenakit.data.Conversation> holdout = setup.examples().subList(24, 30).stream().map(Example::row)
                .toList();
        List<String> lines = new ArrayList<>();
        try (DecoderClassifier model = setup.lora(0)) {
            Trainer t = new Trainer(model, config("none", 4, 1, 0, 5e-3, 0, 4, 2), setup.encoder::encode,
                    Trainer::shuffled, (m, d) -> m.saveAdapter(d.resolve("adapter")), lines::add);
            Trainer.Result r = t.fit(rows, holdout, dir.resolve("log-every"), 0); // 6 steps
            assertEquals(List.of(2L, 4L, 6L), r.history().stream().map(TrainLog::step).toList());
            assertEquals(java.util.Arrays.asList(null, r.history().get(1).valLogLoss(), r.valLogLoss()),
                    r.history().stream().map(TrainLog::valLogLoss).toList(), "evaluated at step 4 and at the end");
            assertTrue(r.history().get(1).valLogLoss() != null && r.history().get(0).valAccuracy() == null);
            assertEquals("cross-entropy", r.objective());
        }
        assertEquals(3, lines.stream().filter(l -> l.startsWith("step ")).count(), lines.toString());
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws Exception {
        List<Example> rows = setup.examples().subList(0, 24);
        // 12 steps, dropout 0.1, a history line every 3 steps: the pause at 5 falls inside a line's window
        TrainConfig config = config("random", 4, 2, 0, 5e-3, 2, 0, 3);
        Map<String, float[]> straight;
        List<TrainLog> straightHistory;
        TrainLog straightEnd;
        try (DecoderClassifier model = setup.lora(0.1)) {
            Trainer t = new Trainer(model, config, setup.encoder::encode, Trainer::balanced,
                    (m, d) -> m.saveAdapter(d.resolve("adapter")), s -> {});
            Trainer.Result r = t.fit(rows, List.of(), dir.resolve("straight"), 0);
            assertEquals(12, r.steps());
            straight = values(model);
            straightHistory = r.history();
            straightEnd = r.history().get(r.history().size() - 1);
        }
        Path resumed = dir.resolve("resumed");
        try (DecoderClassifier model = setup.lora(0.1)) {
            Trainer t = new Trainer(model, config, setup.encoder::encode, Trainer::balanced,
                    (m, d) -> m.saveAdapter(d.resolve("adapter")), s -> {});
            Trainer.Result paused = t.fit(rows, List.of(), resumed, 5);
            assertTrue(paused.stopped());
            assertEquals(5, paused.steps());
        }
        assertTrue(resumed.resolve("checkpoints/step-000005/adapter/adapter_model.safetensors").toFile().isFile());
        List<String> lines = new ArrayList<>();
        try (DecoderClassifier model = setup.lora(0.1)) { // a new process would start from the same fresh model
            Trainer t = new Trainer(model, config, setup.encoder::encode, Trainer::balanced,
                    (m, d) -> m.saveAdapter(d.resolve("adapter")), lines::add);
            Trainer.Result r = t.fit(rows, List.of(), resumed, 0);
            assertFalse(r.stopped());
            assertEquals(12, r.steps());
            Map<String, float[]> after = values(model);
            for (String name : straight.keySet()) {
                assertArrayEquals(straight.get(name), after.get(name), 1e-5f, name);
            }
            // every history line, the one across the pause too, averages the same steps as the uninterrupted run's
            assertEquals(straightHistory.stream().map(TrainLog::step).toList(),
                    r.history().stream().map(TrainLog::step).toList());
            assertEquals(List.of(3L, 6L, 9L, 12L), r.history().stream().map(TrainLog::step).toList());
            for (int i = 0; i < straightHistory.size(); i++) {
                assertEquals(straightHistory.get(i).trainLoss(), r.history().get(i).trainLoss(), 1e-5, "line " + i);
                assertEquals(straightHistory.get(i).gradNorm(), r.history().get(i).gradNorm(), 1e-4, "line " + i);
                assertEquals(straightHistory.get(i).lr(), r.history().get(i).lr(), 1e-12, "line " + i);
            }
            TrainLog end = r.history().get(r.history().size() - 1);
            assertEquals(straightEnd.step(), end.step());
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("resuming from") && l.contains("at step 5 of 12")),
                lines.toString());
    }

    /** A pause on a step that was just checkpointed keeps that checkpoint, and the next run resumes from it. */
    @Test
    void pauseOnACheckpointStepResumesThere() throws Exception {
        List<Example> rows = setup.examples().subList(0, 16);
        TrainConfig config = config("none", 4, 1, 0, 5e-3, 2); // 4 steps, a checkpoint every 2
        Path stage = dir.resolve("pause-on-checkpoint");
        try (DecoderClassifier model = setup.lora(0)) {
            Trainer t = new Trainer(model, config, setup.encoder::encode, Trainer::shuffled,
                    (m, d) -> m.saveAdapter(d.resolve("adapter")), s -> {});
            assertTrue(t.fit(rows, List.of(), stage, 2).stopped());
        }
        assertEquals(stage.resolve("checkpoints/step-000002"), new Checkpoints(stage).latest().orElseThrow());
        List<String> lines = new ArrayList<>();
        try (DecoderClassifier model = setup.lora(0)) {
            Trainer t = new Trainer(model, config, setup.encoder::encode, Trainer::shuffled,
                    (m, d) -> m.saveAdapter(d.resolve("adapter")), lines::add);
            assertEquals(4, t.fit(rows, List.of(), stage, 0).steps());
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("at step 2 of 4")), lines.toString());
    }

    /** A checkpoint made under another config (here another LoRA rank) is refused before any tensor is loaded. */
    @Test
    void resumingUnderAnotherConfigIsAClearError() throws Exception {
        List<Example> rows = setup.examples().subList(0, 8);
        Path stage = dir.resolve("changed-config");
        try (DecoderClassifier model = setup.lora(0)) {
            new Trainer(model, config("none", 4, 1, 0, 5e-3, 0), setup.encoder::encode, Trainer::shuffled,
                    (m, d) -> m.saveAdapter(d.resolve("adapter")), s -> {}).fit(rows, List.of(), stage, 1);
        }
        TrainConfig base = config("none", 4, 1, 0, 5e-3, 0);
        TrainConfig rank2 = new TrainConfig(base.kind(), base.description(), new TrainConfig.Model("linear",
                new TrainConfig.Lora(2, 4, 0, List.of("q_proj", "v_proj"), false), null, "float32"), base.data(),
                base.optimizer(), base.schedule(), base.loader(), base.train(), null);
        try (DecoderClassifier model = DecoderClassifier.load(setup.checkpoint, DecoderClassifier.Options.defaults()
                .freshHead(true).log(s -> {}).lora(arenakit.model.lora.LoraConfig.of(2, 4, 0)))) {
            Trainer t = new Trainer(model, rank2, setup.encoder::encode, Trainer::shuffled,
                    (m, d) -> m.saveAdapter(d.resolve("adapter")), s -> {});
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> t.fit(rows, List.of(), stage, 0));
            assertTrue(e.getMessage().contains("was written under a different config"), e.getMessage());
        }
    }

    private static Map<String, float[]> values(SequenceClassifier model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        model.trainable().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
