package arenakit.pipeline;

import static arenakit.pipeline.Setups.edit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.cli.MemoryPlanCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * The memory check before a stage loads anything (docs/stages.md, "Memory: what trains where"): a stage that does not
 * fit stops the run before any stage starts, with its numbers and the settings that fit; memory-plan.java prints the
 * same plan for any stage of any setup and exits 1 when it does not fit. The shipped setups' training stages fit the
 * devices they name.
 */
class MemoryCheckTest {
    @TempDir
    Path dir;

    record Run(int code, String out) {}

    static Run memoryPlan(String... args) {
        StringWriter text = new StringWriter();
        CommandLine cli = new CommandLine(new MemoryPlanCommand());
        cli.setOut(new PrintWriter(text));
        cli.setErr(new PrintWriter(text));
        return new Run(cli.execute(args), text.toString());
    }

    @Test
    void aStageThatDoesNotFitStopsTheRunBeforeAnyStageStarts() throws Exception {
        Path setup = Setups.copy(dir.resolve("small"), "smoke", edit("stage1.json", "\"device_memory_gib\": null",
                "\"device_memory_gib\": 0.001"));
        Path out = dir.resolve("out");
        List<String> log = new ArrayList<>();
        ConfigException e = assertThrows(ConfigException.class, () -> {
            try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), out, log::add)) {
                p.run(null);
            }
        });
        String m = e.getMessage();
        assertTrue(m.contains("nothing was run"), m);
        assertTrue(m.contains("memory plan of stage1 (" + setup.resolve("stage1.json")), m);
        assertTrue(m.contains("does not fit: cpu needs ") && m.contains("(weights ") && m.contains(", activations ")
                && m.contains("usable of 1.0 MiB (train.device_memory_gib)"), m);
        assertFalse(Files.exists(out.resolve("stage1")), "no stage started");
        assertFalse(Files.exists(out.resolve("eda")), "no stage started");
    }

    @Test
    void memoryPlanPrintsAStagesPlanAndExitsOneWhenItDoesNotFit() {
        Run ok = memoryPlan("--config", "smoke", "--stage", "stage1", "--device-memory", "8", "--out",
                dir.resolve("o").toString());
        assertEquals(0, ok.code(), ok.out());
        assertTrue(ok.out().contains("activation checkpointing off; single on [cpu]"), ok.out());
        assertTrue(ok.out().contains("cpu: needs ") && ok.out().contains("(--device-memory, 25% kept free): fits"),
                ok.out());
        assertTrue(ok.out().contains("MEMORY PLAN OK: stage1 fits its devices"), ok.out());

        Run tight = memoryPlan("--config", "smoke", "--stage", "stage1", "--device-memory", "0.001", "--out",
                dir.resolve("o").toString());
        assertEquals(1, tight.code(), tight.out());
        assertTrue(tight.out().contains("DOES NOT FIT") && tight.out().contains("MEMORY PLAN FAILED"), tight.out());

        Run submission = memoryPlan("--config", "smoke", "--stage", "submission", "--device-memory", "8", "--out",
                dir.resolve("o").toString());
        assertEquals(0, submission.code(), submission.out());
        for (String model : List.of("stage3", "llama_stage1", "qwen_stage1")) {
            assertTrue(submission.out().contains("model " + model + ": "), "each model of the ensemble: "
                    + submission.out());
        }
    }

    /** gemma2-9b and llama3-8b as shipped: every training stage fits one 80 GB card with checkpointing. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"gemma2-9b, stage1, gemma-2-9b", "gemma2-9b, stage2, gemma-2-9b", "gemma2-9b, stage3, gemma-2-9b",
            "llama3-8b, stage1, llama-3-8b", "llama3-8b, stage2, llama-3-8b", "llama3-8b, stage3, llama-3-8b"})
    void theShippedTrainingStagesFitTheDevicesTheyName(String setup, String stage, String preset) {
        Run r = memoryPlan("--config", setup, "--stage", stage, "--checkpoint", preset, "--out",
                dir.resolve("o").toString());
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("activation checkpointing on; single on [gpu(0)]"), r.out());
        assertTrue(r.out().contains("(train.device_memory_gib, 10% kept free): fits"), r.out());
    }

    @Test
    void theSettingsThatFitAreNamed() throws Exception {
        // 24 GB: the Gemma does not fit in fp16; int8 projections with a smaller micro-batch do
        Run small = memoryPlan("--config", "gemma2-9b", "--stage", "stage1", "--checkpoint", "gemma-2-9b",
                "--device-memory", "24", "--out", dir.resolve("o").toString());
        assertEquals(1, small.code(), small.out());
        assertTrue(small.out().contains("settings that fit: ") && small.out().contains("model.quantize: int8 and "
                + "loader.max_tokens <= "), small.out());

        // without checkpointing the 16k-token micro-batch of 3072-token rows fits no card; switching it on fixes it
        Path off = Setups.copy(dir.resolve("off"), "gemma2-9b", edit("stage1.json", "\"gradient_checkpointing\": true",
                "\"gradient_checkpointing\": false"));
        Run r = memoryPlan("--config", off.toString(), "--stage", "stage1", "--checkpoint", "gemma-2-9b", "--out",
                dir.resolve("o").toString());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.out().contains("activation checkpointing off"), r.out());
        assertTrue(r.out().contains("settings that fit: train.gradient_checkpointing: true (needs "), r.out());

        // the layers split over two 16 GB cards with one sequence per micro-batch (docs/stages.md's 2x T4 override)
        Path t4 = Setups.copy(dir.resolve("t4"), "gemma2-9b", edit("stage1.json", "\"max_tokens\": 16384",
                "\"max_tokens\": 3072"));
        Run split = memoryPlan("--config", t4.toString(), "--stage", "stage1", "--checkpoint", "gemma-2-9b",
                "--devices", "gpu0,gpu1", "--mode", "pipeline", "--device-memory", "15", "--out",
                dir.resolve("o").toString());
        assertEquals(0, split.code(), split.out());
        assertTrue(split.out().contains("gpu0: needs ") && split.out().contains("gpu1: needs "), split.out());
    }

    /** With int8 projections the weights shrink and training keeps the recomputed layer's dequantized weights. */
    @Test
    void int8ProjectionsArePlannedAsStored() throws Exception {
        Path q = Setups.copy(dir.resolve("int8"), "gemma2-9b", edit("stage1.json", "\"quantize\": null",
                "\"quantize\": \"int8\""));
        Run dense = memoryPlan("--config", "gemma2-9b", "--stage", "stage1", "--checkpoint", "gemma-2-9b", "--out",
                dir.resolve("o").toString());
        Run int8 = memoryPlan("--config", q.toString(), "--stage", "stage1", "--checkpoint", "gemma-2-9b", "--out",
                dir.resolve("o").toString());
        assertEquals(0, int8.code(), int8.out());
        assertTrue(int8.out().contains("float16 with int8 projections"), int8.out());
        double w16 = weights(dense.out());
        double w8 = weights(int8.out());
        assertTrue(w8 < 0.65 * w16 && w8 > 0.45 * w16, w16 + " GiB vs " + w8 + " GiB");
    }

    /** The weights column of a plan's single-device row, in GiB. */
    private static double weights(String plan) {
        String row = plan.lines().filter(l -> l.trim().startsWith("gpu(0)")).findFirst().orElseThrow();
        String[] cols = row.trim().split("\\s+");
        return Double.parseDouble(cols[3]); // device, "[0,", "42)", weights, "GiB", ...
    }
}
