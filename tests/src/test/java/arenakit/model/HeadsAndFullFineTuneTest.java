package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.tensor.NoGrad;
import arenakit.util.Engines;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeadsAndFullFineTuneTest {
    private static final Gemma2Config CONFIG = TinyCheckpoints.testConfig(256);

    @TempDir
    static Path tmp;
    static Path base;

    @BeforeAll
    static void writeModel() throws Exception {
        base = TinyCheckpoints.write(tmp.resolve("base"), CONFIG, DType.F32, 1, 8);
    }

    @Test
    void everyHeadGivesThreeLogitsAndDropoutOnlyWhenTraining() throws Exception {
        List<int[]> seqs = Gemma2BatchingTest.sequences(4, 6, 13);
        for (ClassifierHead.Kind kind : ClassifierHead.Kind.values()) {
            try (DecoderClassifier model = DecoderClassifier.load(base, CheckpointLoadingTest.options()
                    .head(kind).freshHead(true)); NDManager scope = Engines.newManager()) {
                assertEquals(kind, model.head().kind());
                NDArray eval = model.logits(scope, seqs, false);
                assertEquals(new ai.djl.ndarray.types.Shape(2, 3), eval.getShape());
                assertTrue(Arrays.equals(eval.toFloatArray(), model.logits(scope, seqs, false).toFloatArray()));
                boolean changes = !Arrays.equals(eval.toFloatArray(), model.logits(scope, seqs, true).toFloatArray());
                assertEquals(kind == ClassifierHead.Kind.DROPOUT_MLP, changes, kind + ": dropout in training only");
            }
        }
    }

    @Test
    void aHeadLayoutTheCheckpointDoesNotHoldNeedsAFreshStart() {
        var e = assertThrows(IllegalArgumentException.class, () -> DecoderClassifier.load(base,
                CheckpointLoadingTest.options().head(ClassifierHead.Kind.MLP3)));
        assertTrue(e.getMessage().contains("holds score.* tensors [weight], not a MLP3 head"), e.getMessage());
    }

    @Test
    void fullFineTuningTrainsEveryWeightAndSavesACheckpoint() throws Exception {
        List<int[]> seqs = Gemma2BatchingTest.sequences(6, 9, 4, 15);
        Path saved = tmp.resolve("full");
        float[] trained;
        try (DecoderClassifier model = DecoderClassifier.load(base, CheckpointLoadingTest.options().fullFineTune(true));
                NDManager scope = Engines.newManager()) {
            Map<String, NDArray> params = model.trainable();
            assertEquals(CONFIG.tensorShapes().size() + 1, params.size());
            float[] before = model.logits(scope, seqs, false).toFloatArray();
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.logits(scope, seqs, true);
                collector.backward(logits.logSoftmax(-1).get(":, 0").mean().neg());
            }
            for (var e : params.entrySet()) {
                assertTrue(e.getValue().getGradient().abs().sum().getFloat() > 0, e.getKey() + " got a gradient");
            }
            try (NoGrad g = NoGrad.enter()) {
                params.values().forEach(p -> p.subi(p.getGradient().mul(0.5f)));
            }
            trained = model.logits(scope, seqs, false).toFloatArray();
            assertFalse(Arrays.equals(before, trained));
            assertTrue(trained[0] > before[0], "one SGD step on class 0 raises its logit");
            model.saveCheckpoint(saved, DType.F32, 2);
            assertThrows(IllegalStateException.class, () -> model.saveAdapter(tmp.resolve("none")));
        }
        try (DecoderClassifier reloaded = DecoderClassifier.load(saved, CheckpointLoadingTest.options());
                NDManager scope = Engines.newManager()) {
            LoraAdapterTest.assertSame(trained, reloaded.logits(scope, seqs, false).toFloatArray(), 1e-5);
        }
    }
}
