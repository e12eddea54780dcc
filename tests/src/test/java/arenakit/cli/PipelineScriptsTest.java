package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.cli.JbangRun.Result;
import arenakit.data.Submission;
import arenakit.pipeline.StageSummary;
import arenakit.train.PseudoLabels;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stage scripts, run for real through environment/bin/jbang (the lib installed in ~/.m2) on configs/smoke:
 * train.java pauses stage 1 and resumes it, pipeline.java --stages trains the Llama and Qwen2 stages,
 * pseudo-labels.java labels with the three-backbone ensemble, pipeline.java runs what is left (EDA, stages 2 and 3,
 * the three-backbone submission), and submit.java predicts again with other settings. Together: the whole pipeline
 * end to end, with a valid submission at the end, each model encoding with its own tokenizer, template and format.
 */
class PipelineScriptsTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void needJbang() {
        JbangRun.home();
    }

    private Result jbang(String script, String... args) throws IOException, InterruptedException {
        return JbangRun.run(tmp, script, args);
    }

    @Test
    void everyStageScriptOnTheSmokeSetup() throws Exception {
        String out = tmp.resolve("run").toString();
        Result paused = jbang("train.java", "--config", "smoke", "--stage", "stage1", "--out", out, "--stop-after",
                "5");
        assertEquals(0, paused.code(), paused.out());
        assertTrue(paused.out().contains("paused at step 5 of 12"), paused.out());

        Result resumed = jbang("train.java", "--config", "smoke", "--stage", "stage1", "--out", out);
        assertEquals(0, resumed.code(), resumed.out());
        assertTrue(resumed.out().contains("at step 5 of 12"), resumed.out());
        assertTrue(Files.isRegularFile(Path.of(out, "stage1", "adapter", "adapter_model.safetensors")));

        Result backbones = jbang("pipeline.java", "--config", "smoke", "--out", out, "--stages",
                "llama_stage1,qwen_stage1");
        assertEquals(0, backbones.code(), backbones.out());
        assertTrue(backbones.out().contains("pab format in the llama3 template, 160 tokens max")
                && backbones.out().contains("rounds format in the qwen2.5 template, 144 tokens max"), backbones.out());

        Result labels = jbang("pseudo-labels.java", "--config", "smoke", "--out", out);
        assertEquals(0, labels.code(), labels.out());
        assertTrue(labels.out().contains("models [stage1 x2, llama_stage1, qwen_stage1]"), labels.out());
        assertTrue(labels.out().contains("predictions: 60 rows: 60 by every model"), labels.out());
        assertTrue(labels.out().contains("60 soft labels"), labels.out());
        // as if a time budget had left the last 5 pairs unlabeled: stage 2 skips exactly those, and says so
        Path pseudo = Path.of(out, "pseudo_labels", "pseudo_labels.csv");
        java.util.List<PseudoLabels.Label> all = PseudoLabels.read(pseudo);
        PseudoLabels.write(pseudo, all.subList(0, all.size() - 5));
        PseudoLabels.writeLeftOut(pseudo.getParent(), all.subList(all.size() - 5, all.size()).stream()
                .map(PseudoLabels.Label::id).toList());

        Result pipeline = jbang("pipeline.java", "--config", "smoke", "--out", out);
        assertEquals(0, pipeline.code(), pipeline.out());
        assertTrue(pipeline.out().contains("[stage1] done earlier"), pipeline.out());
        assertTrue(pipeline.out().contains("pipeline summary"), pipeline.out());
        assertTrue(pipeline.out().contains("5 unlabeled pairs skipped: stage 'pseudo_labels' left them out"),
                pipeline.out());
        assertTrue(pipeline.out().contains("models [stage3 x2, llama_stage1, qwen_stage1 @128]"), pipeline.out());
        assertTrue(pipeline.out().contains("[submission] predictions: 40 rows: 40 by every model"), pipeline.out());
        JsonNode summary = Json.MAPPER.readTree(Path.of(out, "summary.json").toFile());
        assertEquals(8, summary.size());
        for (JsonNode s : summary) {
            assertEquals(StageSummary.DONE, s.get("status").asText(), s.toString());
        }
        // each backbone's stage folder says how it encoded its rows, with a copy of its tokenizer
        String[][] encodings = {{"stage3", "default", "gemma2", "gemma", "rounds", "128"},
            {"llama_stage1", "llama", "llama", "llama3", "pab", "160"},
            {"qwen_stage1", "qwen2", "qwen2", "qwen2.5", "rounds", "144"}};
        for (String[] e : encodings) {
            JsonNode encoding = Json.MAPPER.readTree(Path.of(out, e[0], "encoding.json").toFile());
            assertEquals(e[1], encoding.get("base_model").asText(), e[0]);
            assertEquals(e[2], encoding.get("architecture").get("model_type").asText(), e[0]);
            assertEquals(e[3], encoding.get("template").asText(), e[0]);
            assertEquals(e[4], encoding.get("format").asText(), e[0]);
            assertEquals(Integer.parseInt(e[5]), encoding.get("max_length").asInt(), e[0]);
            assertTrue(Files.isRegularFile(Path.of(out, e[0], "tokenizer.json")), e[0]);
        }
        JsonNode inference = Json.MAPPER.readTree(Path.of(out, "submission", "inference.json").toFile());
        assertEquals(3, inference.get("models").size(), inference.toString());
        assertEquals(java.util.List.of("stage3:2.0:128", "llama_stage1:1.0:160", "qwen_stage1:1.0:128"),
                java.util.stream.StreamSupport.stream(inference.get("models").spliterator(), false)
                        .map(m -> m.get("model").asText() + ":" + m.get("weight").asDouble() + ":"
                                + m.get("max_length").asInt() + (m.get("predicted").asInt() == 40 ? "" : " (not all)"))
                        .toList());
        Path data = Path.of(out, "data");
        Submission.Report report = Submission.validate(Path.of(out, "submission.csv"), data.resolve("test.csv"),
                data.resolve("sample_submission.csv"));
        assertEquals(40, report.rows());
        assertTrue(Files.isRegularFile(Path.of(out, "eda", "eda.html")));

        Path other = tmp.resolve("no-tta.csv");
        Result submit = jbang("submit.java", "--config", "smoke", "--out", out, "--model", "stage3", "--model",
                "stage2", "--no-tta", "--devices", "cpu", "--output", other.toString());
        assertEquals(0, submit.code(), submit.out());
        assertTrue(submit.out().contains("models [stage3, stage2], single on [cpu], no TTA"), submit.out());
        assertEquals(40, Submission.validate(other, data.resolve("test.csv"), data.resolve("sample_submission.csv"))
                .rows());

        // Weights trained elsewhere (e.g. Python peft): a bare PEFT adapter folder predicts exactly as its stage.
        Path peft = Files.createDirectories(tmp.resolve("peft-adapter"));
        try (var files = Files.list(Path.of(out, "stage3", "adapter"))) {
            for (Path f : files.toList()) {
                Files.copy(f, peft.resolve(f.getFileName()));
            }
        }
        Path viaStage = tmp.resolve("via-stage.csv");
        Path viaPeft = tmp.resolve("via-peft.csv");
        for (String[] model : new String[][] {{"stage3", viaStage.toString()}, {peft.toString(), viaPeft.toString()}}) {
            Result r = jbang("submit.java", "--config", "smoke", "--out", out, "--model", model[0], "--no-tta",
                    "--devices", "cpu", "--output", model[1]);
            assertEquals(0, r.code(), r.out());
        }
        assertEquals(Files.readString(viaStage), Files.readString(viaPeft));

        // int8 weights: the stage's adapter merged into each float weight before quantizing; predictions close to
        // the float32 ones, never taken from their chunks (the fingerprint holds the quantization), and resumable
        Path int8 = tmp.resolve("int8.csv");
        for (int run = 0; run < 2; run++) {
            Result q = jbang("submit.java", "--config", "smoke", "--out", out, "--model", "stage3", "--no-tta",
                    "--devices", "cpu", "--quantize", "int8", "--output", int8.toString());
            assertEquals(0, q.code(), q.out());
            // the first run loads the model int8 (the float32 run's chunks above are not its), the second reuses
            assertEquals(run == 0, q.out().contains("int8: 14 projections quantized per output channel")
                    && q.out().contains("adapter merged into 14 of them before quantizing"), q.out());
            assertEquals(run == 1, q.out().contains("stage3: 40 of 40 rows reused from earlier chunks"), q.out());
        }
        assertEquals(40, Submission.validate(int8, data.resolve("test.csv"), data.resolve("sample_submission.csv"))
                .rows());
        double diff = maxProbabilityDiff(viaStage, int8);
        assertTrue(diff > 0 && diff < 0.02, "int8 vs float32 probabilities: max |diff| " + diff);
        Result int4 = jbang("submit.java", "--config", "smoke", "--out", out, "--quantize", "int4");
        assertTrue(int4.code() != 0 && int4.out().contains("--quantize must be none or int8, got 'int4'"), int4.out());

        // a one-second budget: whatever this machine manages in it (the steps themselves are TimeBudgetTest's, on a
        // fake clock), the file is valid and the log accounts for every row
        Path late = tmp.resolve("late.csv");
        Result budget = jbang("submit.java", "--config", "smoke", "--out", out, "--time-budget", "1s", "--output",
                late.toString());
        assertEquals(0, budget.code(), budget.out());
        assertTrue(budget.out().contains("time budget 1s") && budget.out().contains("predictions: 40 rows:"),
                budget.out());
        assertEquals(40, Submission.validate(late, data.resolve("test.csv"), data.resolve("sample_submission.csv"))
                .rows());

        Result bad = jbang("submit.java", "--config", "smoke", "--out", out, "--model", "stage9", "--output",
                other.toString());
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().contains("error: ") && bad.out().contains("stage9"), bad.out());
    }

    /** The largest difference of a probability between two submission files of the same rows. */
    private static double maxProbabilityDiff(Path a, Path b) throws IOException {
        java.util.List<String> x = Files.readAllLines(a);
        java.util.List<String> y = Files.readAllLines(b);
        assertEquals(x.size(), y.size());
        double max = 0;
        for (int i = 1; i < x.size(); i++) {
            String[] u = x.get(i).split(",");
            String[] v = y.get(i).split(",");
            assertEquals(u[0], v[0], "row " + i);
            for (int k = 1; k < u.length; k++) {
                max = Math.max(max, Math.abs(Double.parseDouble(u[k]) - Double.parseDouble(v[k])));
            }
        }
        return max;
    }
}
