package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.PeftAdapter;
import arenakit.model.tensor.TorchScalar;
import arenakit.train.TrainDevices;
import arenakit.util.Engines;
import arenakit.util.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The trainer's backward-pass target: loss and every LoRA A/B and score.weight gradient of one step on each shared
 * fixture (its labels, no dropout) against PyTorch + PEFT, 1e-4 relative to each tensor's max |grad|: as plain
 * {@code logits} under a GradientCollector, through {@code backward} with and without activation checkpointing,
 * with the layers split over two CPU "devices", and data parallel over two replicas (a micro-batch per case).
 */
class TrainStepParityTest {

    /** How the step runs. */
    enum Way { LOGITS, BACKWARD, CHECKPOINTING, PIPELINE, DATA_PARALLEL, CHECKPOINTING_DATA_PARALLEL }

    static Stream<Arguments> fixturesAndWays() {
        List<Arguments> out = new ArrayList<>();
        for (String f : SharedFixture.NAMES) {
            for (Way w : Way.values()) {
                out.add(Arguments.of(f, true, w));
                if (w == Way.LOGITS || w == Way.CHECKPOINTING) {
                    out.add(Arguments.of(f, false, w));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, packed={1}, {2}")
    @MethodSource("fixturesAndWays")
    void lossAndGradientsMatchPeft(String fixture, boolean packed, Way way) throws Exception {
        Path dir = SharedFixture.dir(fixture);
        List<int[]> sequences = SharedFixture.cases(dir).stream().map(SharedFixture.Case::ids).toList();
        var expected = Json.MAPPER.readTree(dir.resolve("expected_train_step.json").toFile());
        int[] labels = SharedFixture.ints(expected.get("labels"));
        SafetensorsFile grads = SafetensorsFile.open(dir.resolve("adapter/expected_grads.safetensors"));
        boolean parallel = way == Way.DATA_PARALLEL || way == Way.CHECKPOINTING_DATA_PARALLEL;
        boolean ckpt = way == Way.CHECKPOINTING || way == Way.CHECKPOINTING_DATA_PARALLEL;
        List<DecoderClassifier> models = new ArrayList<>();
        try (NDManager scope = Engines.newManager()) {
            for (int r = 0; r < (parallel ? 2 : 1); r++) {
                models.add(DecoderClassifier.load(dir, FixtureParityTest.options().packed(packed)
                        .placement(way == Way.PIPELINE ? Placement.split(Device.cpu(), Device.cpu())
                                : Placement.single(Device.cpu()))
                        .adapter(dir.resolve("adapter"), false).baseHead(true).gradientCheckpointing(ckpt)));
            }
            DecoderClassifier model = models.get(0);
            Map<String, NDArray> trainable = model.trainable();
            assertEquals(grads.entries().size(), trainable.size(), "LoRA A/B of 7 modules x every layer + score");
            float loss;
            if (way == Way.LOGITS) {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray lossArray = nll(model.logits(scope, sequences, true), labels, 0, labels.length);
                    loss = lossArray.getFloat();
                    collector.backward(lossArray);
                }
            } else {
                List<SequenceClassifier.TrainBatch> work = new ArrayList<>();
                if (parallel) { // one case per micro-batch, spread over the replicas
                    for (int i = 0; i < sequences.size(); i++) {
                        int at = i;
                        work.add(new SequenceClassifier.TrainBatch(List.of(sequences.get(i)),
                                l -> nll(l, labels, at, labels.length), 1, 0));
                    }
                } else {
                    work.add(new SequenceClassifier.TrainBatch(sequences, l -> nll(l, labels, 0, labels.length), 1,
                            0));
                }
                List<SequenceClassifier> replicas = new ArrayList<>(models);
                try (TrainDevices devices = parallel ? TrainDevices.dataParallel(replicas, List.of("cpu", "cpu"))
                        : TrainDevices.single(model)) {
                    loss = (float) devices.backward(work);
                }
            }
            assertEquals(expected.get("loss").asDouble(), loss, 1e-5, "loss");
            for (String key : grads.entries().keySet()) {
                String ours = key.equals("score.weight") ? PeftAdapter.PREFIX + key : key;
                float[] want = grads.load(key, scope, DataType.FLOAT32, true).toFloatArray();
                float[] got = trainable.get(ours).getGradient().toFloatArray();
                double maxAbs = 0;
                double maxDiff = 0;
                for (int i = 0; i < want.length; i++) {
                    maxAbs = Math.max(maxAbs, Math.abs(want[i]));
                    maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
                }
                assertTrue(maxDiff <= 1e-4 * maxAbs, key + ": max |diff| " + maxDiff + " vs max |grad| " + maxAbs);
            }
            assertFalse(model.decoder().layers().get(0).projection("q_proj").weight().hasGradient(),
                    "base weights stay frozen");
        } finally {
            models.forEach(DecoderClassifier::close);
        }
    }

    /** The summed negative log-likelihood of {@code logits}' rows at labels[from...], over {@code count} cases. */
    private static NDArray nll(NDArray logits, int[] labels, int from, int count) {
        NDManager m = logits.getManager();
        int rows = (int) logits.getShape().get(0);
        long[] r = new long[rows];
        long[] l = new long[rows];
        for (int i = 0; i < rows; i++) {
            r[i] = i;
            l[i] = labels[from + i];
        }
        NDArray picked = logits.logSoftmax(-1).get(new NDIndex("{}, {}", m.create(r).duplicate(),
                m.create(l).duplicate()));
        return picked.sum().neg().div(TorchScalar.of(picked, count));
    }
}
