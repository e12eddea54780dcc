package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.lora.LoraConfig;
import arenakit.model.lora.LoraLinear;
import arenakit.model.lora.PeftAdapter;
import arenakit.model.tensor.NoGrad;
import arenakit.util.Engines;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA in and out of PEFT's layout: save, reload merged or separate, PiSSA, heads. */
class LoraAdapterTest {
    private static final Gemma2Config CONFIG = TinyCheckpoints.testConfig(256);

    @TempDir
    static Path tmp;
    static Path base;

    @BeforeAll
    static void writeModel() throws Exception {
        base = TinyCheckpoints.write(tmp.resolve("base"), CONFIG, DType.BF16, 1, 21);
    }

    /** Stands in for training: moves every trainable tensor so a round trip has something to carry. */
    static void perturb(DecoderClassifier model, long seed) {
        try (NoGrad g = NoGrad.enter(); NDManager m = Engines.newManager()) {
            m.getEngine().setRandomSeed((int) seed);
            for (NDArray p : model.trainable().values()) {
                p.addi(m.randomNormal(0, 0.05f, p.getShape(), DataType.FLOAT32));
            }
        }
    }

    static float[] logits(DecoderClassifier model) {
        try (NDManager scope = Engines.newManager()) {
            return model.logits(scope, Gemma2BatchingTest.sequences(5, 11, 4, 19), false).toFloatArray();
        }
    }

    static void assertSame(float[] want, float[] got, double tol) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol, "logit " + i);
        }
    }

    @Test
    void savedAdapterReloadsSeparateAndMergedWithPeftKeysAndConfig() throws Exception {
        Path out = tmp.resolve("adapter");
        float[] trained;
        LoraConfig cfg = LoraConfig.of(4, 8, 0.1).withTargets(List.of("q_proj", "v_proj", "down_proj"));
        try (DecoderClassifier model = DecoderClassifier.load(base, CheckpointLoadingTest.options()
                .lora(cfg).head(ClassifierHead.Kind.DROPOUT_MLP).freshHead(true))) {
            Map<String, NDArray> trainable = model.trainable();
            assertEquals(4 * 3 * 2 + 4, trainable.size());
            trainable.values().forEach(p -> assertTrue(p.hasGradient()));
            assertFalse(model.decoder().layers().get(1).projection("q_proj").weight().hasGradient());
            perturb(model, 1);
            trained = logits(model);
            model.saveAdapter(out);
        }
        JsonNode config = Json.MAPPER.readTree(out.resolve(PeftAdapter.CONFIG_FILE).toFile());
        assertEquals("LORA", config.get("peft_type").asText());
        assertEquals("SEQ_CLS", config.get("task_type").asText());
        assertEquals(4, config.get("r").asInt());
        assertEquals(8, config.get("lora_alpha").asInt());
        assertEquals("[\"q_proj\",\"v_proj\",\"down_proj\"]", config.get("target_modules").toString());
        assertEquals("[\"score\"]", config.get("modules_to_save").toString());
        TreeSet<String> keys = new TreeSet<>(SafetensorsFile.open(out.resolve(PeftAdapter.WEIGHTS_FILE)).entries().keySet());
        assertTrue(keys.contains("base_model.model.model.layers.3.mlp.down_proj.lora_B.weight"), keys.toString());
        assertTrue(keys.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), keys.toString());
        assertTrue(keys.containsAll(List.of("base_model.model.score.1.weight", "base_model.model.score.1.bias",
                "base_model.model.score.4.weight", "base_model.model.score.4.bias")), keys.toString());
        assertEquals(28, keys.size());

        for (boolean merge : new boolean[] {false, true}) {
            try (DecoderClassifier reloaded = DecoderClassifier.load(base, CheckpointLoadingTest.options()
                    .adapter(out, merge))) {
                assertEquals(ClassifierHead.Kind.DROPOUT_MLP, reloaded.head().kind());
                assertEquals(merge, reloaded.lora() == null, "merged adapters leave nothing attached");
                assertSame(trained, logits(reloaded), 1e-5);
            }
        }
    }

    @Test
    void pissaStartsWhereTheBaseWasAndSavesAPlainLoraForTheOriginalBase() throws Exception {
        Path out = tmp.resolve("pissa");
        float[] before;
        float[] trained;
        try (DecoderClassifier plain = DecoderClassifier.load(base, CheckpointLoadingTest.options())) {
            before = logits(plain);
        }
        LoraConfig cfg = LoraConfig.of(4, 16, 0).withInit(LoraConfig.Init.PISSA);
        try (DecoderClassifier model = DecoderClassifier.load(base, CheckpointLoadingTest.options().lora(cfg))) {
            assertSame(before, logits(model), 1e-5);
            LoraLinear q = model.decoder().layers().get(0).projection("q_proj");
            assertTrue(q.loraA().abs().sum().getFloat() > 0 && q.loraB().abs().sum().getFloat() > 0,
                    "PiSSA starts from non-zero A and B");
            perturb(model, 2);
            trained = logits(model);
            model.saveAdapter(out);
        }
        JsonNode config = Json.MAPPER.readTree(out.resolve(PeftAdapter.CONFIG_FILE).toFile());
        assertEquals(8, config.get("r").asInt());
        assertEquals(32, config.get("lora_alpha").asInt());
        assertEquals(true, config.get("init_lora_weights").asBoolean());
        try (DecoderClassifier reloaded = DecoderClassifier.load(base, CheckpointLoadingTest.options().adapter(out, false))) {
            assertSame(trained, logits(reloaded), 1e-5);
        }
    }

    /** Attached adapters merge on the fly into a saved checkpoint, in place, or when loaded onto a model later. */
    @Test
    void attachedAdaptersMergeIntoACheckpointAndInPlace() throws Exception {
        Path adapter = tmp.resolve("to-merge");
        Path merged = tmp.resolve("merged");
        float[] trained;
        try (DecoderClassifier model = DecoderClassifier.load(base, CheckpointLoadingTest.options()
                .lora(LoraConfig.of(4, 8, 0)))) {
            perturb(model, 3);
            trained = logits(model);
            model.saveAdapter(adapter);
            model.saveCheckpoint(merged, DType.F32, 1);
            model.mergeAdapters();
            assertEquals(null, model.lora());
            assertSame(trained, logits(model), 1e-5);
        }
        try (DecoderClassifier reloaded = DecoderClassifier.load(merged, CheckpointLoadingTest.options())) {
            assertSame(trained, logits(reloaded), 1e-5);
        }
        try (DecoderClassifier plain = DecoderClassifier.load(base, CheckpointLoadingTest.options())) {
            plain.loadAdapter(adapter, true);
            assertSame(trained, logits(plain), 1e-5);
        }
    }

    @Test
    void adaptersThatDoNotFitAreClearErrors() throws Exception {
        Path out = tmp.resolve("small");
        try (DecoderClassifier model = DecoderClassifier.load(base, CheckpointLoadingTest.options()
                .lora(LoraConfig.of(2, 4, 0)))) {
            model.saveAdapter(out);
        }
        Gemma2Config wider = Gemma2Config.of(256, 96, 128, 4, 4, 2, 24).withSlidingWindow(8);
        Path other = TinyCheckpoints.write(tmp.resolve("wider"), wider, DType.F32, 1, 1);
        var e = assertThrows(java.io.IOException.class,
                () -> DecoderClassifier.load(other, CheckpointLoadingTest.options().adapter(out, true)));
        assertTrue(e.getMessage().contains("has shape [2, 64], expected [2, 96]"), e.getMessage());
    }
}
