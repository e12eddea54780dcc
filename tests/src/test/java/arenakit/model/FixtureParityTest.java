package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import arenakit.util.Engines;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Forward parity with transformers' {@code *ForSequenceClassification} on the shared fixtures (Gemma-2; Llama-3.1
 * with llama3 RoPE scaling and a 300-token case; Qwen2 with q/k/v biases): fp32, 1e-4.
 */
class FixtureParityTest {
    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma2-tiny", "llama3-tiny", "qwen2-tiny"})
    void baseModelMatchesTransformersOneByOneAndBatchedPackedOrPadded(String fixture) throws Exception {
        Path dir = SharedFixture.dir(fixture);
        List<SharedFixture.Case> cases = SharedFixture.cases(dir);
        try (DecoderClassifier padded = DecoderClassifier.load(dir, options().packed(false))) {
            check(padded, cases, SharedFixture.Case::logits);
        }
        try (DecoderClassifier model = DecoderClassifier.load(dir, options().packed(true))) {
            assertEquals(fixture.substring(0, fixture.indexOf('-')).replace("llama3", "llama"),
                    model.config().modelType());
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

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma2-tiny", "llama3-tiny", "qwen2-tiny"})
    void adapterMergedAndSeparateMatchTransformers(String fixture) throws Exception {
        Path dir = SharedFixture.dir(fixture);
        List<SharedFixture.Case> cases = SharedFixture.cases(dir);
        for (boolean merge : new boolean[] {true, false}) {
            for (boolean packed : new boolean[] {true, false}) {
                try (DecoderClassifier model = DecoderClassifier.load(dir, options().packed(packed)
                        .adapter(dir.resolve("adapter"), merge).baseHead(true))) {
                    check(model, cases, SharedFixture.Case::logitsWithAdapter);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma2-tiny", "llama3-tiny", "qwen2-tiny"})
    void twoStagesOnTheCpuGiveTheSameLogits(String fixture) throws Exception {
        Path dir = SharedFixture.dir(fixture);
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
                assertClose(expected.apply(cases.get(i)), row, (model.packed() ? "packed" : "padded")
                        + " batch, case " + i);
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
