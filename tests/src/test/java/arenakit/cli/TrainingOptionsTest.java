package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.Pipeline;
import arenakit.train.TrainConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** train.java's and pipeline.java's hardware options replace every training stage's settings, or fail clearly. */
class TrainingOptionsTest {
    @TempDir
    Path dir;

    private static String run(Object command, int expected, String... args) {
        StringWriter text = new StringWriter();
        CommandLine cli = Cli.commandLine(command);
        cli.setOut(new PrintWriter(text));
        cli.setErr(new PrintWriter(text));
        int code = cli.execute(args);
        assertEquals(expected, code, text.toString());
        return text.toString();
    }

    @Test
    void aModeThatDoesNotMatchTheDevicesFailsBeforeAnyStage() {
        String out = run(new TrainCommand(), 1, "--config", "smoke", "--out", dir.resolve("o").toString(),
                "--stage", "stage1", "--devices", "cpu", "--mode", "data_parallel");
        assertTrue(out.contains("train.mode data_parallel needs two or more devices in train.devices, got [cpu]"),
                out);
        String p = run(new PipelineCommand(), 1, "--config", "smoke", "--out", dir.resolve("p").toString(),
                "--train-devices", "cpu,cpu", "--train-mode", "single");
        assertTrue(p.contains("train.mode single needs one device in train.devices, got [cpu, cpu]"), p);
    }

    @Test
    void theOptionsReplaceEveryTrainingStagesSettings() {
        TrainingOptions o = new TrainingOptions();
        CommandLine.populateCommand(o, "--train-devices", "cpu,cpu", "--train-mode", "data_parallel",
                "--gradient-checkpointing", "--train-max-tokens", "4096", "--train-device-memory", "12.5");
        try (Pipeline p = Pipeline.open(ConfigFolder.of("smoke"), dir.resolve("out"), s -> { })) {
            o.apply(p);
            for (String stage : List.of("stage1", "llama_stage1", "qwen_stage1", "stage2", "stage3")) {
                TrainConfig t = (TrainConfig) p.stageConfig(stage);
                assertEquals(List.of("cpu", "cpu"), t.train().devices(), stage);
                assertEquals(TrainConfig.Train.DATA_PARALLEL, t.train().mode(), stage);
                assertTrue(t.train().gradientCheckpointing(), stage);
                assertEquals(4096, t.loader().maxTokens(), stage);
                assertEquals(12.5, t.train().deviceMemoryGib(), stage);
            }
        }
        TrainingOptions off = new TrainingOptions();
        CommandLine.populateCommand(off, "--no-gradient-checkpointing");
        try (Pipeline p = Pipeline.open(ConfigFolder.of("gemma2-9b"), dir.resolve("out9"), s -> { })) {
            off.apply(p);
            TrainConfig t = (TrainConfig) p.stageConfig("stage1");
            assertTrue(!t.train().gradientCheckpointing() && t.train().devices().equals(List.of("gpu(0)")),
                    "only what was given changes: " + t.train());
        }
    }
}
