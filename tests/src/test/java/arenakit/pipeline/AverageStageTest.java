package arenakit.pipeline;

import static arenakit.pipeline.Setups.edit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.cli.AverageAdaptersCommand;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.lora.PeftAdapter;
import arenakit.train.TrainConfig;
import arenakit.util.Engines;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The averaging stage and command on real trained stages: two seeds of the smoke stage 1 averaged into a stage the
 * submission predicts with; an adapter averaged with itself is itself.
 */
class AverageStageTest {
    @TempDir
    Path dir;

    private static final String SHORT = "\"max_steps\": 12, \"log_every\": 2, \"eval_every\": 6, \"checkpoint_every\": 6";

    private Path setup(String name, String avg) throws Exception {
        String stage1 = ConfigFolder.of("smoke").text("stage1.json").replace(SHORT,
                "\"max_steps\": 4, \"log_every\": 2, \"eval_every\": 0, \"checkpoint_every\": 0");
        return Setups.copy(dir.resolve(name), "smoke",
                edit("stage1.json", SHORT, "\"max_steps\": 4, \"log_every\": 2, \"eval_every\": 0, \"checkpoint_every\": 0"),
                edit("stage1b.json", "", stage1.replace("\"seed\": 42, \"epochs\"", "\"seed\": 43, \"epochs\"")),
                edit("avg.json", "", avg),
                edit("pipeline.json", SetupFaultsTest.smokeLine("pipeline.json", "\"stages\""), "\"stages\": [\"stage1\", \"stage1b\", \"avg\", \"submission\"]"),
                edit("submission.json", SetupFaultsTest.smokeLine("submission.json", "\"models\""), "\"models\": [\"avg\"]"));
    }

    @Test
    void twoTrainedSeedsAverageIntoAStageTheSubmissionPredictsWith() throws Exception {
        Path out = dir.resolve("out");
        List<String> log = new ArrayList<>();
        Path setup = setup("s", "{\"kind\": \"average\", \"description\": null, \"models\": [\"stage1\", "
                + "{\"model\": \"stage1b\", \"weight\": 1}], \"rank\": null}");
        try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), out, log::add)) {
            p.run(null);
        }
        Path avg = out.resolve("avg");
        TrainConfig stage = Json.read(avg.resolve("stage.json"), TrainConfig.class);
        assertEquals(8, stage.model().lora().r(), "the sum of the ranks: exact");
        assertEquals(16, stage.model().lora().alpha(), 1e-9, "alpha / r as the inputs trained with");
        assertTrue(Files.isRegularFile(avg.resolve("encoding.json")) && Files.isRegularFile(avg.resolve("tokenizer.json")));
        JsonNode report = Json.MAPPER.readTree(avg.resolve(AdapterAveraging.REPORT).toFile()).get("report");
        assertTrue(report.get("exact").asBoolean(), report.toString());
        assertTrue(report.get("relative_error").asDouble() < 1e-6, report.toString());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("[avg] averaged 2 adapter(s) (weights [0.5, 0.5]) into "
                + "rank 8")), log.toString());
        List<String> rows = Files.readAllLines(out.resolve("submission.csv"));
        assertEquals(41, rows.size(), "a prediction for each of the sample's 40 test rows");

        // run again: the average is done and its inputs unchanged
        log.clear();
        try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), out, log::add)) {
            p.runStage("avg", 0);
        }
        assertTrue(log.stream().anyMatch(l -> l.startsWith("[avg] done earlier")), log.toString());

        // the command: stage1 averaged with itself (weights 2:1) is stage1
        Path self = dir.resolve("self");
        int rc = new CommandLine(new AverageAdaptersCommand()).execute("--out", self.toString(), "--rank", "4",
                "--weights", "2,1", out.resolve("stage1").toString(), out.resolve("stage1").toString());
        assertEquals(0, rc);
        assertTrue(Files.isRegularFile(self.resolve("stage.json")), "stage folders in, a stage folder out");
        assertEquals(4, PeftAdapter.read(self.resolve("adapter")).config().r());
        Path base = out.resolve("base-model");
        float[] want = logits(base, out.resolve("stage1/adapter"));
        float[] got = logits(base, self.resolve("adapter"));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-4, "logit " + i);
        }
        // the averaged stage folder is a model the setup can name
        assertTrue(Files.isRegularFile(self.resolve(AdapterAveraging.REPORT)));
    }

    @Test
    void anAverageOfAFullFineTuneIsRefusedBeforeAnyStage() throws Exception {
        Path setup = setup("full", "{\"kind\": \"average\", \"description\": null, \"models\": [\"stage1\", "
                + "\"stage1b\"], \"rank\": 0}");
        ConfigException e = assertThrows(ConfigException.class, () -> Pipeline.open(ConfigFolder.of(setup.toString()),
                dir.resolve("o"), s -> { }));
        assertTrue(e.getMessage().contains("avg.json"), e.getMessage());
        assertTrue(e.getMessage().contains("rank must be > 0"), e.getMessage());

        Path s2 = setup("full3", "{\"kind\": \"average\", \"description\": null, \"models\": [\"stage1\", "
                + "\"stage1b\"], \"rank\": 4}");
        Files.writeString(s2.resolve("stage1b.json"), Files.readString(s2.resolve("stage1b.json"))
                .replaceFirst("\"lora\": \\{[^}]*\\}", "\"lora\": null"));
        ConfigException f = assertThrows(ConfigException.class, () -> {
            try (Pipeline p = Pipeline.open(ConfigFolder.of(s2.toString()), dir.resolve("o3"), s -> { })) {
                p.check(p.experiment().stages());
            }
        });
        assertTrue(f.getMessage().contains("avg.json: 'models[1]' names stage 'stage1b', which fine-tunes every "
                + "weight"), f.getMessage());
    }

    private static float[] logits(Path base, Path adapter) throws Exception {
        try (DecoderClassifier m = DecoderClassifier.load(base, DecoderClassifier.Options.defaults()
                .placement(Placement.single(Device.cpu())).dtype(DataType.FLOAT32).log(s -> { }).adapter(adapter, true));
                NDManager scope = Engines.newManager()) {
            return m.logits(scope, List.of(new int[] {3, 9, 27, 81, 5}, new int[] {7, 7, 1}), false).toFloatArray();
        }
    }
}
