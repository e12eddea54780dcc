package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.layers.Attention;
import arenakit.model.lora.LoraConfig;
import arenakit.model.tensor.Autograd;
import arenakit.model.tensor.Casts;
import arenakit.model.tensor.TorchScalar;
import arenakit.util.Engines;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Activation checkpointing gives the gradients of the plain backward pass: with LoRA dropout and the dropout MLP
 * head (the recomputed layers draw the masks of their first forward), in float16, with every weight trained, and
 * attention cut into many query blocks (sliding windows inside them) gives the unblocked result.
 */
class GradientCheckpointingTest {
    @TempDir
    Path dir;

    private static final List<int[]> SEQUENCES = sequences(new int[] {5, 17, 40, 23}, 60);

    private static List<int[]> sequences(int[] lengths, int vocab) {
        Random r = new Random(11);
        return java.util.Arrays.stream(lengths).mapToObj(n -> {
            int[] s = new int[n];
            for (int t = 0; t < n; t++) {
                s[t] = 2 + r.nextInt(vocab - 2);
            }
            return s;
        }).toList();
    }

    private Path checkpoint(String modelType) throws Exception {
        return TinyCheckpoints.write(dir.resolve(modelType), TinyCheckpoints.testConfig(modelType, 64),
                SafetensorsFile.DType.F32, 1, 9);
    }

    private static DecoderClassifier.Options options(boolean ckpt) {
        return DecoderClassifier.Options.defaults().placement(Placement.single(Device.cpu())).log(s -> { })
                .gradientCheckpointing(ckpt);
    }

    /** Loss and gradients (by name) of one backward over the sequences, labels cycling 0, 1, 2. */
    private static Map<String, float[]> step(DecoderClassifier model, long seed, float[] loss) {
        float value = Autograd.recording(() -> model.backward(new SequenceClassifier.TrainBatch(SEQUENCES,
                GradientCheckpointingTest::nll, 1, seed)));
        loss[0] = value;
        Map<String, float[]> out = new LinkedHashMap<>();
        model.trainable().forEach((k, v) -> {
            out.put(k, Casts.toType(v.getGradient(), DataType.FLOAT32).toFloatArray());
            JniUtils.zeroGrad((PtNDArray) v);
        });
        return out;
    }

