package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Conversation;
import arenakit.model.DecoderClassifier;
import arenakit.model.lora.LoraConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A tiny Llama and a tiny Qwen2 train through the Trainer like Gemma-2, and their PEFT adapters reload exactly. */
class FamiliesTrainingTest {
    @TempDir
    Path dir;

    private static TrainConfig config(int epochs) {
        return new TrainConfig(TrainConfig.KIND, "families", new TrainConfig.Model("linear",
                new TrainConfig.Lora(4, 8, 0, LoraConfig.ALL_LINEAR, false), null, "float32"),
                new TrainConfig.Data(List.of("train"), new TrainConfig.Text("rounds", "proportional", 96), null, "none",
                        true),
                new OptimizerConfig(5e-3, 0.01, List.of(0.9, 0.999), 1e-8, 1.0), new ScheduleConfig(0.1, 0),
                new TrainConfig.Loader(8, 512), new TrainConfig.Train(7, epochs, 0, 0, 0, false), null);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "qwen2"})
    void loraTrainingLowersTheLossAndTheSavedAdapterPredictsTheSame(String modelType) throws Exception {
        try (TinySetup setup = new TinySetup(dir, 16, modelType)) {
            List<Example> rows = setup.examples().subList(0, 8);
            List<Conversation> holdout = rows.stream().map(Example::row).toList();
            Path adapter = dir.resolve("stage/adapter");
            double before;
            double after;
            double[] trainedLoss;
            try (DecoderClassifier model = setup.lora(0)) {
                assertEquals(modelType, model.config().modelType());
                Trainer trainer = new Trainer(model, config(20), setup.encoder::encode, Trainer::balanced,
                        (m, d) -> m.saveAdapter(d.resolve("adapter")), s -> {});
                before = trainer.evaluate(holdout)[0];
                Trainer.Result r = trainer.fit(rows, holdout, dir.resolve("stage"), 0);
                assertEquals(20, r.steps());
                after = r.valLogLoss();
                trainedLoss = trainer.evaluate(holdout);
                model.saveAdapter(adapter);
            }
            assertTrue(after < before - 0.2, modelType + ": held-out loss " + before + " -> " + after);
            try (DecoderClassifier reloaded = DecoderClassifier.load(setup.checkpoint, DecoderClassifier.Options
                    .defaults().log(s -> {}).adapter(adapter, true))) {
                Trainer again = new Trainer(reloaded, config(1), setup.encoder::encode, Trainer::balanced,
                        (m, d) -> { }, s -> {});
                assertArrayEquals(trainedLoss, again.evaluate(holdout), 1e-5, "the reloaded adapter predicts the same");
            }
        }
    }
}
