package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.train.TrainConfig;
import arenakit.util.ArenaHome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFolderTest {
    @TempDir
    Path dir;

    @Test
    void everyBundledSetupReadsAndValidates() throws Exception {
        assertEquals(List.of("tiny", "smoke", "gemma2-9b", "llama3-8b"), ConfigFolder.SHIPPED);
        for (String setup : ConfigFolder.SHIPPED) {
            List<String> log = new java.util.ArrayList<>();
            try (Pipeline p = Pipeline.open(ConfigFolder.of(setup), dir.resolve(setup), log::add)) {
                assertEquals(setup, p.experiment().name());
                assertTrue(p.experiment().stages().contains("stage1"), setup);
                // a file that stages does not list (gemma2-9b's submission_ensemble.json) is read as strictly
                for (String file : ConfigFolder.of(setup).files()) {
                    String name = file.replaceFirst("\\.json$", "");
                    if (!file.equals("pipeline.json") && !p.experiment().stages().contains(name)) {
                        assertEquals("submission", p.submissionConfig(name).kind(), setup + "/" + file);
                    }
                }
            }
            assertTrue(log.stream().noneMatch(l -> l.startsWith("note:")), setup + " leaves a setting to a default "
                    + "another shipped setup sets: " + log);
        }
        for (String setup : List.of("gemma2-9b", "llama3-8b")) {
            TrainConfig real = ConfigFolder.of(setup).read("stage1.json", TrainConfig.class);
            assertEquals(64, real.model().lora().r());
            assertEquals(128, real.model().lora().alpha());
            assertEquals(3072, real.data().text().maxLength());
            assertEquals(7, real.model().lora().targets().size());
            assertEquals("mlp", real.model().head());
            assertEquals("auto", real.model().dtype());
        }
        assertEquals(List.of("pipeline.json", "pseudo_labels.json", "stage1.json", "stage2.json", "stage3.json",
                "submission.json", "submission_ensemble.json"), ConfigFolder.of("gemma2-9b").files());
    }

    /** submit --submission: a submission config the stages do not list, read by name, as strictly as a stage. */
    @Test
    void aSubmissionConfigOutsideTheStagesIsReadByName() {
        try (Pipeline p = Pipeline.open(ConfigFolder.of("gemma2-9b"), dir.resolve("g9"), s -> {})) {
            arenakit.infer.SubmissionConfig ensemble = p.submissionConfig("submission_ensemble");
            assertEquals(List.of(2.0, 1.0), ensemble.models().stream().map(arenakit.infer.WeightedModel::weight)
                    .toList());
            assertEquals("8h30m", ensemble.inference().timeBudget());
            assertEquals(ensemble, p.submissionConfig("submission_ensemble.json"));
            assertEquals(p.submissionConfig(), p.submissionConfig("submission"));
            ConfigException typo = assertThrows(ConfigException.class, () -> p.submissionConfig("submision_ensemble"));
            assertTrue(typo.getMessage().contains("submision_ensemble.json: not a submission config of setup gemma2-9b "
                    + "(it has: submission, submission_ensemble)"), typo.getMessage());
            assertThrows(ConfigException.class, () -> p.submissionConfig("stage3"));
            p.overrideTimeBudget("90m"); // --time-budget reaches it too
            assertEquals("90m", p.submissionConfig("submission_ensemble").inference().timeBudget());
        }
    }

    /** The Llama setup is 2nd place's second model: Llama-3's tokenizer and template, the gemma2-9b held-out fold. */
    @Test
    void theLlamaSetupEncodesInLlama3sTemplateOnTheSameFoldAsGemma() {
        ExperimentConfig llama = ConfigFolder.of("llama3-8b").read("pipeline.json", ExperimentConfig.class);
        assertEquals("llama3", llama.tokenizer());
        assertEquals(null, llama.template(), "the family's template: llama3");
        ExperimentConfig gemma = ConfigFolder.of("gemma2-9b").read("pipeline.json", ExperimentConfig.class);
        assertEquals(llama.baseModel().checkpoint(), gemma.baseModels().get("llama3-8b").checkpoint(),
                "gemma2-9b's ensemble runs the Llama of the llama3-8b setup");
        assertEquals(llama.tokenizer(), gemma.baseModels().get("llama3-8b").tokenizer());
        for (String stage : List.of("stage1", "stage2", "stage3")) {
            TrainConfig l = ConfigFolder.of("llama3-8b").read(stage + ".json", TrainConfig.class);
            TrainConfig g = ConfigFolder.of("gemma2-9b").read(stage + ".json", TrainConfig.class);
            assertEquals(g.data().holdout(), l.data().holdout(), stage);
            assertEquals(g.data().sources(), l.data().sources(), stage);
            assertEquals(g.model().loadFrom(), l.model().loadFrom(), stage);
        }
    }

    @Test
    void unknownFieldIsNamedWithTheFile() throws Exception {
        copyTiny(ConfigFolder.of("tiny").text("stage1.json").replace("\"weight_decay\"", "\"weight_decy\""));
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigFolder.of(dir.toString()).read("stage1.json", TrainConfig.class));
        assertTrue(e.getMessage().contains(dir.resolve("stage1.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("unknown field 'optimizer.weight_decy'"), e.getMessage());
        assertTrue(e.getMessage().contains("weight_decay"), e.getMessage()); // the known fields are listed
    }

    @Test
    void invalidValueIsNamedWithTheFileAndField() throws Exception {
        copyTiny(ConfigFolder.of("tiny").text("stage1.json").replace("\"swap\": \"full\"", "\"swap\": \"half\""));
        ConfigException e = assertThrows(ConfigException.class,
                () -> Pipeline.open(ConfigFolder.of(dir.toString()), dir.resolve("out"), s -> {}));
        assertTrue(e.getMessage().contains("stage1.json"), e.getMessage());
        assertTrue(e.getMessage().contains("data.swap must be none, random or full, got half"), e.getMessage());
    }

    /** A misspelt device of the last stage stops the pipeline when it opens, before any training. */
    @Test
    void unknownDeviceFailsWhenTheConfigIsRead() throws Exception {
        copyTiny(ConfigFolder.of("tiny").text("stage1.json"));
        Files.writeString(dir.resolve("submission.json"), ConfigFolder.of("tiny").text("submission.json")
                .replace("\"devices\": [\"cpu\", \"cpu\"]", "\"devices\": [\"gpu(0)\", \"gpu(O)\"]"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> Pipeline.open(ConfigFolder.of(dir.toString()), dir.resolve("out"), s -> {}));
        assertTrue(e.getMessage().contains("submission.json"), e.getMessage());
        assertTrue(e.getMessage().contains("unknown device 'gpu(O)'"), e.getMessage());
    }

    /** Inside a checkout a setup name means the checkout's folder, so edits there need no reinstall. */
    @Test
    void aSetupNameInsideACheckoutIsTheCheckoutsFolder() {
        Path home = ArenaHome.find().orElseThrow();
        assertEquals(home.resolve("configs/tiny/stage1.json").toString(), ConfigFolder.of("tiny").where("stage1.json"));
    }

    private void copyTiny(String stage1) throws Exception {
        ConfigFolder tiny = ConfigFolder.of("tiny");
        for (String f : List.of("pipeline.json", "pseudo_labels.json", "stage2.json", "stage3.json",
                "submission.json")) {
            Files.writeString(dir.resolve(f), tiny.text(f));
        }
        Files.writeString(dir.resolve("stage1.json"), stage1);
    }
}
