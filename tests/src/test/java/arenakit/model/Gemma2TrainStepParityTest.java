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
 * The trainer's backward-pass target: loss and every LoRA A/B and score.weight gradient of one step on the shared
 * fixture (labels [0, 1, 2, 0], no dropout) against PyTorch + PEFT, 1e-4 relative to each tensor's max |grad|.
 */
class Gemma2TrainStepParityTest {

    @org.junit.jupiter.params.ParameterizedTest(name = "packed={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void lossAndGradientsMatchPeft(boolean packed) throws Exception {
        Path dir = SharedFixture.gemma2Tiny();
        List<int[]> sequences = SharedFixture.cases(dir).stream().map(SharedFixture.Case::ids).toList();
        var expected = Json.MAPPER.readTree(dir.resolve("expected_train_step.json").toFile());
        int[] labels = SharedFixture.ints(expected.get("labels"));
        SafetensorsFile grads = SafetensorsFile.open(dir.resolve("adapter/expected_grads.safetensors"));

        try (DecoderClassifier model = DecoderClassifier.load(dir,
                Gemma2ParityTest.options().packed(packed).adapter(dir.resolve("adapter"), false));
                NDManager scope = Engines.newManager()) {
            Map<String, NDArray> trainable = model.trainable();
            assertEquals(grads.entries().size(), trainable.size(), "LoRA A/B of 7 modules x 4 layers + score");
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
