package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.io.SafetensorsWriter;
import arenakit.model.lora.LoraConfig;
import arenakit.model.lora.LoraLinear;
import arenakit.model.quant.Int8Weight;
import arenakit.model.quant.Quantization;
import arenakit.util.Engines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Int8 weight-only quantization ({@link Int8Weight}): each weight within half a step of its row's scale, a model
 * computing exactly what its dequantized weights compute, logits within the documented bound of the float32 model
 * (fixtures and a mid-size random model), LoRA over the int8 base (PEFT adapters merged or separate, training), and
 * the memory: about half of float16.
 */
class Int8WeightsTest {
    /**
     * The documented bound (docs/model.md, "Int8 weights"): max |logit diff| against the float32 model at most this
     * share of the largest |logit|. Measured: 0.4% / 6.2% / 2.7% on gemma2-tiny / llama3-tiny / qwen2-tiny, 3-5% on
     * the mid-size random models; a wrong scale or a transposed code gives differences of the logits' own size.
     */
    static final double RELATIVE_BOUND = 0.1;

    @TempDir
    static Path tmp;
    static Path mid;
    static DecoderConfig midConfig;

    @BeforeAll
    static void writeMidSizeModel() throws Exception {
        // a mid-size random Llama: rows of 256 and 1024 inputs, as the benchmarks' shapes scaled down
        midConfig = Families.tiny("llama", 2000, 256, 1024, 4, 4, 2, 64);
        mid = TinyCheckpoints.write(tmp.resolve("mid"), midConfig, DType.BF16, 2, 5);
    }

    static DecoderClassifier.Options cpu() {
        return DecoderClassifier.Options.defaults().placement(Placement.single(Device.cpu())).log(s -> { });
    }

    static DecoderClassifier.Options int8() {
        return cpu().quantize(Quantization.INT8);
    }

    static float[] logits(DecoderClassifier model, List<int[]> seqs) {
        try (NDManager scope = Engines.newManager()) {
            return model.logits(scope, seqs, false).toFloatArray();
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    static double maxAbs(float[] a) {
        double d = 0;
        for (float v : a) {
            d = Math.max(d, Math.abs(v));
        }
        return d;
    }

    static void assertWithinBound(float[] want, float[] got, String what) {
        double diff = maxDiff(want, got);
        assertTrue(diff <= RELATIVE_BOUND * maxAbs(want), what + ": max |logit diff| " + diff + " vs max |logit| "
                + maxAbs(want));
        assertTrue(diff > 0, what + ": int8 gave exactly the float logits: was anything quantized?");
    }

    static List<int[]> midSequences() {
        return Gemma2BatchingTest.sequences(3, 5, 40, 17, 90).stream().map(s -> {
            int[] ids = s.clone();
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 3 + Math.floorMod(ids[i] * 131 + i, midConfig.vocabSize() - 3);
            }
            return ids;
        }).toList();
    }

    @Test
    void everyWeightIsWithinHalfAStepOfItsRowScale() {
        try (NDManager m = Engines.newManager()) {
            m.getEngine().setRandomSeed(3);
            NDArray w = m.randomNormal(0, 0.02f, new Shape(37, 300), DataType.FLOAT32);
            w.set(new NDIndex("5, :"), 0f); // an all-zero row
            w.set(new NDIndex("9, 17"), 0.9f); // an outlier: its row gets a coarse step, the others do not
            Int8Weight q = Int8Weight.quantize(w, DataType.FLOAT32, "w");
            assertEquals(DataType.INT8, q.codes().getDataType());
            assertEquals(new Shape(37, 1), q.scales().getShape());
            assertEquals(37 * 300 + 37 * 4, q.bytes());
            float[] weights = w.toFloatArray();
            float[] deq = q.dense().toFloatArray();
            byte[] codes = q.codes().toByteArray();
            float[] scales = q.scales().toFloatArray();
            for (int r = 0; r < 37; r++) {
                float absmax = 0;
                int maxCode = 0;
                for (int c = 0; c < 300; c++) {
                    int i = r * 300 + c;
                    absmax = Math.max(absmax, Math.abs(weights[i]));
                    maxCode = Math.max(maxCode, Math.abs(codes[i]));
                    assertTrue(Math.abs(weights[i] - deq[i]) <= scales[r] / 2 * 1.0001 + 1e-12,
                            "row " + r + " col " + c + ": " + weights[i] + " -> " + deq[i] + ", scale " + scales[r]);
                }
                assertEquals(absmax / 127, scales[r], 1e-9, "row " + r + " scale");
                assertEquals(r == 5 ? 0 : 127, maxCode, "row " + r + ": its absmax is code 127");
            }
            assertEquals(0.9f / 127, scales[9], 1e-9);
            assertTrue(scales[8] < scales[9] / 10, "per-row scales: one outlier coarsens only its own row");
            // compute type float16: codes the same, scales and the dequantized weight in float16
            Int8Weight half = Int8Weight.quantize(w, DataType.FLOAT16, "w");
            assertArrayEquals(codes, half.codes().toByteArray());
            assertEquals(DataType.FLOAT16, half.dense().getDataType());
            assertEquals(37 * 300 + 37 * 2, half.bytes());
            // a float16 weight with a row so small that its float16 scale would be subnormal keeps float32 scales
            NDArray tiny = w.duplicate();
            tiny.set(new NDIndex("2, :"), m.randomNormal(0, 1e-4f, new Shape(300), DataType.FLOAT32));
            Int8Weight small = Int8Weight.quantize(tiny, DataType.FLOAT16, "w");
            assertEquals(DataType.FLOAT32, small.scales().getDataType());
            assertEquals(DataType.FLOAT16, small.dense().getDataType());
            assertEquals(37 * 300 + 37 * 4, small.bytes());
            float[] tinyRow = tiny.get(2).toFloatArray();
            float[] tinyDeq = small.dense().get(2).toType(DataType.FLOAT32, false).toFloatArray();
            float step = small.scales().getFloat(2, 0);
            for (int c = 0; c < 300; c++) {
                // half a step, plus float16's own rounding of the value (subnormal below 6.1e-5: spacing 6e-8)
                assertEquals(tinyRow[c], tinyDeq[c], step / 2 * 1.0001 + 6e-8, "tiny row col " + c);
            }
            // plus() requantizes the dequantized weight plus the delta
            NDArray delta = m.randomNormal(0, 0.001f, new Shape(37, 300), DataType.FLOAT32);
            float[] sum = q.dense().add(delta).toFloatArray();
            float[] requantized = q.plus(delta).dense().toFloatArray();
            for (int i = 0; i < sum.length; i++) {
                assertEquals(sum[i], requantized[i], 0.9f / 127 / 2 * 1.0001);
            }
            assertArrayEquals(deq, q.dense().toFloatArray(), "plus() leaves the weight as it was");
            assertArrayEquals(tinyDeq, small.plus(delta.mul(0)).dense().get(2).toType(DataType.FLOAT32, false)
                    .toFloatArray(), 1e-9f, "float32 scales of a float16 weight survive plus() too");
            assertEquals(DataType.FLOAT32, small.scales().getDataType());
            w.set(new NDIndex("3, 4"), Float.NaN);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Int8Weight.quantize(w, DataType.FLOAT32, "model.layers.0.mlp.up_proj.weight"));
            assertTrue(e.getMessage().contains("model.layers.0.mlp.up_proj.weight: has non-finite values"),
                    e.getMessage());
        }
    }

