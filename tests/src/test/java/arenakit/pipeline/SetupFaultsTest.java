package arenakit.pipeline;

import static arenakit.pipeline.Setups.edit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import arenakit.data.SampleGenerator;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.TinyCheckpoints;
import arenakit.util.Engines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad setups, one row each: every one must fail before any stage runs, with one message naming the file, the key
 * and what was expected (docs/faults.md lists the same cases). Nothing here trains: the pipeline is opened and its
 * setup check run, the way every run starts.
 */
class SetupFaultsTest {
    /** The smoke submission's ensemble, the "models" line as configs/smoke/submission.json writes it. */
    private static final String SMOKE_MODELS = smokeLine("submission.json", "\"models\"");

    /** The line of a shipped smoke file that starts with {@code key} (without its trailing comma). */
    static String smokeLine(String file, String key) {
        String text;
        try {
            text = ConfigFolder.of("smoke").text(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return text.lines().map(String::trim).filter(l -> l.startsWith(key)).findFirst()
                .map(l -> l.endsWith(",") ? l.substring(0, l.length() - 1) : l)
                .orElseThrow(() -> new IllegalStateException("smoke/" + file + " has no " + key + " line"));
    }

    @TempDir
    static Path dir;
    /** A generated sample as Kaggle-style files, for the cases with configured data paths. */
    private static SampleGenerator.SampleFiles data;
    private static int count;

    @BeforeAll
    static void sample() throws Exception {
        data = SampleGenerator.write(dir.resolve("kaggle"), SampleGenerator.Options.defaults().withRows(60, 20, 20, 20)
                .withResponseWords(12));
    }

    /** pipeline.json of the smoke setup with its data at the generated Kaggle-style files. */
    private static Setups.Edit configuredData() {
        return edit("pipeline.json", "\"data\": {\"train\": null, \"test\": null, \"sample_submission\": null, "
                + "\"external\": [], \"unlabeled\": []}", "\"data\": {\"train\": \"" + data.train() + "\", \"test\": \""
                + data.test() + "\", \"sample_submission\": \"" + data.sampleSubmission() + "\", \"external\": [\""
                + data.external() + "\"], \"unlabeled\": [\"" + data.preference() + "\"]}");
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // ---- wrong JSON types: no coercion
                row("a word for a number", List.of(edit("stage1.json", "\"alpha\": 8", "\"alpha\": \"thirty-two\"")),
                        "stage1.json: 'model.lora.alpha' must be a number, got \"thirty-two\" (a string)"),
                row("a fraction for an integer", List.of(edit("stage1.json", "\"r\": 4,", "\"r\": 4.5,")),
                        "stage1.json: 'model.lora.r' must be an integer, got 4.5"),
                row("a quoted integer", List.of(edit("stage2.json", "\"batch_size\": 8", "\"batch_size\": \"8\"")),
                        "stage2.json: 'loader.batch_size' must be an integer, got \"8\" (a string)"),
                row("a word for a model size", List.of(edit("pipeline.json", "\"num_hidden_layers\": 2",
                        "\"num_hidden_layers\": \"four\"")),
                        "pipeline.json: 'base_model.tiny.num_hidden_layers' must be an integer, got \"four\""),
                row("a number for a string", List.of(edit("stage1.json", "\"swap\": \"full\"", "\"swap\": 2")),
                        "stage1.json: 'data.swap' must be a string, got 2"),
                row("null for a primitive", List.of(edit("stage1.json", "\"epochs\": 1,", "\"epochs\": null,")),
                        "stage1.json: 'train.epochs' is null, expected an integer"),
                row("null where null means nothing", List.of(edit("stage1.json", "\"betas\": [0.9, 0.98]",
                        "\"betas\": null")), "stage1.json: 'optimizer.betas' is null, expected a list of numbers"),
                row("a string for a boolean", List.of(edit("submission.json", "\"tta\": true", "\"tta\": \"yes\"")),
                        "submission.json: 'inference.tta' must be true or false, got \"yes\" (a string)"),
                // ---- unknown and missing keys
                row("a renamed key", List.of(edit("stage1.json", "\"lr\": 3e-3", "\"lrr\": 3e-3")),
                        "stage1.json: unknown field 'optimizer.lrr' (did you mean 'lr'?",
                        "stage1.json: missing field 'optimizer.lr' (a number)"),
                row("a missing grad_clip", List.of(edit("stage3.json", ", \"grad_clip\": 1.0", "")),
                        "stage3.json: missing field 'optimizer.grad_clip' (a number)"),
                row("missing betas", List.of(edit("stage2.json", "\"betas\": [0.9, 0.98], ", "")),
                        "stage2.json: missing field 'optimizer.betas' (a list of numbers)"),
                row("an unknown key in a sample option", List.of(edit("pipeline.json", "\"seed\": 42, \"response_words\"",
                        "\"seed\": 42, \"trian_rows\": 3, \"response_words\"")),
                        "pipeline.json: unknown field 'sample.trian_rows' (known: "),
                row("a quoted sample option", List.of(edit("pipeline.json", "\"train_rows\": 240",
                        "\"train_rows\": \"240\"")), "pipeline.json: 'sample.train_rows' must be an integer, got \"240\""),
                // ---- syntax
                row("a JSON syntax error", List.of(edit("stage1.json", "\"epochs\": 1,", "\"epochs\": 1,,")),
                        "stage1.json: line 15 column"),
                row("a duplicate key", List.of(edit("stage1.json", "\"lr\": 3e-3", "\"lr\": 3e-3, \"lr\": 1e-2")),
                        "stage1.json: line 12", "Duplicate field 'lr'"),
                row("text after the JSON", List.of(edit("stage3.json", "\"distill\": null\n}", "\"distill\": null\n}\n}")),
                        "stage3.json: line"),
                // ---- invalid values, found when the file is read
                row("a prompt-format typo in the last training stage", List.of(edit("stage3.json", "\"format\": \"rounds\"",
                        "\"format\": \"round\"")), "stage3.json: at 'data.text': unknown prompt format 'round'"),
                row("a truncation typo", List.of(edit("stage2.json", "\"truncation\": \"proportional\"",
                        "\"truncation\": \"proportionate\"")), "stage2.json", "unknown truncation 'proportionate'"),
                row("a stage kind typo", List.of(edit("stage2.json", "\"kind\": \"train\"", "\"kind\": \"training\"")),
                        "stage2.json: 'kind' must be \"train\", \"pseudo_labels\", \"submission\" or \"average\", got \"training\""),
                row("a LoRA target typo", List.of(edit("stage1.json", "\"q_proj\", \"k_proj\"", "\"q_prj\", \"k_proj\"")),
                        "stage1.json", "unknown projection 'q_prj'"),
                row("a head typo", List.of(edit("stage1.json", "\"head\": \"linear\"", "\"head\": \"mpl\"")),
                        "stage1.json", "model.head must be linear, mlp or mlp3, got mpl"),
                row("eps 0", List.of(edit("stage1.json", "\"eps\": 1e-8", "\"eps\": 0")), "stage1.json",
                        "optimizer.eps must be > 0"),
                row("no devices", List.of(edit("pseudo_labels.json", "\"devices\": [\"cpu\"]", "\"devices\": []")),
                        "pseudo_labels.json", "inference.devices must name the device(s)"),
                row("estimate_after_batches 0", List.of(edit("submission.json", "\"estimate_after_batches\": 4",
                        "\"estimate_after_batches\": 0")), "submission.json",
                        "inference.estimate_after_batches must be > 0"),
                row("a misspelt device", List.of(edit("submission.json", "[\"cpu\", \"cpu\"]", "[\"cpu\", \"cpo\"]")),
                        "submission.json", "unknown device 'cpo'"),
                row("a stage without its file", List.of(edit("pipeline.json", "\"stage3\", \"submission\"",
                        "\"stage3\", \"stage4\", \"submission\"")), "pipeline.json: stage 'stage4' has no stage4.json"),
                row("a stage listed twice", List.of(edit("pipeline.json", "\"stage3\", \"submission\"",
                        "\"stage3\", \"stage3\", \"submission\"")), "pipeline.json: 'stages' lists 'stage3' twice"),
                row("problems in two files, listed together", List.of(
                        edit("stage1.json", "\"alpha\": 8", "\"alpha\": \"8\""),
                        edit("pseudo_labels.json", "\"chunk_rows\": 25", "\"chunk_rows\": 2.5")),
                        "2 problems in setup", "stage1.json: 'model.lora.alpha' must be a number",
                        "pseudo_labels.json: 'chunk_rows' must be an integer, got 2.5"),
                // ---- references between stages
                row("load_from a stage that does not exist", List.of(edit("stage3.json", "\"load_from\": \"stage2\"",
                        "\"load_from\": \"stage0\"")), "stage3.json: 'model.load_from' 'stage0' is neither a training "
                        + "stage of this setup [stage1, llama_stage1, qwen_stage1, stage2, stage3] nor a folder"),
                row("load_from a later stage", List.of(edit("stage2.json", "\"load_from\": \"stage1\"",
                        "\"load_from\": \"stage3\"")), "stage2.json: 'model.load_from' names stage 'stage3', which runs "
                        + "after 'stage2'"),
                row("a submission model typo", List.of(edit("submission.json", SMOKE_MODELS,
                        "\"models\": [\"stage33\"]")), "submission.json: 'models[0]' 'stage33' is neither"),
                row("a model that is not a training stage", List.of(edit("submission.json", SMOKE_MODELS,
                        "\"models\": [\"pseudo_labels\"]")), "submission.json: 'models[0]' names stage "
                        + "'pseudo_labels', which is not a training stage"),
                row("pseudo-labels with no pseudo-label stage before", List.of(edit("pipeline.json",
                        "\"qwen_stage1\", \"pseudo_labels\", \"stage2\"", "\"qwen_stage1\", \"stage2\", \"pseudo_labels\"")),
                        "stage2.json: 'data.sources' has pseudo_labels but no pseudo-label stage runs before 'stage2'"),
                row("external rows the sample does not have", List.of(edit("pipeline.json", "\"external_rows\": 40",
                        "\"external_rows\": 0")), "stage1.json needs external rows, but the embedded sample has "
                        + "external_rows = 0"),
                row("a split layer outside the model", List.of(edit("submission.json", "\"split_layer\": null",
                        "\"split_layer\": 2")), "submission.json: 'inference.split_layer' must be in [1, 1] for a base "
                        + "model of 2 layers, got 2"),
                row("a tokenizer file that does not exist", List.of(edit("pipeline.json", "\"tokenizer\": \"sample\",\n",
                        "\"tokenizer\": \"no/such/tokenizer.json\",\n")), "pipeline.json: 'tokenizer' ",
                        "no/such/tokenizer.json does not exist"),
                // ---- several base models
                row("a second base's tokenizer that does not exist", List.of(edit("pipeline.json", "\"seed\": 11}, "
                        + "\"tokenizer\": \"sample\"", "\"seed\": 11}, \"tokenizer\": \"no/llama/tokenizer.json\"")),
                        "pipeline.json: 'base_models.llama.tokenizer' ", "no/llama/tokenizer.json does not exist"),
                row("a second base's model_type typo", List.of(edit("pipeline.json", "\"model_type\": \"qwen2\"",
                        "\"model_type\": \"qwen\"")), "pipeline.json", "model_type 'qwen' is not supported"),
                row("a stage on a base that base_models lacks", List.of(edit("qwen_stage1.json",
                        "\"base_model\": \"qwen2\"", "\"base_model\": \"qwen2.5\"")), "qwen_stage1.json: "
                        + "model.base_model 'qwen2.5' is not a base model of", "base_models has [llama, qwen2]"),
                row("a second base whose checkpoint does not exist", List.of(edit("pipeline.json", "\"qwen2\": "
                        + "{\"tiny\": {\"model_type\": \"qwen2\", \"hidden_size\": 32, \"intermediate_size\": 64, "
                        + "\"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, "
                        + "\"head_dim\": 16, \"seed\": 13}", "\"qwen2\": {\"checkpoint\": \"/nowhere/qwen2.5-7b\"")),
                        "pipeline.json: 'base_models.qwen2.checkpoint' /nowhere/qwen2.5-7b does not exist"),
                row("data.test without data.train", List.of(edit("pipeline.json", "\"test\": null",
                        "\"test\": \"test.csv\"")), "pipeline.json: [data.test] set while 'data.train' is null"),
                // ---- data files
                row("a data file that does not exist", List.of(configuredData(), edit("pipeline.json", "lmsys-33k.csv",
                        "lmsys-34k.csv")), "pipeline.json: 'data.external[0]': ", "lmsys-34k.csv does not exist"));
    }

    private static Arguments row(String name, List<Setups.Edit> edits, String... expected) {
        return Arguments.of(name, edits, List.of(expected));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void failsBeforeAnyStageNamingFileAndKey(String name, List<Setups.Edit> edits, List<String> expected)
            throws Exception {
        Path setup = Setups.copy(dir.resolve("case" + (++count)), "smoke", edits.toArray(new Setups.Edit[0]));
        String message = openAndCheck(setup);
        for (String e : expected) {
            assertTrue(message.contains(e), "expected '" + e + "' in:\n" + message);
        }
        assertFalse(message.contains("REDACTED"), message);
        assertFalse(Files.exists(dir.resolve("out" + count)), "nothing is written when the setup is bad");
    }

    /** The message of the ConfigException that opening or checking the setup throws. */
    private static String openAndCheck(Path setup) {
        ConfigException e = assertThrows(ConfigException.class, () -> {
            try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), dir.resolve("out" + count), s -> {})) {
                p.check(p.experiment().stages());
            }
        });
        return e.getMessage();
    }

    @Test
    void aHeaderThatIsNotKagglesIsFoundBeforeAnyStage() throws Exception {
        Path bad = dir.resolve("bad-header.csv");
        Files.writeString(bad, Files.readString(data.train()).replaceFirst("winner_tie", "winner_draw"));
        Path setup = Setups.copy(dir.resolve("header"), "smoke", configuredData(),
                edit("pipeline.json", data.train().toString(), bad.toString()));
        String m = openAndCheck(setup);
        assertTrue(m.contains("pipeline.json: 'data.train': " + bad + " line 1: header does not match: missing "
                + "column(s) [winner_tie]; unexpected column(s) [winner_draw]"), m);
    }

    @Test
    void testIdsThatDoNotMatchTheSampleSubmissionAreFoundBeforeAnyStage() throws Exception {
        Path sample = dir.resolve("sample_submission_other.csv");
        List<String> lines = new ArrayList<>(Files.readAllLines(data.sampleSubmission()));
        String first = lines.get(1);
        lines.set(1, "999999" + first.substring(first.indexOf(',')));
        Files.write(sample, lines);
        Path setup = Setups.copy(dir.resolve("ids"), "smoke", configuredData(),
                edit("pipeline.json", data.sampleSubmission().toString(), sample.toString()));
        String m = openAndCheck(setup);
        assertTrue(m.contains("test ids do not match " + sample), m);
        assertTrue(m.contains("999999"), m);
    }

    @Test
    void aBaseCheckpointWhoseShapesDoNotFitItsConfigIsFoundWithoutLoadingIt() throws Exception {
        Path ckpt = TinyCheckpoints.write(dir.resolve("ckpt"), Gemma2Config.of(300, 32, 64, 2, 2, 1, 16),
                SafetensorsFile.DType.F32, 1, 3);
        Path config = ckpt.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\" : 64",
                "\"intermediate_size\" : 96"));
        String base = "\"base_model\": {\n    \"tiny\": {\"model_type\": \"gemma2\", \"hidden_size\": 32, \"intermediate_size\": 64, "
                + "\"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 16, "
                + "\"seed\": 7}\n  }";
        Path setup = Setups.copy(dir.resolve("shapes"), "smoke", edit("pipeline.json", base,
                "\"base_model\": {\"checkpoint\": \"" + ckpt + "\"}"));
        String m = openAndCheck(setup);
        assertTrue(m.contains("base model: " + ckpt + " does not match its config.json"), m);
        assertTrue(m.contains("model.layers.0.mlp.gate_proj.weight in model.safetensors has shape [64, 32], expected "
                + "[96, 32]"), m);

        // a safetensors file cut short (a copy that stopped): its header no longer fits the file
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\" : 96",
                "\"intermediate_size\" : 64"));
        Path weights = ckpt.resolve("model.safetensors");
        long size = Files.size(weights);
        try (var ch = java.nio.channels.FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(size / 2);
        }
        m = openAndCheck(setup);
        assertTrue(m.contains("base model: " + weights + ": tensor "), m);
        assertTrue(m.contains("fall outside the data section"), m);
    }

    @Test
    void aFolderGivenAsAModelMustHoldATrainedStageOrAPeftAdapter() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("not-a-model"));
        Path peft = Files.createDirectories(dir.resolve("peft-without-weights"));
        Files.writeString(peft.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, "
                + "\"target_modules\": [\"q_proj\"]}");
        Path setup = Setups.copy(dir.resolve("folders"), "smoke", edit("submission.json", SMOKE_MODELS,
                "\"models\": [\"" + empty + "\", \"" + peft + "\"]"));
        String m = openAndCheck(setup);
        assertTrue(m.contains("submission.json: 'models[0]' " + empty + " is not a trained stage: it has no stage.json"),
                m);
        assertTrue(m.contains("submission.json: 'models[1]' " + peft.resolve("adapter_model.safetensors")
                + " not found"), m);
    }

    /**
     * A PEFT adapter folder named as a model is checked against the base it will run on, from its headers: its head
     * (or an explicit base_head), its tensors and their shapes.
     */
    @Test
    void anAdapterFolderIsCheckedAgainstTheBaseModelBeforeAnyStage() throws Exception {
        var smokeBase = arenakit.model.family.Families.tiny("gemma2", 256, 32, 64, 2, 2, 1, 16);
        List<String> all = arenakit.model.lora.LoraConfig.ALL_LINEAR;
        Path good = arenakit.model.lora.RandomAdapters.write(dir.resolve("adapters/good"), smokeBase, 2, 4, all, true, 1);
        Path headless = arenakit.model.lora.RandomAdapters.write(dir.resolve("adapters/headless"), smokeBase, 2, 4, all,
                false, 2);
        Path wider = arenakit.model.lora.RandomAdapters.write(dir.resolve("adapters/wider"),
                arenakit.model.family.Families.tiny("gemma2", 256, 48, 64, 2, 2, 1, 16), 2, 4, all, true, 3);
        Path broken = arenakit.model.lora.RandomAdapters.write(dir.resolve("adapters/broken"), smokeBase, 2, 4, all,
                true, 4);
        Path brokenWeights = broken.resolve("adapter_model.safetensors");
        var kept = new ArrayList<arenakit.model.io.SafetensorsWriter.Tensor>();
        var file = SafetensorsFile.open(brokenWeights);
        try (var m = Engines.newManager()) {
            for (var e : file.entries().values()) {
                if (!e.name().equals("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight")) {
                    kept.add(arenakit.model.io.SafetensorsWriter.Tensor.of(e.name(), e.shape(), file.load(e.name(), m,
                            ai.djl.ndarray.types.DataType.FLOAT32, true).toFloatArray()));
                }
            }
        }
        arenakit.model.io.SafetensorsWriter.write(brokenWeights, SafetensorsFile.DType.F32, kept, java.util.Map.of());

        String models = "\"models\": [\"" + good + "\", \"" + headless + "\", \"" + wider + "\", \"" + broken + "\"]";
        String m = openAndCheck(Setups.copy(dir.resolve("adapter-check"), "smoke", edit("submission.json", SMOKE_MODELS,
                models)));
        assertTrue(m.contains("has 3 problems"), m);
        assertFalse(m.contains("'models[0]'"), "the good adapter passes: " + m);
        assertTrue(m.contains("submission.json: 'models[1]' " + headless + " carries no trained head"), m);
        assertTrue(m.contains("\"base_head\": true on the model reference"), m);
        assertTrue(m.contains("submission.json: 'models[2]' " + wider.resolve("adapter_model.safetensors")
                + " does not fit the model"), m);
        assertTrue(m.contains("has shape [2, 48], expected [2, 32] (r, in_features of model.layers.0.self_attn.q_proj)"),
                m);
        assertTrue(m.contains("submission.json: 'models[3]' " + brokenWeights + " is not the adapter"), m);
        assertTrue(m.contains("missing base_model.model.model.layers.1.mlp.up_proj.lora_B.weight (its lora_A is "
                + "there)"), m);

        // asking for the base's head explicitly makes the headless adapter acceptable
        List<String> log = new ArrayList<>();
        Path ok = Setups.copy(dir.resolve("adapter-base-head"), "smoke", edit("submission.json", SMOKE_MODELS,
                "\"models\": [\"" + good + "\", {\"model\": \"" + headless + "\", \"base_head\": true}]"));
        try (Pipeline p = Pipeline.open(ConfigFolder.of(ok.toString()), dir.resolve("out-base-head"), log::add)) {
            p.check(p.experiment().stages());
        }
        assertTrue(log.get(log.size() - 1).startsWith("setup checked: 8 stages"), log.toString());
    }

    /** A submission from the command line reads its own test file: the setup's other data files need not exist. */
    @Test
    void aCommandLineSubmissionChecksOnlyWhatItUses() throws Exception {
        Path setup = Setups.copy(dir.resolve("submit-only"), "smoke", configuredData(),
                edit("pipeline.json", data.train().toString(), "/nowhere/train.csv"));
        try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), dir.resolve("submit-out"), s -> {})) {
            ConfigException e = assertThrows(ConfigException.class, () -> p.check(List.of("stage1")));
            assertTrue(e.getMessage().contains("'data.train': /nowhere/train.csv does not exist"), e.getMessage());
            var config = new arenakit.infer.SubmissionConfig("submission", null,
                    arenakit.infer.WeightedModel.allOf(List.of("stage9")), null, null, null,
                    p.submissionConfig().inference());
            ConfigException s = assertThrows(ConfigException.class, () -> p.submit(config, data.test(),
                    data.sampleSubmission(), dir.resolve("s.csv")));
            assertFalse(s.getMessage().contains("train.csv"), s.getMessage());
            assertTrue(s.getMessage().contains("'models[0]' 'stage9' is neither"), s.getMessage());
        }
    }

    /**
     * A run of a real setup on a machine without its files or GPUs: every problem at once, nothing run, and nothing
     * but missing Kaggle paths and GPUs (the configs themselves are right). gemma2-9b's Llama base (base_models) is
     * used by no stage of the setup, so it is not asked for.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma2-9b", "llama3-8b"})
    void aRealSetupOnTheWrongMachineListsEveryProblemAtOnce(String setup) {
        String checkpoint = setup.equals("gemma2-9b") ? "/kaggle/input/gemma-2-9b-it" : "/kaggle/input/armorm-llama3-8b";
        assumeTrue(!Files.exists(Path.of(checkpoint)), "this machine has the Kaggle inputs");
        ConfigException e = assertThrows(ConfigException.class, () -> {
            try (Pipeline p = Pipeline.open(ConfigFolder.of(setup), dir.resolve(setup), s -> {})) {
                p.check(p.experiment().stages());
            }
        });
        String m = e.getMessage();
        assertTrue(m.contains("nothing was run"), m);
        assertTrue(m.contains("'base_model.checkpoint' " + checkpoint + " does not exist"), m);
        assertTrue(m.contains("'data.train': /kaggle/input/lmsys-chatbot-arena/train.csv does not exist"), m);
        assertTrue(m.contains("'data.sample_submission': "), m);
        boolean gpus = Engines.pytorch().getGpuCount() >= 2;
        if (!gpus) {
            assertTrue(m.contains("submission.json: 'inference.devices' asks for gpu(0) and gpu(1), but PyTorch sees "
                    + "no GPU on this machine") || m.contains("this machine has 1 GPU"), m);
        }
        for (String problem : m.substring(m.indexOf("\n")).split("\n  - ")) {
            if (problem.isBlank()) {
                continue;
            }
            assertTrue(problem.contains("/kaggle/input/") && problem.contains("does not exist")
                    || !gpus && (problem.contains("'inference.devices' asks for gpu(")
                            || problem.contains("'train.devices' asks for gpu(")), "only missing Kaggle paths and "
                    + "GPUs, but: " + problem + "\nin:\n" + m);
        }
        assertFalse(m.contains("base_models"), "no stage uses gemma2-9b's Llama base: " + m);
        assertFalse(Files.exists(dir.resolve(setup)), "a failed check writes nothing");
    }

    /**
     * A base of base_models is checked only when the run uses it: a Gemma-only run of a setup that also names a Llama
     * checkpoint (gemma2-9b on Kaggle without the Llama attached) passes; a stage on it, or a submission of a model
     * trained on it, reports the missing folder.
     */
    @Test
    void aSecondBaseIsCheckedOnlyWhenTheRunUsesIt() throws Exception {
        Setups.Edit unused = edit("pipeline.json", "\"base_models\": {\n", "\"base_models\": {\n    \"armorm\": "
                + "{\"checkpoint\": \"/nowhere/armorm-llama3-8b\", \"tokenizer\": \"/nowhere/tokenizer.json\"},\n");
        Path setup = Setups.copy(dir.resolve("unused-base"), "smoke", unused);
        List<String> log = new ArrayList<>();
        try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), dir.resolve("unused-out"), log::add)) {
            p.check(p.experiment().stages());
        }
        assertTrue(log.get(0).startsWith("setup checked: 8 stages"), log.toString());

        Path used = Setups.copy(dir.resolve("used-base"), "smoke", unused, edit("llama_stage1.json",
                "\"base_model\": \"llama\"", "\"base_model\": \"armorm\""));
        String m = openAndCheck(used);
        assertTrue(m.contains("'base_models.armorm.checkpoint' /nowhere/armorm-llama3-8b does not exist"), m);
        assertTrue(m.contains("'base_models.armorm.tokenizer' /nowhere/tokenizer.json does not exist"), m);
    }

    /** gpu(0) on a machine without one: a config error naming the file, not PyTorch's dispatcher dump. */
    @Test
    void aGpuThatIsNotThereIsAConfigError() throws Exception {
        assumeTrue(Engines.pytorch().getGpuCount() == 0, "this machine has a GPU");
        Path setup = Setups.copy(dir.resolve("gpu"), "smoke", edit("submission.json", "[\"cpu\", \"cpu\"]",
                "[\"gpu(0)\", \"cpu\"]"));
        String m = openAndCheck(setup);
        assertTrue(m.contains("submission.json: 'inference.devices' asks for gpu(0), but PyTorch sees no GPU"), m);
        assertEquals(2, m.split("\n").length, "one problem, one line: " + m);
    }

    /** A setup with nothing wrong passes the check and says so. */
    @Test
    void aGoodSetupSaysSetupChecked() throws Exception {
        List<String> log = new ArrayList<>();
        try (Pipeline p = Pipeline.open(ConfigFolder.of(Setups.copy(dir.resolve("good"), "smoke").toString()),
                dir.resolve("good-out"), log::add)) {
            p.check(p.experiment().stages());
        }
        assertEquals(List.of("setup checked: 8 stages (eda, stage1, llama_stage1, qwen_stage1, pseudo_labels, stage2, "
                + "stage3, submission)"), log);
    }
}
