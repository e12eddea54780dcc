package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Conversation;
import arenakit.data.Submission;
import arenakit.text.ChatTemplate;
import arenakit.text.PromptEncoder;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A setup with two base models: the smoke setup's tiny Gemma-2 (base_model) and a second tiny one in base_models
 * with the Llama-3 template; a stage on each (the second distilled from two outside teachers' logits), and a
 * submission over both. Each stage folder records how it encoded its rows (encoding.json + its tokenizer), each
 * model of the ensemble encodes with its own, and a stage folder copied elsewhere finds its base by shape.
 */
class StageModelsTest {
    @TempDir
    Path tmp;

    private static ObjectNode read(String file) throws IOException {
        return (ObjectNode) Json.MAPPER.readTree(ConfigFolder.of("smoke").text(file));
    }

    private static ObjectNode tiny(int layers, long seed) {
        ObjectNode t = Json.MAPPER.createObjectNode();
        t.put("hidden_size", 32).put("intermediate_size", 64).put("num_hidden_layers", layers)
                .put("num_attention_heads", 2).put("num_key_value_heads", 1).put("head_dim", 16).put("seed", seed);
        return t;
    }

    /** The smoke setup with a second base model "other" and the stages stage1, other1, submission. */
    private Path setup(Path dir, String otherName, int otherLayers) throws IOException {
        Files.createDirectories(dir);
        ObjectNode pipeline = read("pipeline.json");
        ObjectNode other = pipeline.putObject("base_models").putObject(otherName);
        other.set("tiny", tiny(otherLayers, 3));
        other.put("tokenizer", "sample").put("template", "llama3");
        pipeline.putArray("stages").add("stage1").add("other1").add("submission");
        Json.write(dir.resolve("pipeline.json"), pipeline);
        ObjectNode stage1 = read("stage1.json");
        ((ObjectNode) stage1.get("train")).put("max_steps", 3).put("eval_every", 0).put("checkpoint_every", 0);
        Json.write(dir.resolve("stage1.json"), stage1);
        ObjectNode other1 = stage1.deepCopy();
        ((ObjectNode) other1.get("model")).put("base_model", otherName);
        ObjectNode distill = other1.putObject("distill").put("temperature", 5.0).put("soft_weight", 0.9);
        ArrayNode teachers = distill.putArray("teachers");
        teachers.addObject().put("logits", tmp.resolve("teacher-70b.csv").toString()).put("weight", 2.0);
        teachers.addObject().put("logits", tmp.resolve("teacher-72b.csv").toString());
        Json.write(dir.resolve("other1.json"), other1);
        ObjectNode submission = read("submission.json");
        submission.putArray("models").add("stage1").add("other1");
        ObjectNode inference = (ObjectNode) submission.get("inference");
        inference.put("mode", "single").putArray("devices").add("cpu");
        Json.write(dir.resolve("submission.json"), submission);
        return dir;
    }

    /** Teacher files for the labeled rows: the first teacher misses 4 training rows, the second has half. */
    private List<Conversation> writeTeachers(Pipeline p) throws IOException {
        Inputs.Split split = p.inputs().split(((arenakit.train.TrainConfig) p.stageConfig("other1")).data().holdout(),
                List.of("train", "external"));
        List<Conversation> missing = split.train().subList(0, 4);
        List<String> a = new ArrayList<>(List.of("id,logit_a,logit_b,logit_tie"));
        List<String> b = new ArrayList<>(List.of("logit_tie,id,logit_b,logit_a"));
        int i = 0;
        for (Conversation c : p.inputs().labeled()) {
            if (missing.contains(c)) {
                continue;
            }
            a.add(String.format(Locale.ROOT, "%s,%.4f,%.4f,%.4f", c.id(), 1.5, -0.5, 0.25 * (i % 3)));
            if (i++ % 2 == 0) {
                b.add(String.format(Locale.ROOT, "%.3e,%s,%.3e,%.3e", -1.0, c.id(), 2.0, 0.5));
            }
        }
        Files.write(tmp.resolve("teacher-70b.csv"), a);
        Files.write(tmp.resolve("teacher-72b.csv"), b);
        return missing;
    }

    @Test
    void twoBaseModelsTwoTemplatesOneEnsemble() throws Exception {
        Path config = setup(tmp.resolve("setup"), "other", 1);
        Path out = tmp.resolve("out");
        List<String> log = new ArrayList<>();
        try (Pipeline p = Pipeline.open(ConfigFolder.of(config.toString()), out, log::add)) {
            List<Conversation> missing = writeTeachers(p);
            p.run(null);

            StageEncoding gemma = StageEncoding.read(out.resolve("stage1")).orElseThrow();
            StageEncoding llama = StageEncoding.read(out.resolve("other1")).orElseThrow();
            assertEquals("default", gemma.baseModel());
            assertEquals("gemma", gemma.template());
            assertEquals("other", llama.baseModel());
            assertEquals("llama3", llama.template());
            assertEquals(1, llama.architecture().numHiddenLayers());
            assertEquals(2, gemma.architecture().numHiddenLayers());
            assertTrue(Files.isRegularFile(out.resolve("other1").resolve("tokenizer.json")));

            TrainedModel m1 = p.trainedModel("stage1");
            TrainedModel m2 = p.trainedModel("other1");
            PromptEncoder e1 = p.encoderFor(m1, null);
            PromptEncoder e2 = p.encoderFor(m2, 160);
            assertEquals(ChatTemplate.GEMMA, e1.template());
            assertEquals(ChatTemplate.LLAMA3, e2.template());
            assertEquals(160, e2.maxLength());
            Conversation row = p.inputs().test().rows().get(0);
            assertEquals(e1.tokenizer().id("<bos>"), e1.encode(row)[0]);
            assertEquals(e2.tokenizer().id("<|begin_of_text|>"), e2.encode(row)[0]);
            assertEquals(out.resolve("base-model"), p.baseModelFor(m1));
            assertEquals(out.resolve("base-model-other"), p.baseModelFor(m2));

            JsonNode summary = Json.MAPPER.readTree(out.resolve("other1").resolve(StageSummary.FILE).toFile());
            JsonNode t = summary.get("teacher_logits");
            long trainRows = summary.get("rows").asLong();
            assertEquals(missing.size(), t.get("plain").asLong(), t.toString());
            assertEquals(trainRows - missing.size(), t.get("distilled").asLong(), t.toString());
            assertTrue(t.get("partial").asLong() > 0, t.toString());
            assertTrue(t.get("ignored").get("held-out rows").asLong() > 0, t.toString());
            assertTrue(log.stream().anyMatch(l -> l.contains("[other1] teacher logits: teacher-70b.csv (weight 2")
                    && l.contains("on plain cross-entropy")), String.join("\n", log));
            assertTrue(log.stream().anyMatch(l -> l.contains("models [stage1, other1]")), String.join("\n", log));
            Path data = out.resolve("data");
            assertEquals(40, Submission.validate(out.resolve("submission.csv"), data.resolve("test.csv"),
                    data.resolve("sample_submission.csv")).rows());
        }

        // the Llama-template stage copied elsewhere (a Kaggle dataset), where another setup names its base otherwise
        Path copy = tmp.resolve("kaggle").resolve("other1");
        arenakit.util.Folders.copyTree(out.resolve("other1"), copy);
        Conversation row;
        int[] expected;
        try (Pipeline first = Pipeline.open(ConfigFolder.of(config.toString()), out, s -> {})) {
            row = first.inputs().test().rows().get(3);
            expected = first.encoderFor(first.trainedModel("other1"), null).encode(row);
        }
        deleteTree(out.resolve("base-model-other")); // not where it was trained any more
        Path config2 = setup(tmp.resolve("setup2"), "llama-8b", 1);
        List<String> log2 = new ArrayList<>();
        try (Pipeline p = Pipeline.open(ConfigFolder.of(config2.toString()), tmp.resolve("out2"), log2::add)) {
            TrainedModel copied = p.trainedModel(copy.toString());
            assertEquals(tmp.resolve("out2").resolve("base-model-llama-8b"), p.baseModelFor(copied));
            assertTrue(log2.stream().anyMatch(l -> l.contains("run on this setup's 'llama-8b', the one of that shape")),
                    String.join("\n", log2));
            assertArrayEquals(expected, p.encoderFor(copied, null).encode(row));
            assertEquals(copied.encoding().tokenizerSha256(), p.encoderFor(copied, null).tokenizer().sha256());
        }
        // ... and a setup without a base of that shape says so
        Path config3 = setup(tmp.resolve("setup3"), "llama-8b", 3);
        try (Pipeline p = Pipeline.open(ConfigFolder.of(config3.toString()), tmp.resolve("out3"), s -> {})) {
            TrainedModel copied = p.trainedModel(copy.toString());
            IOException e = assertThrows(IOException.class, () -> p.baseModelFor(copied));
            assertTrue(e.getMessage().contains("trained on base model 'other'")
                    && e.getMessage().contains("no base model of that shape"), e.getMessage());
            // a tokenizer copy that is not the one it was trained with
            String text = Files.readString(copy.resolve("tokenizer.json"));
            Files.writeString(copy.resolve("tokenizer.json"), text.replace("\"version\"", "\"version\" "));
            e = assertThrows(IOException.class, () -> p.encoderFor(p.trainedModel(copy.toString()), null));
            assertTrue(e.getMessage().contains("is not the tokenizer"), e.getMessage());
        }
    }

    /** A paused stage resumes only with the inputs it started with: the same encoding and teacher files. */
    @Test
    void aResumedStageRefusesChangedInputs() throws Exception {
        Path config = setup(tmp.resolve("setup"), "other", 1);
        Path out = tmp.resolve("out");
        try (Pipeline p = Pipeline.open(ConfigFolder.of(config.toString()), out, s -> {})) {
            writeTeachers(p);
            assertEquals(StageSummary.PAUSED, p.runStage("other1", 1).status());
        }
        Path file = config.resolve("pipeline.json");
        String original = Files.readString(file);
        Files.writeString(file, original.replace("\"llama3\"", "\"chatml\""));
        try (Pipeline p = Pipeline.open(ConfigFolder.of(config.toString()), out, s -> {})) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.runStage("other1", 0));
            assertTrue(e.getMessage().contains("was made from other inputs") && e.getMessage().contains("template")
                    && e.getMessage().contains("the training rows as tokens"), e.getMessage());
        }
        Files.writeString(file, original);
        try (Pipeline p = Pipeline.open(ConfigFolder.of(config.toString()), out, s -> {})) {
            Files.writeString(tmp.resolve("teacher-72b.csv"), "id,logit_a,logit_b,logit_tie\n"
                    + p.inputs().labeled().get(0).id() + ",1,2,3\n");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.runStage("other1", 0));
            assertTrue(e.getMessage().contains("was made from other inputs") && e.getMessage().contains("distill.teachers"),
                    e.getMessage());
        }
    }

    /**
     * A Llama stage trained where the Llama is the default base (as in the llama3-8b setup), copied elsewhere (a Kaggle
     * dataset), predicts in a setup whose default base is a Gemma-2 and whose base_models has that Llama (gemma2-9b's
     * submission_ensemble.json): the base named 'default' there has another family, so the Llama of its shape is
     * used. A setup without a Llama says so in the setup check, before anything loads.
     */
    @Test
    void aStageOfAnotherSetupsDefaultBaseRunsOnTheBaseOfItsFamilyAndShape() throws Exception {
        Path llamaSetup = Files.createDirectories(tmp.resolve("llama-setup"));
        ObjectNode pipeline = read("pipeline.json");
        pipeline.putObject("base_model").set("tiny", pipeline.get("base_models").get("llama").get("tiny").deepCopy());
        pipeline.putObject("base_models");
        pipeline.putArray("stages").add("stage1").add("submission");
        Json.write(llamaSetup.resolve("pipeline.json"), pipeline);
        ObjectNode stage1 = read("llama_stage1.json");
        ((ObjectNode) stage1.get("model")).putNull("base_model");
        ((ObjectNode) stage1.get("train")).put("max_steps", 2).put("eval_every", 0);
        Json.write(llamaSetup.resolve("stage1.json"), stage1);
        ObjectNode submission = read("submission.json");
        submission.putArray("models").add("stage1");
        Json.write(llamaSetup.resolve("submission.json"), submission);
        Path trainedOut = tmp.resolve("llama-out");
        try (Pipeline p = Pipeline.open(ConfigFolder.of(llamaSetup.toString()), trainedOut, s -> {})) {
            p.runStage("stage1", 0);
        }
        assertEquals("default", StageEncoding.read(trainedOut.resolve("stage1")).orElseThrow().baseModel());
        Path kaggle = tmp.resolve("kaggle").resolve("llama3-8b-stage3");
        arenakit.util.Folders.copyTree(trainedOut.resolve("stage1"), kaggle);
        deleteTree(trainedOut); // not where it was trained any more

        Path out = tmp.resolve("gemma-out");
        List<String> log = new ArrayList<>();
        try (Pipeline p = Pipeline.open(ConfigFolder.of("smoke"), out, log::add)) {
            TrainedModel copied = p.trainedModel(kaggle.toString());
            assertEquals(out.resolve("base-model-llama"), p.baseModelFor(copied));
            assertTrue(log.stream().anyMatch(l -> l.contains("trained on base model 'default'")
                    && l.contains("run on this setup's 'llama', the one of that shape")), String.join("\n", log));
            assertEquals(ChatTemplate.LLAMA3, p.encoderFor(copied, null).template());
            Path csv = tmp.resolve("llama-only.csv");
            var config = p.submissionConfig().withModels(List.of(kaggle.toString()))
                    .withInference(p.submissionConfig().inference().withDevices(List.of("cpu"), null));
            assertEquals(40, p.submit(config, p.testFile(), p.sampleSubmissionFile(), csv));
            assertEquals(40, Submission.validate(csv, p.testFile(), p.sampleSubmissionFile()).rows());
        }

        Path noLlama = Setups.copy(tmp.resolve("no-llama"), "smoke", Setups.edit("pipeline.json",
                "\"llama\": {\"tiny\": {\"model_type\": \"llama\"", "\"other\": {\"tiny\": {\"model_type\": \"qwen2\""),
                Setups.edit("llama_stage1.json", "\"base_model\": \"llama\"", "\"base_model\": \"other\""));
        try (Pipeline p = Pipeline.open(ConfigFolder.of(noLlama.toString()), tmp.resolve("no-llama-out"), s -> {})) {
            var config = p.submissionConfig().withModels(List.of(kaggle.toString()));
            ConfigException e = assertThrows(ConfigException.class, () -> p.submit(config, p.testFile(),
                    p.sampleSubmissionFile(), tmp.resolve("never.csv")));
            assertTrue(e.getMessage().contains(kaggle + " was trained on a llama base model ('default', llama, hidden "
                    + "32, 2 layers") && e.getMessage().contains("this setup has none of that family"), e.getMessage());
        }
    }

    @Test
    void aStageNamingAnUnknownBaseFailsAtOnce() throws Exception {
        Path config = setup(tmp.resolve("setup"), "other", 1);
        ObjectNode other1 = (ObjectNode) Json.MAPPER.readTree(config.resolve("other1.json").toFile());
        ((ObjectNode) other1.get("model")).put("base_model", "llama");
        Json.write(config.resolve("other1.json"), other1);
        ConfigException e = assertThrows(ConfigException.class,
                () -> Pipeline.open(ConfigFolder.of(config.toString()), tmp.resolve("out"), s -> {}));
        assertTrue(e.getMessage().contains("other1.json") && e.getMessage().contains("model.base_model 'llama'")
                && e.getMessage().contains("[other]"), e.getMessage());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
