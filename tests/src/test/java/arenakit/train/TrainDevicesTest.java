package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import arenakit.data.Conversation;
import arenakit.infer.MicroBatches;
import arenakit.model.ClassifierHead;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.lora.LoraConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Training on two CPU "devices" is training on one: the layers split over both (pipeline) or a replica on each
 * (data parallel, the step's micro-batches shared), with LoRA dropout and the dropout MLP head, with and without
 * activation checkpointing: the same step's loss, gradients and updated adapter as one device (1e-6), every replica
 * holding that adapter afterwards; and a whole run through the Trainer ends where one device's does.
 */
class TrainDevicesTest {
    @TempDir
    Path dir;

    private static DecoderClassifier model(TinySetup setup, Placement placement, boolean ckpt) throws Exception {
        return DecoderClassifier.load(setup.checkpoint, DecoderClassifier.Options.defaults().freshHead(true).seed(5)
                .placement(placement).head(ClassifierHead.Kind.DROPOUT_MLP).log(s -> { })
                .lora(LoraConfig.of(4, 8, 0.1)).gradientCheckpointing(ckpt));
    }

    /** One step's sequences: 8 rows and their swapped copies. */
    private static List<Trainer.Sequence> step(TinySetup setup) {
        List<Trainer.Sequence> out = new ArrayList<>();
        for (Example e : setup.examples().subList(0, 8)) {
            out.add(new Trainer.Sequence(setup.encoder.encode(e.row()), e.target(), null));
            Example s = e.swapped();
            out.add(new Trainer.Sequence(setup.encoder.encode(s.row()), s.target(), null));
        }
        return out;
    }

    /** The step's loss, its gradients and the adapter after one AdamW update, by name. */
    private record Result(double loss, Map<String, float[]> grads, Map<String, float[]> updated) {}

    private static Result run(TrainDevices devices, List<Trainer.Sequence> seqs, int maxTokens) {
        try (NDScope scope = new NDScope();
                AdamW optimizer = new AdamW(devices.model().trainable(), new OptimizerConfig(1e-3, 0.01, null, 1e-8,
                        1.0))) {
            devices.broadcast();
            double loss = Trainer.accumulate(devices, seqs, maxTokens, null, 1, 42);
            Map<String, float[]> grads = new LinkedHashMap<>();
            devices.model().trainable().forEach((k, v) -> grads.put(k, v.getGradient().toFloatArray()));
            optimizer.step(1e-3);
            devices.broadcast();
            Map<String, float[]> updated = new LinkedHashMap<>();
            devices.model().trainable().forEach((k, v) -> updated.put(k, v.toFloatArray()));
            return new Result(loss, grads, updated);
        }
    }

    private static void assertClose(Map<String, float[]> want, Map<String, float[]> got, double tolerance,
            boolean relative, String what) {
        assertEquals(want.keySet(), got.keySet(), what);
        for (String k : want.keySet()) {
            float[] a = want.get(k);
            float[] b = got.get(k);
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                scale = Math.max(scale, Math.abs(a[i]));
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            double limit = relative ? tolerance * Math.max(scale, 1e-12) : tolerance;
            assertTrue(diff <= limit, what + " " + k + ": max |diff| " + diff + " (limit " + limit + ")");
        }
    }

    @ParameterizedTest(name = "checkpointing={0}")
    @CsvSource({"false", "true"})
    void pipelineAndDataParallelStepsEqualOneDevice(boolean ckpt) throws Exception {
        try (TinySetup setup = new TinySetup(dir, 16)) {
            List<Trainer.Sequence> seqs = step(setup);
            int maxTokens = 160;
            int micro = MicroBatches.pack(seqs.stream().map(Trainer.Sequence::ids).toList(), maxTokens).size();
            assertTrue(micro >= 4, "the step spreads over the replicas: " + micro + " micro-batches");
            Result one;
            try (DecoderClassifier m = model(setup, Placement.single(Device.cpu()), false);
                    TrainDevices d = TrainDevices.single(m)) {
                one = run(d, seqs, maxTokens);
            }
            Result pipelined;
            try (DecoderClassifier m = model(setup, Placement.split(Device.cpu(), Device.cpu()), ckpt);
                    TrainDevices d = TrainDevices.single(m)) {
                assertEquals(2, m.stages().size());
                pipelined = run(d, seqs, maxTokens);
            }
            Result parallel;
            try (DecoderClassifier a = model(setup, Placement.single(Device.cpu()), ckpt);
                    DecoderClassifier b = model(setup, Placement.single(Device.cpu()), ckpt);
                    TrainDevices d = TrainDevices.dataParallel(List.of(a, b), List.of("cpu", "cpu"))) {
                parallel = run(d, seqs, maxTokens);
                Map<String, float[]> second = new LinkedHashMap<>();
                b.trainable().forEach((k, v) -> second.put(k, v.toFloatArray()));
                assertClose(parallel.updated(), second, 0, false, "the second replica after the broadcast");
                a.trainable().values().forEach(v -> JniUtils.zeroGrad((PtNDArray) v));
            }
            for (Result r : List.of(pipelined, parallel)) {
                assertEquals(one.loss(), r.loss(), 1e-6, "loss");
                assertClose(one.grads(), r.grads(), 1e-6, true, "gradient");
                assertClose(one.updated(), r.updated(), 1e-6, false, "updated adapter");
            }
        }
    }

    private static TrainConfig config(TrainConfig.Train train) {
        return new TrainConfig(TrainConfig.KIND, "devices", new TrainConfig.Model("mlp",
                new TrainConfig.Lora(4, 8, 0.1, LoraConfig.ALL_LINEAR, false), null, "float32"),
                new TrainConfig.Data(List.of("train"), new TrainConfig.Text("rounds", "proportional", 96), null, "full",
                        true),
                new OptimizerConfig(5e-3, 0.01, List.of(0.9, 0.999), 1e-8, 1.0), new ScheduleConfig(0.1, 0),
                new TrainConfig.Loader(4, 160), train, null);
    }

    @Test
    void aDataParallelRunThroughTheTrainerEndsWhereOneDevicesRunDoes() throws Exception {
        try (TinySetup setup = new TinySetup(dir, 16)) {
            List<Example> rows = setup.examples().subList(0, 12);
            List<Conversation> holdout = setup.examples().subList(12, 16).stream().map(Example::row).toList();
            TrainConfig.Train one = new TrainConfig.Train(7, 1, 3, 3, 0, false);
            TrainConfig.Train two = one.onDevices(List.of("cpu", "cpu"), TrainConfig.Train.DATA_PARALLEL)
                    .withGradientCheckpointing(true);
            assertEquals(config(one).fingerprintJson(), config(two).fingerprintJson(),
                    "devices, mode and checkpointing are not part of the fingerprint");
            Trainer.Result single;
            Map<String, float[]> singleAdapter = new LinkedHashMap<>();
            try (DecoderClassifier m = model(setup, Placement.single(Device.cpu()), false)) {
                single = new Trainer(m, config(one), setup.encoder::encode, Trainer::balanced, (x, d) -> { }, s -> { })
                        .fit(rows, holdout, dir.resolve("one"), 0);
                m.trainable().forEach((k, v) -> singleAdapter.put(k, v.toFloatArray()));
            }
            try (DecoderClassifier a = model(setup, Placement.single(Device.cpu()), true);
                    DecoderClassifier b = model(setup, Placement.single(Device.cpu()), true);
                    TrainDevices d = TrainDevices.dataParallel(List.of(a, b), List.of("cpu", "cpu"))) {
                Trainer.Result parallel = new Trainer(d, config(two), setup.encoder::encode, Trainer::balanced,
                        (x, dd) -> { }, s -> { }).fit(rows, holdout, dir.resolve("two"), 0);
                assertEquals(single.steps(), parallel.steps());
                assertEquals(single.history().size(), parallel.history().size());
                for (int i = 0; i < single.history().size(); i++) {
                    assertEquals(single.history().get(i).trainLoss(), parallel.history().get(i).trainLoss(), 1e-6);
                }
                assertEquals(single.valLogLoss(), parallel.valLogLoss(), 1e-6, "evaluated on both replicas");
                Map<String, float[]> got = new LinkedHashMap<>();
                a.trainable().forEach((k, v) -> got.put(k, v.toFloatArray()));
                assertClose(singleAdapter, got, 1e-6, false, "adapter after the run");
            }
        }
    }

    @Test
    void replicasThatStartApartAreMadeEqualBeforeTheFirstStep() throws Exception {
        try (TinySetup setup = new TinySetup(dir, 16);
                DecoderClassifier a = model(setup, Placement.single(Device.cpu()), false);
                DecoderClassifier b = DecoderClassifier.load(setup.checkpoint, DecoderClassifier.Options.defaults()
                        .freshHead(true).seed(99).head(ClassifierHead.Kind.DROPOUT_MLP).log(s -> { })
                        .lora(LoraConfig.of(4, 8, 0.1)));
                TrainDevices d = TrainDevices.dataParallel(List.of(a, b), List.of("cpu", "cpu"))) {
            String key = a.trainable().keySet().iterator().next();
            assertTrue(!java.util.Arrays.equals(a.trainable().get(key).toFloatArray(),
                    b.trainable().get(key).toFloatArray()), "another seed starts another adapter");
            d.broadcast();
            for (Map.Entry<String, NDArray> e : a.trainable().entrySet()) {
                assertTrue(java.util.Arrays.equals(e.getValue().toFloatArray(), b.trainable().get(e.getKey())
                        .toFloatArray()), e.getKey());
            }
        }

    }
}
