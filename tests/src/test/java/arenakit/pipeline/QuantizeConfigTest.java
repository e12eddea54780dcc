package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.infer.SubmissionConfig;
import arenakit.infer.WeightedModel;
import arenakit.model.quant.Quantization;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.TrainConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quantize settings: a typo or a quantized full fine-tune fails when the setup is read, naming file and key;
 * which setting wins for a model of an ensemble; {@code --quantize} replaces them all.
 */
class QuantizeConfigTest {
    @TempDir
    Path dir;

    private String openAndCheck(Path setup) {
        ConfigException e = assertThrows(ConfigException.class, () -> {
            try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), dir.resolve("out"), s -> { })) {
                p.check(p.experiment().stages());
            }
        });
        return e.getMessage();
    }

    @Test
    void aTypoOrAQuantizedFullFineTuneFailsWhenTheSetupIsRead() throws Exception {
        String stage = openAndCheck(Setups.copy(dir.resolve("a"), "smoke", Setups.edit("stage2.json",
                "\"quantize\": null", "\"quantize\": \"int4\"")));
        assertTrue(stage.contains("stage2.json") && stage.contains("model.quantize must be none or int8, got 'int4'"),
                stage);
        String full = openAndCheck(Setups.copy(dir.resolve("b"), "smoke", Setups.edit("stage1.json",
                "\"lora\": {\"r\": 4, \"alpha\": 8, \"dropout\": 0.0, \"targets\": [\"q_proj\", \"k_proj\", "
                        + "\"v_proj\", \"o_proj\", \"gate_proj\", \"up_proj\", \"down_proj\"], \"pissa\": false}",
                "\"lora\": null"), Setups.edit("stage1.json", "\"quantize\": null", "\"quantize\": \"int8\"")));
        assertTrue(full.contains("stage1.json") && full.contains("model.quantize int8 needs model.lora"), full);
        String inference = openAndCheck(Setups.copy(dir.resolve("c"), "smoke", Setups.edit("submission.json",
                "\"time_budget\": null, \"quantize\": null", "\"time_budget\": null, \"quantize\": \"fp8\"")));
        assertTrue(inference.contains("submission.json") && inference.contains("inference.quantize must be none or "
                + "int8, got 'fp8'"), inference);
        String entry = openAndCheck(Setups.copy(dir.resolve("d"), "smoke", Setups.edit("submission.json",
                "{\"model\": \"llama_stage1\", \"weight\": 1}", "{\"model\": \"llama_stage1\", \"weight\": 1, \"quantize\": 8}")));
        assertTrue(entry.contains("submission.json") && entry.contains("quantize"), entry);
    }

    @Test
    void anEntryBeatsTheStageWhichBeatsTheTrainingStageAndTheCommandLineBeatsAll() throws Exception {
        Path setup = Setups.copy(dir.resolve("setup"), "smoke",
                Setups.edit("stage3.json", "\"quantize\": null", "\"quantize\": \"int8\""),
                Setups.edit("submission.json", "{\"model\": \"llama_stage1\", \"weight\": 1}",
                        "{\"model\": \"llama_stage1\", \"weight\": 1, \"quantize\": \"INT8\"}"));
        try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), dir.resolve("out"), s -> { })) {
            SubmissionConfig c = p.submissionConfig();
            assertNull(c.inference().quantize());
            WeightedModel stage3 = c.models().get(0);
            WeightedModel llama = c.models().get(1);
            assertEquals("int8", llama.quantize(), "read in lower case");
            assertEquals("llama_stage1 int8", llama.toString());
            TrainConfig t3 = (TrainConfig) p.stageConfig("stage3");
            TrainConfig t2 = (TrainConfig) p.stageConfig("llama_stage1");
            assertEquals("int8", t3.model().quantize());
            TrainedModel m3 = new TrainedModel("stage3", dir.resolve("stage3"), t3, dir.resolve("a3"), null);
            TrainedModel m2 = new TrainedModel("llama_stage1", dir.resolve("llama_stage1"), t2, dir.resolve("a2"), null);
            // null everywhere: the training stage's setting; the stage's inference.quantize; the entry's own
            assertEquals(Quantization.INT8, Models.quantization(m3, stage3.quantize(), c.inference()));
            assertEquals(Quantization.NONE, Models.quantization(m2, null, c.inference()));
            assertEquals(Quantization.NONE, Models.quantization(m3, null, c.inference().withQuantize("none")));
            assertEquals(Quantization.INT8, Models.quantization(m2, llama.quantize(),
                    c.inference().withQuantize("none")));

            p.overrideQuantize("none"); // --quantize none
            SubmissionConfig forced = p.submissionConfig();
            assertEquals("none", forced.inference().quantize());
            assertTrue(forced.models().stream().allMatch(m -> m.quantize() == null), forced.models().toString());
            assertEquals(Quantization.NONE, Models.quantization(m3, null, forced.inference()));
            PseudoLabelConfig labels = (PseudoLabelConfig) p.stageConfig("pseudo_labels");
            assertEquals("none", labels.inference().quantize());
        }
    }
}