    /** The int8 model is a float model of the dequantized weights: the same logits to float32 rounding. */
    @Test
    void anInt8ModelComputesWhatItsDequantizedWeightsCompute() throws Exception {
        List<int[]> seqs = midSequences();
        Path dequantized = tmp.resolve("dequantized");
        float[] q;
        try (DecoderClassifier model = DecoderClassifier.load(mid, int8())) {
            assertEquals(Quantization.INT8, model.quantization());
            q = logits(model, seqs);
            try (NDManager scope = Engines.newManager()) {
                java.util.Set<String> projections = new java.util.HashSet<>();
                model.decoder().projections().forEach(p -> projections.add(p.path() + ".weight"));
                List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
                for (Map.Entry<String, NDArray> e : model.decoder().tensors().entrySet()) {
                    if (projections.contains(e.getKey())) {
                        e.getValue().attach(scope); // a dequantized copy (the others are the model's own)
                    }
                    tensors.add(SafetensorsWriter.Tensor.of(e.getKey(), e.getValue()));
                }
                model.head().parameters().forEach((k, v) -> tensors.add(SafetensorsWriter.Tensor.of("score." + k, v)));
                HfCheckpoint.write(dequantized, midConfig::toJson, DType.F32, 1, tensors);
            }
        }
        try (DecoderClassifier model = DecoderClassifier.load(dequantized, cpu())) {
            float[] f = logits(model, seqs);
            assertTrue(maxDiff(f, q) < 1e-5, "int8 vs its dequantized float32 weights: " + maxDiff(f, q));
        }
    }

