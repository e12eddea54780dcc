package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import arenakit.infer.BatchRunner;
import arenakit.infer.DataParallelRunner;
import arenakit.infer.PipelinedRunner;
import arenakit.infer.SingleDeviceRunner;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.family.Gemma2Config;
import arenakit.model.family.LlamaConfig;
import arenakit.model.family.Qwen2Config;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.layers.Rope;
import arenakit.model.layers.TokenBatch;
import arenakit.model.lora.LoraConfig;
import arenakit.model.lora.PeftAdapter;
import arenakit.model.tensor.NoGrad;
import arenakit.util.Engines;
import arenakit.util.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What works for Gemma-2 works for every family, on random checkpoints of shapes the fixtures do not have (norm
 * weights and biases drawn at random): exact batching, stages, LoRA/PiSSA adapters in and out, merged checkpoints
 * of the right family, full fine-tuning, float16.
 */
class FamiliesTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of("llama, MHA, llama3 RoPE, all biases",
                        LlamaConfig.of(256, 48, 96, 3, 6, 6, 8).withRopeScaling(new Rope.Llama3(4, 1, 2, 16))
                                .withBiases(true, true)),
                Arguments.of("llama, GQA 4:1, head_dim * heads != hidden",
                        LlamaConfig.of(256, 40, 80, 2, 8, 2, 12)),
                Arguments.of("qwen2, sliding window 6 from layer 1",
                        Qwen2Config.of(256, 48, 112, 3, 6, 2, 8).withSlidingWindow(6, 1)),
                Arguments.of("gemma2, attention biases",
                        Gemma2Config.of(256, 32, 64, 2, 4, 2, 8).withSlidingWindow(5).withAttentionBias(true)));
    }

    private Path write(DecoderConfig config) throws Exception {
        return TinyCheckpoints.writeRandomized(tmp.resolve(config.modelType() + "-" + Math.abs(config.hashCode())),
                config, DType.F32, 2, 7);
    }

    static List<int[]> sequences(DecoderConfig config, long seed, int... lengths) {
        Random r = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int len : lengths) {
            out.add(r.ints(len, 3, config.vocabSize()).toArray());
        }
        return out;
    }

    private static DecoderClassifier.Options options() {
        return DecoderClassifier.Options.defaults().placement(Placement.single(Device.cpu())).log(s -> { });
    }

    private static float[] logits(DecoderClassifier model, List<int[]> seqs) {
        try (NDManager scope = Engines.newManager()) {
            return model.logits(scope, seqs, false).toFloatArray();
        }
    }

    private static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol, what + ", logit " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void batchedPackedPaddedAndStagedGiveEachSequenceItsLogitsAlone(String name, DecoderConfig config)
            throws Exception {
        Path dir = write(config);
        List<int[]> seqs = sequences(config, 1, 3, 29, 7, 1, 18);
        try (DecoderClassifier model = DecoderClassifier.load(dir, options());
                DecoderClassifier split = DecoderClassifier.load(dir, options()
                        .placement(Placement.split(Device.cpu(), Device.cpu())));
                NDManager scope = Engines.newManager()) {
            assertEquals(config.withNumLabels(3), model.config());
            float[][] alone = new float[seqs.size()][];
            for (int i = 0; i < seqs.size(); i++) {
                alone[i] = logits(model, List.of(seqs.get(i)));
            }
            for (TokenBatch batch : List.of(TokenBatch.packed(seqs), TokenBatch.padded(seqs, 0))) {
                for (DecoderClassifier m : List.of(model, split)) {
                    NDArray hidden = m.layers(scope, m.embed(scope, batch, false), batch, 0,
                            config.numHiddenLayers(), false);
                    float[] batched = m.classify(scope, hidden, batch, false).toFloatArray();
                    for (int i = 0; i < seqs.size(); i++) {
                        assertClose(alone[i], java.util.Arrays.copyOfRange(batched, 3 * i, 3 * i + 3), 1e-5,
                                (batch.packed() ? "packed" : "padded") + ", " + m.stages().size() + " stages, sequence "
                                        + i);
                    }
                }
            }
            assertTrue(Math.abs(alone[1][0] - alone[2][0]) > 1e-6, "different sequences, different logits");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void loraAndPissaAdaptersGoOutAndComeBackInPeftLayoutAndMergeIntoACheckpointOfTheFamily(String name,
            DecoderConfig config) throws Exception {
        Path base = write(config);
        List<int[]> seqs = sequences(config, 2, 9, 4, 21);
        for (LoraConfig.Init init : LoraConfig.Init.values()) {
            Path adapter = tmp.resolve("adapter-" + init);
            Path merged = tmp.resolve("merged-" + init);
            float[] trained;
            try (DecoderClassifier model = DecoderClassifier.load(base, options().freshHead(true)
                    .lora(LoraConfig.of(2, 4, 0).withInit(init)))) {
                LoraAdapterTest.perturb(model, 5);
                trained = logits(model);
                model.saveAdapter(adapter);
                model.saveCheckpoint(merged, DType.F32, 1);
            }
            var keys = SafetensorsFile.open(adapter.resolve(PeftAdapter.WEIGHTS_FILE)).entries().keySet();
            assertEquals(config.numHiddenLayers() * 7 * 2 + 1, keys.size(), keys.toString());
            assertTrue(keys.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), keys.toString());
            assertTrue(keys.contains("base_model.model.score.weight"), keys.toString());
            var written = Json.MAPPER.readTree(merged.resolve(HfCheckpoint.CONFIG).toFile());
            assertEquals(config.familyName().replace("-", "") + "ForSequenceClassification",
                    written.get("architectures").get(0).asText());
            assertEquals(config.withNumLabels(3), Families.fromJson(written));
            for (boolean merge : new boolean[] {true, false}) {
                try (DecoderClassifier reloaded = DecoderClassifier.load(base, options().adapter(adapter, merge))) {
                    assertClose(trained, logits(reloaded), 1e-5, init + ", adapter merged=" + merge);
                }
            }
            try (DecoderClassifier reloaded = DecoderClassifier.load(merged, options())) {
                assertClose(trained, logits(reloaded), 1e-5, init + ", merged checkpoint");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void fullFineTuningTrainsBiasesAndNormsAndSavesTheFamilysCheckpoint(String name, DecoderConfig config)
            throws Exception {
        Path base = write(config);
        List<int[]> seqs = sequences(config, 3, 6, 13);
        Path saved = tmp.resolve("full");
        float[] trained;
        try (DecoderClassifier model = DecoderClassifier.load(base, options().fullFineTune(true));
                NDManager scope = Engines.newManager()) {
            var params = model.trainable();
            assertEquals(config.tensorShapes().size() + 1, params.size());
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(model.logits(scope, seqs, true).logSoftmax(-1).get(":, 0").mean().neg());
            }
            for (var e : params.entrySet()) {
                assertTrue(e.getValue().getGradient().abs().sum().getFloat() > 0, e.getKey() + " got a gradient");
            }
            try (NoGrad g = NoGrad.enter()) {
                params.values().forEach(p -> p.subi(p.getGradient().mul(0.1f)));
            }
            trained = logits(model, seqs);
            model.saveCheckpoint(saved, DType.F32, 2);
        }
        try (DecoderClassifier reloaded = DecoderClassifier.load(saved, options())) {
            assertClose(trained, logits(reloaded, seqs), 1e-5, "reloaded");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void float16FollowsFloat32(String name, DecoderConfig config) throws Exception {
        Path base = write(config);
        List<int[]> seqs = sequences(config, 4, 17, 5);
        float[] full;
        try (DecoderClassifier model = DecoderClassifier.load(base, options())) {
            full = logits(model, seqs);
        }
        try (DecoderClassifier half = DecoderClassifier.load(base, options().dtype(DataType.FLOAT16))) {
            assertEquals(DataType.FLOAT16, half.dtype());
            float[] got = logits(half, seqs);
            assertClose(full, got, 0.02, "float16");
            assertFalse(java.util.Arrays.equals(full, got), "float16 really ran in float16");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void pipelinedAndDataParallelInferenceGiveTheSingleDeviceLogits(String name, DecoderConfig config)
            throws Exception {
        Path base = write(config);
        List<List<int[]>> batches = List.of(sequences(config, 5, 12, 3, 30), sequences(config, 6, 8), sequences(
                config, 7, 25, 25, 2, 16));
        try (DecoderClassifier one = DecoderClassifier.load(base, options());
                DecoderClassifier split = DecoderClassifier.load(base, options()
                        .placement(Placement.split(Device.cpu(), Device.cpu())));
                DecoderClassifier other = DecoderClassifier.load(base, options())) {
            List<float[][]> want = new SingleDeviceRunner(one).run(batches, (b, t) -> { });
            List<BatchRunner> runners = List.of(PipelinedRunner.of(split),
                    new DataParallelRunner(List.of(one, other), List.of("cpu", "cpu")));
            for (BatchRunner runner : runners) {
                List<float[][]> got = runner.run(batches, (b, t) -> { });
                for (int b = 0; b < batches.size(); b++) {
                    for (int i = 0; i < want.get(b).length; i++) {
                        assertClose(want.get(b)[i], got.get(b)[i], 1e-5, runner.describe() + ", batch " + b);
                    }
                }
            }
        }
    }

    private static float[] logits(DecoderClassifier model) {
        return logits(model, sequences(model.config(), 9, 5, 11, 4, 19));
    }
}
