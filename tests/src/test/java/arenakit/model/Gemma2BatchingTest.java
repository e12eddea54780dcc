package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.layers.TokenBatch;
import arenakit.util.Engines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Padding must never leak: a sequence's logits are the same alone, in any batch, and over any stage split. */
class Gemma2BatchingTest {
    private static final Gemma2Config CONFIG = TinyCheckpoints.testConfig(256);

    @TempDir
    static Path tmp;
    static Path dir;

    @BeforeAll
    static void writeModel() throws Exception {
        dir = TinyCheckpoints.write(tmp.resolve("tiny"), CONFIG, DType.BF16, 2, 11);
    }

    static List<int[]> sequences(long seed, int... lengths) {
        Random r = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int len : lengths) {
            int[] ids = new int[len];
            ids[0] = CONFIG.bosTokenId();
            for (int i = 1; i < len; i++) {
                ids[i] = 3 + r.nextInt(CONFIG.vocabSize() - 3);
            }
            out.add(ids);
        }
        return out;
    }

    @Test
    void paddedAndPackedBatchesGiveEachSequenceItsSingleLogits() throws Exception {
        // lengths around and beyond the sliding window (8), the longest last and first
        List<int[]> seqs = sequences(1, 3, 30, 9, 1, 17, 8);
        try (DecoderClassifier model = DecoderClassifier.load(dir, CheckpointLoadingTest.options());
                NDManager scope = Engines.newManager()) {
            TokenBatch padded = TokenBatch.padded(seqs, CONFIG.padTokenId());
            TokenBatch packed = TokenBatch.packed(seqs);
            for (TokenBatch batch : List.of(padded, packed)) {
                NDArray hidden = model.layers(scope, model.embed(scope, batch, false), batch, 0, 4, false);
                float[] batched = model.classify(scope, hidden, batch, false).toFloatArray();
                for (int i = 0; i < seqs.size(); i++) {
                    float[] alone = model.logits(scope, List.of(seqs.get(i)), false).toFloatArray();
                    for (int k = 0; k < 3; k++) {
                        assertEquals(alone[k], batched[i * 3 + k], 1e-5, (batch.packed() ? "packed" : "padded")
                                + ", sequence " + i + " (" + seqs.get(i).length + " tokens)");
                    }
                }
                assertTrue(Math.abs(batched[0] - batched[3]) > 1e-6, "different sequences give different logits");
            }
        }
    }

    @Test
    void stagesRunSeparatelyAndOverTwoCpuDevicesGiveTheSameLogits() throws Exception {
        List<int[]> seqs = sequences(2, 12, 5, 20);
        DecoderClassifier.Options split = CheckpointLoadingTest.options()
                .placement(Placement.split(Device.cpu(), Device.cpu()));
        try (DecoderClassifier one = DecoderClassifier.load(dir, CheckpointLoadingTest.options());
                DecoderClassifier two = DecoderClassifier.load(dir, split);
                NDManager scope = Engines.newManager()) {
            assertEquals(List.of(new Placement.Stage(Device.cpu(), 0, 2), new Placement.Stage(Device.cpu(), 2, 4)),
                    two.stages());
            float[] whole = one.logits(scope, seqs, false).toFloatArray();
            TokenBatch batch = two.batch(seqs);
            NDArray h0 = two.embed(scope, batch, false);
            NDArray h1 = two.layers(scope, h0, batch, 0, 2, false);
            NDArray h2 = two.layers(scope, h1, batch, 2, 4, false);
            float[] staged = two.classify(scope, h2, batch, false).toFloatArray();
            for (int i = 0; i < whole.length; i++) {
                assertEquals(whole[i], staged[i], 1e-6);
            }
        }
    }

    @Test
    void twoThreadsPipelineMicroBatchesOverTheTwoStages() throws Exception {
        List<List<int[]>> microBatches = List.of(sequences(7, 10, 3), sequences(8, 21, 6, 9), sequences(9, 2));
        DecoderClassifier.Options split = CheckpointLoadingTest.options()
                .placement(Placement.split(Device.cpu(), Device.cpu()));
        try (DecoderClassifier model = DecoderClassifier.load(dir, split); NDManager base = Engines.newManager()) {
            List<float[]> expected = new ArrayList<>();
            for (List<int[]> mb : microBatches) {
                try (NDManager scope = base.newSubManager()) {
                    expected.add(model.logits(scope, mb, false).toFloatArray());
                }
            }
            Placement.Stage first = model.stages().get(0);
            Placement.Stage second = model.stages().get(1);
            var handoff = new java.util.concurrent.ArrayBlockingQueue<Object[]>(1);
            var results = new java.util.concurrent.ConcurrentHashMap<Integer, float[]>();
            Thread front = new Thread(() -> {
                for (int i = 0; i < microBatches.size(); i++) {
                    NDManager scope = base.newSubManager(); // closed by the back stage
                    TokenBatch batch = model.batch(microBatches.get(i));
                    NDArray h = model.layers(scope, model.embed(scope, batch, false), batch, first.from(), first.to(), false);
                    try {
                        handoff.put(new Object[] {i, scope, batch, h});
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            Thread back = new Thread(() -> {
                for (int n = 0; n < microBatches.size(); n++) {
                    try {
                        Object[] item = handoff.take();
                        try (NDManager scope = (NDManager) item[1]) {
                            TokenBatch batch = (TokenBatch) item[2];
                            NDArray h = model.layers(scope, (NDArray) item[3], batch, second.from(), second.to(), false);
                            results.put((Integer) item[0], model.classify(scope, h, batch, false).toFloatArray());
                        }
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            front.start();
            back.start();
            front.join(60_000);
            back.join(60_000);
            for (int i = 0; i < microBatches.size(); i++) {
                float[] want = expected.get(i);
                float[] got = results.get(i);
                for (int k = 0; k < want.length; k++) {
                    assertEquals(want[k], got[k], 1e-6, "micro-batch " + i);
                }
            }
        }
    }

    @Test
    void longLoopsLeakNoArrays() throws Exception {
        List<int[]> seqs = sequences(3, 25, 7, 14, 2);
        try (DecoderClassifier model = DecoderClassifier.load(dir, CheckpointLoadingTest.options());
                NDManager base = Engines.newManager()) {
            int weightsBefore = model.decoder().tensors().get("model.embed_tokens.weight").getManager().getManagedArrays().size();
            for (int i = 0; i < 12; i++) {
                try (NDManager scope = base.newSubManager()) {
                    model.logits(scope, seqs, i % 2 == 0);
                    // only the logits and a few index arrays outlive the call: intermediates go layer by layer
                    assertTrue(scope.getManagedArrays().size() <= 6, "arrays kept: " + scope.getManagedArrays().size());
                }
            }
            assertEquals(weightsBefore, model.decoder().tensors().get("model.embed_tokens.weight").getManager().getManagedArrays().size());
            assertEquals(0, base.getManagedArrays().size());
        }
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRejected() throws Exception {
        try (DecoderClassifier model = DecoderClassifier.load(dir, CheckpointLoadingTest.options());
                NDManager scope = Engines.newManager()) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> model.logits(scope, List.of(new int[] {2, 5}, new int[] {2, 7, 256}), false));
            assertEquals("sequence 1, position 2: token id 256 is outside the vocabulary [0, 256)", e.getMessage());
        }
    }
}
