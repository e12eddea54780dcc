package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import arenakit.util.Engines;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Forward parity with transformers' Gemma2ForSequenceClassification on the shared fixture (fp32, 1e-4). */
class Gemma2ParityTest {
    private static final double TOLERANCE = 1e-4;

    @Test
    void baseModelMatchesTransformersOneByOneAndBatchedPackedOrPadded() throws Exception {
        Path dir = SharedFixture.gemma2Tiny();
        List<SharedFixture.Case> cases = SharedFixture.cases(dir);
        try (DecoderClassifier padded = DecoderClassifier.load(dir, options().packed(false))) {
            check(padded, cases, SharedFixture.Case::logits);
        }
        try (DecoderClassifier model = DecoderClassifier.load(dir, options().packed(true))) {
            check(model, cases, SharedFixture.Case::logits);
            try (NDManager scope = Engines.newManager()) {
                NDArray hidden = model.hiddenStates(scope, cases.stream().map(SharedFixture.Case::ids).toList());
                for (int i = 0; i < cases.size(); i++) {
                    SharedFixture.Case c = cases.get(i);
                    NDArray rows = hidden.get(i).get(":" + c.ids().length);
                    assertClose(c.lastHidden(), rows.get(c.ids().length - 1).toFloatArray(), "last_hidden " + i);
                    assertClose(c.hiddenMean(), rows.mean(new int[] {0}).toFloatArray(), "hidden_mean " + i);
                }
            }
        }
    }

    @Test
    void adapterMergedAndSeparateMatchTransformers() throws Exception {
        Path dir = SharedFixture.gemma2Tiny();
        List<SharedFixture.Case> cases = SharedFixture.cases(dir);
        for (boolean merge : new boolean[] {true, false}) {
            try (DecoderClassifier model = DecoderClassifier.load(dir, options().adapter(dir.resolve("adapter"), merge))) {
                check(model, cases, SharedFixture.Case::logitsWithAdapter);
            }
        }
    }

    @Test
    void twoStagesOnTheCpuGiveTheSameLogits() throws Exception {
        Path dir = SharedFixture.gemma2Tiny();
        List<SharedFixture.Case> cases = SharedFixture.cases(dir);
        DecoderClassifier.Options o = options().placement(Placement.split(new int[] {1}, Device.cpu(), Device.cpu()));
        try (DecoderClassifier model = DecoderClassifier.load(dir, o)) {
            check(model, cases, SharedFixture.Case::logits);
        }
    }

    static DecoderClassifier.Options options() {
        return DecoderClassifier.Options.defaults().placement(Placement.single(Device.cpu()));
    }

    private static void check(DecoderClassifier model, List<SharedFixture.Case> cases,
            Function<SharedFixture.Case, float[]> expected) {
        try (NDManager scope = Engines.newManager()) {
            for (SharedFixture.Case c : cases) {
                float[] got = model.logits(scope, List.of(c.ids()), false).toFloatArray();
                assertClose(expected.apply(c), got, "alone, " + c.ids().length + " tokens");
            }
            float[] batched = model.logits(scope, cases.stream().map(SharedFixture.Case::ids).toList(), false)
                    .toFloatArray();
            for (int i = 0; i < cases.size(); i++) {
                float[] row = java.util.Arrays.copyOfRange(batched, i * 3, i * 3 + 3);
                assertClose(expected.apply(cases.get(i)), row, "batched, case " + i);
            }
        }
    }

    static void assertClose(float[] expected, float[] got, String what) {
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - got[i]));
        }
        assertTrue(expected.length == got.length && max <= TOLERANCE, what + ": max |diff| " + max);
    }
}