    static NDArray nll(NDArray logits) {
        NDManager m = logits.getManager();
        int n = (int) logits.getShape().get(0);
        long[] rows = new long[n];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
            labels[i] = i % 3;
        }
        NDArray picked = logits.logSoftmax(-1).get(new NDIndex("{}, {}", m.create(rows).duplicate(),
                m.create(labels).duplicate()));
        return picked.sum().neg().div(TorchScalar.of(picked, n));
    }

    private static void assertSame(Map<String, float[]> want, Map<String, float[]> got, double relative) {
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            float[] a = want.get(k);
            float[] b = got.get(k);
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                scale = Math.max(scale, Math.abs(a[i]));
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            assertTrue(diff <= relative * Math.max(scale, 1e-12), k + ": max |diff| " + diff + " vs max |grad| "
                    + scale);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma2", "llama", "qwen2"})
    void withDropoutTheRecomputedLayersDrawTheMasksOfTheirFirstForward(String modelType) throws Exception {
        Path ckpt = checkpoint(modelType);
        float[] plainLoss = new float[1];
        Map<String, float[]> plain;
        try (DecoderClassifier model = dropoutModel(ckpt, false)) {
            plain = step(model, 7, plainLoss);
            float[] again = new float[1];
            assertSame(plain, step(model, 7, again), 0);
            float[] other = new float[1];
            step(model, 8, other);
            assertNotEquals(plainLoss[0], other[0], "another seed draws other masks");
        }
        try (DecoderClassifier model = dropoutModel(ckpt, true)) {
            float[] loss = new float[1];
            Map<String, float[]> checkpointed = step(model, 7, loss);
            assertEquals(plainLoss[0], loss[0], 1e-6, "loss");
            assertSame(plain, checkpointed, 1e-5);
        }
    }

    /** LoRA with dropout 0.2 and the dropout MLP head; every B made non-zero (B = 0 would hide A's dropout). */
    private static DecoderClassifier dropoutModel(Path ckpt, boolean checkpointing) throws Exception {
        DecoderClassifier model = DecoderClassifier.load(ckpt, options(checkpointing).freshHead(true)
                .head(ClassifierHead.Kind.DROPOUT_MLP).lora(LoraConfig.of(4, 8, 0.2)));
        Random r = new Random(5);
        try (var g = arenakit.model.tensor.NoGrad.enter()) {
            for (var p : model.adapters().projections()) {
                float[] b = new float[(int) p.loraB().size()];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (r.nextGaussian() * 0.1);
                }
                p.loraB().set(b);
            }
        }
        return model;
    }

    @Test
    void float16GradientsAreThoseOfThePlainBackward() throws Exception {
        Path ckpt = checkpoint("gemma2");
        Map<String, float[]> want = null;
        float[] l0 = new float[1];
        float[] l1 = new float[1];
        for (boolean on : new boolean[] {false, true}) {
            try (DecoderClassifier model = DecoderClassifier.load(ckpt, options(on).dtype(DataType.FLOAT16)
                    .freshHead(true).lora(LoraConfig.of(4, 8, 0)))) {
                Map<String, float[]> got = step(model, 3, on ? l1 : l0);
                if (want == null) {
                    want = got;
                } else {
                    assertEquals(l0[0], l1[0], 1e-3, "loss");
                    assertSame(want, got, 2e-3);
                }
            }
        }
    }

    /** LoRA over an int8 base (model.quantize int8): the recompute dequantizes again and gives the same gradients. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma2", "llama", "qwen2"})
    void overInt8WeightsTheRecomputedLayersGiveThePlainBackwardsGradients(String modelType) throws Exception {
        Path ckpt = checkpoint(modelType);
        Map<String, float[]> want = null;
        float[] l0 = new float[1];
        float[] l1 = new float[1];
        for (boolean on : new boolean[] {false, true}) {
            try (DecoderClassifier model = DecoderClassifier.load(ckpt, options(on)
                    .quantize(arenakit.model.quant.Quantization.INT8).freshHead(true).lora(LoraConfig.of(4, 8, 0)))) {
                Map<String, float[]> got = step(model, 3, on ? l1 : l0);
                if (want == null) {
                    want = got;
                } else {
                    assertEquals(l0[0], l1[0], 1e-5, "loss");
                    assertSame(want, got, 1e-5);
                }
            }
        }
    }

    @Test
    void fullFineTuningTrainsTheEmbeddingThroughTheRecomputedLayers() throws Exception {
        Path ckpt = checkpoint("llama");
        Map<String, float[]> want = null;
        for (boolean on : new boolean[] {false, true}) {
            try (DecoderClassifier model = DecoderClassifier.load(ckpt, options(on).fullFineTune(true))) {
                Map<String, float[]> got = step(model, 3, new float[1]);
                assertTrue(got.containsKey("model.embed_tokens.weight"));
                if (want == null) {
                    want = got;
                } else {
                    assertSame(want, got, 1e-5);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma2", "llama"})
    void attentionInSmallQueryBlocksGivesTheLogitsAndGradientsOfOneBlock(String modelType) throws Exception {
        Path ckpt = checkpoint(modelType); // gemma2: soft cap, sliding window 8 on even layers
        for (boolean packed : new boolean[] {true, false}) {
            try (DecoderClassifier model = DecoderClassifier.load(ckpt, options(true).packed(packed).freshHead(true)
                    .lora(LoraConfig.of(4, 8, 0)))) {
                try (NDManager scope = Engines.newManager()) {
                    float[] whole = Attention.withBlockRows(1 << 20, () -> model.logits(scope, SEQUENCES, false)
                            .toFloatArray());
                    float[] blocked = Attention.withBlockRows(3, () -> model.logits(scope, SEQUENCES, false)
                            .toFloatArray());
                    for (int i = 0; i < whole.length; i++) {
                        assertEquals(whole[i], blocked[i], 1e-5, "logit " + i + ", packed=" + packed);
                    }
                }
                Map<String, float[]> one = Attention.withBlockRows(1 << 20, () -> step(model, 1, new float[1]));
                Map<String, float[]> many = Attention.withBlockRows(3, () -> step(model, 1, new float[1]));
                assertSame(one, many, 1e-5);
            }
        }
    }
}
