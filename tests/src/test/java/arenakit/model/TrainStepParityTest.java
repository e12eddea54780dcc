package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.PeftAdapter;
import arenakit.util.Engines;
import arenakit.util.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The trainer's backward-pass target: loss and every LoRA A/B and score.weight gradient of one step on each shared
 * fixture (its labels, no dropout) against PyTorch + PEFT, 1e-4 relative to each tensor's max |grad|.
 */
class TrainStepParityTest {

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> fixturesAndLayouts() {
        return java.util.Arrays.stream(SharedFixture.NAMES).flatMap(f -> java.util.stream.Stream.of(
                org.junit.jupiter.params.provider.Arguments.of(f, true),
                org.junit.jupiter.params.provider.Arguments.of(f, false)));
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}, packed={1}")
    @org.junit.jupiter.params.provider.MethodSource("fixturesAndLayouts")
    void lossAndGradientsMatchPeft(String fixture, boolean packed) throws Exception {
        Path dir = SharedFixture.dir(fixture);
        List<int[]> sequences = SharedFixture.cases(dir).stream().map(SharedFixture.Case::ids).toList();
        var expected = Json.MAPPER.readTree(dir.resolve("expected_train_step.json").toFile());
        int[] labels = SharedFixture.ints(expected.get("labels"));
        SafetensorsFile grads = SafetensorsFile.open(dir.resolve("adapter/expected_grads.safetensors"));

        try (DecoderClassifier model = DecoderClassifier.load(dir,
                FixtureParityTest.options().packed(packed).adapter(dir.resolve("adapter"), false).baseHead(true));
                NDManager scope = Engines.newManager()) {
            Map<String, NDArray> trainable = model.trainable();
            assertEquals(grads.entries().size(), trainable.size(), "LoRA A/B of 7 modules x every layer + score");
            float loss;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.logits(scope, sequences, true);
                NDArray lossArray = logits.logSoftmax(-1)
                        .get(new ai.djl.ndarray.index.NDIndex("{}, {}", scope.arange(labels.length).toType(
                                ai.djl.ndarray.types.DataType.INT64, false), scope.create(labels).toType(
                                ai.djl.ndarray.types.DataType.INT64, false)))
                        .mean().neg();
                loss = lossArray.getFloat();
                collector.backward(lossArray);
            }
            assertEquals(expected.get("loss").asDouble(), loss, 1e-5, "loss");
            for (String key : grads.entries().keySet()) {
                String ours = key.equals("score.weight") ? PeftAdapter.PREFIX + key : key;
                float[] want = grads.load(key, scope, ai.djl.ndarray.types.DataType.FLOAT32, true).toFloatArray();
                float[] got = trainable.get(ours).getGradient().toFloatArray();
                double maxAbs = 0;
                double maxDiff = 0;
                for (int i = 0; i < want.length; i++) {
                    maxAbs = Math.max(maxAbs, Math.abs(want[i]));
                    maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
                }
                assertTrue(maxDiff <= 1e-4 * maxAbs, key + ": max |diff| " + maxDiff + " vs max |grad| " + maxAbs);
            }
            assertFalse(model.decoder().layers().get(0).projection("q_proj").weight().hasGradient(), "base weights stay frozen");
        }
    }
}