    @Test
    void midSizeModelLogitsStayWithinTheBoundAndWeightsTakeAQuarterOfFloat32() throws Exception {
        List<int[]> seqs = midSequences();
        float[] f32;
        try (DecoderClassifier model = DecoderClassifier.load(mid, cpu())) {
            f32 = logits(model, seqs);
        }
        List<String> log = new ArrayList<>();
        try (DecoderClassifier model = DecoderClassifier.load(mid, int8().log(log::add))) {
            assertWithinBound(f32, logits(model, seqs), "mid-size llama, packed");
            long stored = 0;
            long dense = 0;
            for (LoraLinear p : model.decoder().projections()) {
                assertTrue(p.base().quantized(), p.path());
                stored += p.base().bytes();
                dense += p.outFeatures() * p.inFeatures() * 4;
            }
            double ratio = stored / (double) dense;
            assertTrue(ratio > 0.25 && ratio < 0.26, "int8 + float32 scales vs float32: " + ratio);
            assertEquals(model.memoryPlan(1024, 128).totalWeightBytes(), new MemoryPlan(midConfig,
                    DataType.FLOAT32, model.stages(), 1024, 128, 0, Quantization.INT8).totalWeightBytes());
            assertTrue(log.stream().anyMatch(l -> l.startsWith("int8: 28 projections quantized per output channel")),
                    log.toString());
            // embedding, norms and head stay float32
            assertEquals(DataType.FLOAT32, model.decoder().tensors().get("model.embed_tokens.weight").getDataType());
        }
        try (DecoderClassifier padded = DecoderClassifier.load(mid, int8().packed(false))) {
            assertWithinBound(f32, logits(padded, seqs), "mid-size llama, padded");
        }
        try (DecoderClassifier half = DecoderClassifier.load(mid, int8().dtype(DataType.FLOAT16))) {
            assertWithinBound(f32, logits(half, seqs), "mid-size llama, int8 computing in float16");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma2-tiny", "llama3-tiny", "qwen2-tiny"})
    void fixturesStayWithinTheBoundWithAndWithoutTheirAdapter(String fixture) throws Exception {
        Path dir = SharedFixture.dir(fixture);
        List<SharedFixture.Case> cases = SharedFixture.cases(dir);
        List<int[]> seqs = cases.stream().map(SharedFixture.Case::ids).toList();
        float[] base = flat(cases, false);
        float[] adapted = flat(cases, true);
        try (DecoderClassifier model = DecoderClassifier.load(dir, int8())) {
            assertWithinBound(base, logits(model, seqs), fixture + " base");
        }
        List<String> log = new ArrayList<>();
        float[] merged;
        try (DecoderClassifier model = DecoderClassifier.load(dir, int8().log(log::add)
                .adapter(dir.resolve("adapter"), true).baseHead(true))) {
            merged = logits(model, seqs);
            assertWithinBound(adapted, merged, fixture + " adapter merged before quantizing");
            assertFalse(model.adapters().attached());
            int n = model.decoder().projections().size();
            assertTrue(log.stream().anyMatch(l -> l.endsWith("merged into " + n + " of them before quantizing")),
                    log.toString());
        }
        try (DecoderClassifier model = DecoderClassifier.load(dir, int8().adapter(dir.resolve("adapter"), false).baseHead(true))) {
            float[] separate = logits(model, seqs);
            assertWithinBound(adapted, separate, fixture + " adapter separate over int8");
            // merged after loading: W + BA requantized (rounded twice), still within the bound
            model.mergeAdapters();
            assertWithinBound(adapted, logits(model, seqs), fixture + " adapter merged after loading");
        }
    }

    private static float[] flat(List<SharedFixture.Case> cases, boolean adapter) {
        float[] out = new float[cases.size() * 3];
        for (int i = 0; i < cases.size(); i++) {
            System.arraycopy(adapter ? cases.get(i).logitsWithAdapter() : cases.get(i).logits(), 0, out, i * 3, 3);
        }
        return out;
    }

    /**
     * A float32 checkpoint on the CPU is a read-only view of its file: merging an adapter before quantizing must
     * write into a new array, never into the view. The int8 model with the adapter merged follows the float32 one.
     */
    @Test
    void anAdapterMergesIntoAFloat32CheckpointMappedReadOnly() throws Exception {
        Path f32 = TinyCheckpoints.write(tmp.resolve("mid-f32"), midConfig, DType.F32, 1, 5);
        Path adapter = tmp.resolve("mid-adapter");
        try (DecoderClassifier model = DecoderClassifier.load(f32, cpu().lora(LoraConfig.of(4, 8, 0.0)))) {
            LoraAdapterTest.perturb(model, 3);
            model.saveAdapter(adapter);
        }
        List<int[]> seqs = midSequences();
        float[] want;
        try (DecoderClassifier model = DecoderClassifier.load(f32, cpu().adapter(adapter, true))) {
            want = logits(model, seqs);
        }
        List<String> log = new ArrayList<>();
        try (DecoderClassifier model = DecoderClassifier.load(f32, int8().log(log::add).adapter(adapter, true))) {
            assertWithinBound(want, logits(model, seqs), "f32 checkpoint, adapter merged before quantizing");
            assertTrue(log.stream().anyMatch(l -> l.endsWith("merged into 28 of them before quantizing")),
                    log.toString());
        }
        try (DecoderClassifier model = DecoderClassifier.load(f32, cpu())) {
            try (DecoderClassifier plain = DecoderClassifier.load(f32, cpu().adapter(adapter, true))) {
                assertTrue(maxDiff(want, logits(plain, seqs)) == 0, "the file is as it was");
            }
            assertTrue(maxDiff(want, logits(model, seqs)) > 0, "the adapter changes the logits");
        }
    }

    /** LoRA over the frozen int8 base: gradients reach A, B and the head (close to float32's), never the codes. */
    @Test
    void loraTrainsOverAFrozenInt8Base() throws Exception {
        List<int[]> seqs = midSequences();
        long[] labels = {0, 1, 2, 1};
        LoraConfig lora = LoraConfig.of(4, 8, 0.0);
        Map<String, float[]> reference = new java.util.HashMap<>();
        for (boolean quantized : new boolean[] {false, true}) {
            try (DecoderClassifier model = DecoderClassifier.load(mid, (quantized ? int8() : cpu()).lora(lora)
                    .freshHead(true)); NDManager scope = Engines.newManager()) {
                LoraAdapterTest.perturb(model, 11); // B away from zero, so every gradient is informative
                LoraLinear q = model.decoder().layers().get(1).projection("q_proj");
                byte[] codesBefore = quantized ? ((Int8Weight) q.base()).codes().toByteArray() : null;
                try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
                    NDArray out = model.logits(scope, seqs, true);
                    NDArray loss = out.logSoftmax(-1).get(new NDIndex("{}, {}", scope.arange(labels.length)
                            .toType(DataType.INT64, false), scope.create(labels))).mean().neg();
                    c.backward(loss);
                }
                for (Map.Entry<String, NDArray> e : model.trainable().entrySet()) {
                    float[] g = e.getValue().getGradient().toFloatArray();
                    assertTrue(maxAbs(g) > 0 && Double.isFinite(maxAbs(g)), e.getKey() + " has a gradient");
                    if (!quantized) {
                        reference.put(e.getKey(), g);
                    } else {
                        float[] want = reference.get(e.getKey());
                        assertTrue(maxDiff(want, g) <= 0.2 * maxAbs(want), e.getKey() + ": int8 gradient off by "
                                + maxDiff(want, g) + " of " + maxAbs(want));
                    }
                }
                if (quantized) {
                    Int8Weight base = (Int8Weight) q.base();
                    assertFalse(base.codes().hasGradient() || base.scales().hasGradient(), "the int8 base is frozen");
                    assertArrayEquals(codesBefore, base.codes().toByteArray());
                    assertEquals(DataType.FLOAT32, q.loraA().getDataType());
                    // saved as a plain PEFT adapter, which loads back onto the int8 base unchanged
                    Path saved = tmp.resolve("int8-trained");
                    model.saveAdapter(saved);
                    float[] before = logits(model, seqs);
                    try (DecoderClassifier again = DecoderClassifier.load(mid, int8().adapter(saved, false))) {
                        assertTrue(maxDiff(before, logits(again, seqs)) < 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void pissaOverInt8StartsWhereTheModelWas() throws Exception {
        List<int[]> seqs = midSequences();
        try (DecoderClassifier model = DecoderClassifier.load(mid, int8())) {
            float[] before = logits(model, seqs);
            model.addLora(LoraConfig.of(4, 8, 0.0).withInit(LoraConfig.Init.PISSA), 1);
            assertTrue(model.decoder().projections().get(0).base().quantized(), "the residual is int8 again");
            // the residual is rounded once more, so the start moves by about one more quantization error
            assertTrue(maxDiff(before, logits(model, seqs)) <= RELATIVE_BOUND * maxAbs(before));
        }
    }

    @Test
    void fullFineTuningAndCheckpointsOfAnInt8ModelAreRefused() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DecoderClassifier.load(mid, int8().fullFineTune(true)));
        assertTrue(e.getMessage().contains("int8 weights are frozen"), e.getMessage());
        try (DecoderClassifier model = DecoderClassifier.load(mid, int8())) {
            IllegalStateException s = assertThrows(IllegalStateException.class,
                    () -> model.saveCheckpoint(tmp.resolve("no"), DType.F16, 1));
            assertTrue(s.getMessage().contains("save its adapter"), s.getMessage());
        }
        assertEquals(Quantization.INT8, Quantization.parse("INT8", "x"));
        assertEquals(Quantization.NONE, Quantization.parse(null, "x"));
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
                () -> Quantization.parse("int4", "inference.quantize"));
        assertEquals("inference.quantize must be none or int8, got 'int4'", p.getMessage());
    }
}
