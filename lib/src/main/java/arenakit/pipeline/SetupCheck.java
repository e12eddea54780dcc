package arenakit.pipeline;

import arenakit.data.DataException;
import arenakit.data.DataKind;
import arenakit.data.KaggleCsv;
import arenakit.data.Submission;
import arenakit.infer.InferenceConfig;
import arenakit.infer.SubmissionConfig;
import arenakit.model.Placement;
import arenakit.train.PseudoLabelConfig;
import arenakit.text.Tokenizer;
import arenakit.train.TrainConfig;
import arenakit.util.ArenaHome;
import arenakit.util.Engines;
import arenakit.util.Errors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything a run will use, checked before its first step, every problem listed together: the stage configs
 * (read when the pipeline opens), the references between stages ({@code load_from}, {@code models}, the
 * pseudo-label source), the base model (config.json and safetensors headers and shapes, no weights loaded), the
 * adapter and stage folders named by path, the tokenizer, the data files (headers, and test/sample_submission id
 * agreement when a submission is made), the output folder's writability and the requested devices. A typo in the
 * last stage, or a data file the submission will choke on, fails in the first seconds, not hours in.
 */
final class SetupCheck {
    private final Pipeline p;
    private final List<String> problems = new ArrayList<>();
    private Integer baseLayers;
    /** The entries of base_models this run uses (its training stages' bases, its models'); only these are checked. */
    private final Set<String> namedBases = new LinkedHashSet<>();

    private static final String TRAIN = "train";
    private static final String EXTERNAL = "external";
    private static final String UNLABELED = "unlabeled";
    private static final String TEST = "test";
    private static final String SUBMISSION = "sample_submission";

    private SetupCheck(Pipeline p) {
        this.p = p;
    }

    /**
     * Checks what running {@code stages} (in setup order) will use, plus {@code extra} (a submission config from
     * the command line, or null); throws a {@link ConfigException} listing every problem.
     */
    static void run(Pipeline p, List<String> stages, SubmissionConfig extra) {
        SetupCheck c = new SetupCheck(p);
        c.baseModel();
        c.tokenizer();
        // the data files this run reads (a submission from the command line reads its own test file)
        Set<String> reads = new LinkedHashSet<>();
        if (Tokenizers.SAMPLE.equals(p.experiment().tokenizer()) && !stages.isEmpty()) {
            reads.addAll(List.of(TRAIN, EXTERNAL, UNLABELED, TEST)); // its vocabulary is made from all of them
        }
        for (String stage : stages) {
            Object config = p.stageConfig(stage);
            if (config == null) { // eda
                reads.addAll(List.of(TRAIN, TEST));
            } else if (config instanceof TrainConfig t) {
                c.train(stage, t, stages);
                reads.addAll(List.of(TRAIN, EXTERNAL)); // the labeled rows and the holdout are made from both
                if (t.data().sources().contains(TrainConfig.Data.PSEUDO_LABELS)) {
                    reads.add(UNLABELED);
                }
            } else if (config instanceof PseudoLabelConfig pl) {
                c.models(stage, pl.models(), stages);
                c.inference(stage, pl.inference(), pl.maxLength());
                c.needs(stage, "data.unlabeled", p.experiment().data().unlabeled(), "preference_rows");
                reads.add(UNLABELED);
            } else if (config instanceof AverageConfig a) {
                c.average(stage, a, stages);
            } else if (config instanceof SubmissionConfig s) {
                c.models(stage, s.models(), stages);
                c.inference(stage, s.inference(), s.maxLength());
                reads.addAll(List.of(TEST, SUBMISSION));
            }
        }
        if (extra != null) {
            c.models("submit", extra.models(), stages);
            c.inference("submit", extra.inference(), extra.maxLength());
        }
        c.namedBases();
        c.dataFiles(reads);
        c.output();
        for (String stage : stages) {
            c.memory(stage, p.stageConfig(stage));
        }
        if (extra != null) {
            c.memory("submit", extra);
        }
        c.report();
    }

    /**
     * Whether the stage's model(s) fit the memory of its devices (before any weight loads): a problem with the
     * numbers and the settings that fit when not ({@link MemoryCheck}).
     */
    private void memory(String stage, Object config) {
        if (config == null) {
            return;
        }
        try {
            for (MemoryCheck.Report r : MemoryCheck.of(p, stage, config, MemoryCheck.measured(), this::baseConfig)) {
                if (!r.unknown() && !r.fits()) {
                    problem(r.problem());
                }
            }
        } catch (RuntimeException e) {
            problem(where(stage) + ": memory check: " + Errors.message(e));
        }
    }

    /** A base model's config by name (null: the default), or null when it cannot be read (reported elsewhere). */
    private arenakit.model.family.DecoderConfig baseConfig(String name) {
        ExperimentConfig.BaseModel spec = name == null || name.equals(ExperimentConfig.DEFAULT_BASE)
                ? p.experiment().baseModel() : p.experiment().baseModels().containsKey(name)
                ? p.experiment().baseModels().get(name).baseModel() : null;
        return spec == null ? null : MemoryCheck.baseConfig(spec);
    }

    /**
     * The second part of the check, run while the output folder is locked (it may prepare the embedded sample
     * there): stages that finished earlier must have been made from what the setup gives them now.
     */
    static void finishedStages(Pipeline p, List<String> stages) {
        SetupCheck c = new SetupCheck(p);
        for (String stage : stages) {
            if (c.finished(stage)) {
                try {
                    StageInputs.checkUnchanged(p, stage);
                } catch (IOException | RuntimeException e) {
                    c.problem(Errors.message(e));
                }
            }
        }
        c.report();
    }

    private void report() {
        if (!problems.isEmpty()) {
            int n = problems.size();
            throw new ConfigException("setup " + p.folder().name() + " (" + p.folder().where("pipeline.json")
                    + ") has " + n + " problem" + (n == 1 ? "" : "s") + "; nothing was run:\n  - "
                    + String.join("\n  - ", problems.stream().map(m -> m.replace("\n", "\n    ")).toList()));
        }
    }

    private String where(String stage) {
        if (stage.equals("submit")) {
            return "submit (the command line and " + p.folder().where(p.submitFile()) + ")";
        }
        return p.folder().where(stage + ".json");
    }

    private void problem(String message) {
        problems.add(message);
    }

    /** pipeline.json's {@code base_model}, which every run uses (its tokenizer makes the sample's vocabulary too). */
    private void baseModel() {
        baseLayers = baseModel(p.experiment().baseModel(), "base_model");
    }

    /**
     * The {@code base_models} entries the run uses, with their tokenizers. An entry no stage of the run trains and no
     * model it runs needs is not checked: gemma2-9b's Llama checkpoint need not be attached to a Gemma-only submission.
     */
    private void namedBases() {
        String where = p.folder().where("pipeline.json");
        for (String name : namedBases) {
            ExperimentConfig.NamedBaseModel b = p.experiment().baseModels().get(name);
            baseModel(b.baseModel(), "base_models." + name);
            tokenizer(b.tokenizer(), b.baseModel(), where + ": 'base_models." + name + ".tokenizer' ");
        }
    }

    /** A base the run uses, by its setup name (null or {@code default} = pipeline.json's base_model). */
    private void uses(String base) {
        if (base != null && p.experiment().baseModels().containsKey(base)) { // default is checked by baseModel()
            namedBases.add(base);
        }
    }

    /**
     * The bases a trained model from a folder may run on here, as {@link Pipeline#baseModelFor} will choose: the base
     * of the name it was trained on when it has the same family; else its training checkpoint when that is still
     * there; else every base of its family (a missing checkpoint's family is unknown: it may be the one). None: a
     * problem.
     */
    private void basesFor(TrainedModel m, String at) {
        StageEncoding e = m.encoding();
        if (e == null) { // a stage folder written before encoding.json: its config's base
            String base = m.config().model().baseModel();
            if (base != null && !p.experiment().baseModels().containsKey(base)) {
                problem(at + m.dir() + " was trained on base model '" + base + "', which this setup does not have "
                        + "(base_models: " + p.experiment().baseModels().keySet() + ")");
            }
            uses(base);
            return;
        }
        String type = e.architecture().modelType();
        ExperimentConfig.BaseModel named = e.baseModel().equals(ExperimentConfig.DEFAULT_BASE)
                ? p.experiment().baseModel() : p.experiment().baseModels().containsKey(e.baseModel())
                ? p.experiment().baseModels().get(e.baseModel()).baseModel() : null;
        if (named != null && type.equals(modelTypeOrNull(named))) {
            uses(e.baseModel());
            return;
        }
        if (Files.isRegularFile(Path.of(e.checkpoint()).resolve("config.json"))) {
            return; // the checkpoint it was trained on is still there
        }
        List<String> candidates = new ArrayList<>();
        String defaultType = modelTypeOrNull(p.experiment().baseModel());
        if (defaultType == null || defaultType.equals(type)) {
            candidates.add(ExperimentConfig.DEFAULT_BASE);
        }
        p.experiment().baseModels().forEach((name, b) -> {
            String t = modelTypeOrNull(b.baseModel());
            if (t == null || t.equals(type)) {
                candidates.add(name);
            }
        });
        if (candidates.isEmpty()) {
            problem(at + m.dir() + " was trained on a " + type + " base model ('" + e.baseModel() + "', "
                    + e.architecture() + "), and this setup has none of that family: add its checkpoint to "
                    + "pipeline.json's base_models");
        }
        candidates.forEach(this::uses);
    }

    /** A base's model_type from its config.json or tiny spec, or null when its checkpoint cannot be read. */
    private static String modelTypeOrNull(ExperimentConfig.BaseModel base) {
        try {
            return BaseModels.modelType(base);
        } catch (IOException | RuntimeException e) {
            return null; // reported by the base's own check when the run uses it
        }
    }

    /** Checks one base model's files (or tiny sizes) without loading weights; returns its layer count, or null. */
    private Integer baseModel(ExperimentConfig.BaseModel base, String field) {
        String where = p.folder().where("pipeline.json");
        try {
            if (base.tiny() != null) {
                Models.checkTiny(base.tiny());
                return base.tiny().numHiddenLayers();
            }
            Path dir = Path.of(base.checkpoint()).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                problem(where + ": '" + field + ".checkpoint' " + dir
                        + " does not exist (a Hugging Face model folder: config.json + *.safetensors)");
                return null;
            }
            return Models.checkBaseCheckpoint(dir);
        } catch (IOException | RuntimeException e) {
            problem((base.tiny() != null ? where + ": '" + field + ".tiny': " : "base model: ") + Errors.message(e));
            return null;
        }
    }

    /** pipeline.json's {@code tokenizer} (each used {@code base_models} entry's: {@link #namedBases}). */
    private void tokenizer() {
        String where = p.folder().where("pipeline.json");
        tokenizer(p.experiment().tokenizer(), p.experiment().baseModel(), where + ": 'tokenizer' ");
    }

    private void tokenizer(String spec, ExperimentConfig.BaseModel base, String at) {
        if (spec == null) {
            if (base.checkpoint() == null) {
                problem(at + "is null, but a tiny base model has no tokenizer of its own: use \"sample\", one of "
                        + Tokenizer.installedNames() + " or a tokenizer.json path");
                return;
            }
            Path file = Path.of(base.checkpoint()).resolve("tokenizer.json");
            if (Files.isDirectory(file.getParent()) && !Files.isRegularFile(file)) {
                problem(at + "is null (the checkpoint's own), but " + file + " does not exist");
            }
        } else if (Tokenizer.installedNames().contains(spec)) {
            Path installed = Tokenizer.installedPath(spec);
            if (!Files.isRegularFile(installed)) {
                problem(at + "\"" + spec + "\": that tokenizer is not installed at " + installed
                        + "; run bash environment/setup.sh, or give a tokenizer.json path");
            }
        } else if (!spec.equals(Tokenizers.SAMPLE) && !Files.isRegularFile(Path.of(spec))) {
            problem(at + Path.of(spec).toAbsolutePath() + " does not exist (\"sample\", one of "
                    + Tokenizer.installedNames() + ", null or a tokenizer.json path)");
        }
    }

    private void train(String stage, TrainConfig t, List<String> running) {
        uses(t.model().baseModel());
        if (t.train().devices() != null) {
            devices(where(stage) + ": ", "train.devices", t.train().devices());
        }
        // the default base's layer count is known here; a named base's split is checked when its model loads
        Integer layers = t.model().baseModel() == null || t.model().baseModel().equals(ExperimentConfig.DEFAULT_BASE)
                ? baseLayers : null;
        if (t.train().splitLayer() != null && layers != null && t.train().splitLayer() >= layers) {
            problem(where(stage) + ": 'train.split_layer' must be in [1, " + (layers - 1) + "] for a base model of "
                    + layers + " layers, got " + t.train().splitLayer());
        }
        String from = t.model().loadFrom();
        if (from != null) {
            reference(stage, "model.load_from", from, running, false, true); // headless: the stage trains a head
        }
        List<String> sources = t.data().sources();
        if (sources.contains(TrainConfig.Data.PSEUDO_LABELS)) {
            String source = p.pseudoLabelSource(stage);
            if (source == null) {
                problem(where(stage) + ": 'data.sources' has pseudo_labels but no pseudo-label stage runs before '"
                        + stage + "' in pipeline.json");
            } else if (!running.contains(source) && !finished(source)) {
                problem(where(stage) + ": 'data.sources' has pseudo_labels, from stage '" + source + "', which has "
                        + "not finished and is not part of this run: run it first");
            }
            needs(stage, "data.unlabeled", p.experiment().data().unlabeled(), "preference_rows");
        }
        if (sources.contains(TrainConfig.Data.EXTERNAL)) {
            needs(stage, "data.external", p.experiment().data().external(), "external_rows");
        }
        if (sources.contains(TrainConfig.Data.TRAIN) && p.experiment().data().train() == null
                && sampleRows("train_rows") == 0) {
            problem(where(stage) + ": 'data.sources' has train, but the embedded sample has no train rows");
        }
    }

    /** A source the stage reads: the configured files, or the embedded sample's rows of that kind. */
    private void needs(String stage, String field, List<String> files, String sampleRows) {
        boolean embedded = p.experiment().data().train() == null;
        if (embedded ? sampleRows(sampleRows) == 0 : files.isEmpty()) {
            problem(where(stage) + " needs " + field.substring(5) + " rows, but " + (embedded
                    ? "the embedded sample has " + sampleRows + " = 0" : "pipeline.json '" + field
                    + "' names no file"));
        }
    }

    private int sampleRows(String field) {
        try {
            var o = EmbeddedSample.options(p.experiment().sample(), p.folder().where("pipeline.json"));
            return switch (field) {
                case "train_rows" -> o.trainRows();
                case "external_rows" -> o.externalRows();
                case "preference_rows" -> o.preferenceRows();
                default -> o.testRows();
            };
        } catch (ConfigException e) {
            return 1; // reported when the pipeline opened
        }
    }

    private void models(String stage, List<arenakit.infer.WeightedModel> models, List<String> running) {
        for (int i = 0; i < models.size(); i++) {
            reference(stage, "models[" + i + "]", models.get(i).model(), running, models.get(i).baseHead(), false);
        }
    }

    /** An averaging stage's models: LoRA stages that run earlier, or adapter folders (with or without heads). */
    private void average(String stage, AverageConfig a, List<String> running) {
        for (int i = 0; i < a.models().size(); i++) {
            String ref = a.models().get(i).model();
            if (p.stageConfig(ref) instanceof TrainConfig t && t.model().lora() == null) {
                problem(where(stage) + ": 'models[" + i + "]' names stage '" + ref + "', which fine-tunes every weight "
                        + "(model.lora is null): only LoRA adapters can be averaged");
                continue;
            }
            reference(stage, "models[" + i + "]", ref, running, false, true);
        }
    }

    /**
     * A trained model by reference: a training stage of this setup that runs earlier (in this run, or finished
     * before), or a folder holding a trained stage (stage.json + adapter/ or model/) or a PEFT adapter.
     */
    private void reference(String stage, String field, String ref, List<String> running, boolean baseHead,
            boolean headlessOk) {
        String at = where(stage) + ": '" + field + "' ";
        List<String> setupStages = p.experiment().stages();
        if (setupStages.contains(ref)) {
            if (p.stageConfig(ref) instanceof TrainConfig t) {
                uses(t.model().baseModel());
            }
            if (!(p.stageConfig(ref) instanceof TrainConfig) && !(p.stageConfig(ref) instanceof AverageConfig)) {
                problem(at + "names stage '" + ref + "', which is not a training stage (nor an averaging one)");
            } else if (!stage.equals("submit") && setupStages.indexOf(ref) >= setupStages.indexOf(stage)) {
                problem(at + "names stage '" + ref + "', which runs after '" + stage + "' in pipeline.json");
            } else if (!running.contains(ref) && !finished(ref)) {
                problem(at + "names stage '" + ref + "', which has not finished (no " + p.stageDir(ref)
                        .resolve(StageSummary.FILE) + ") and is not part of this run: run it first");
            }
            return;
        }
        Path dir = Path.of(ref).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            List<String> training = setupStages.stream().filter(s -> p.stageConfig(s) instanceof TrainConfig).toList();
            problem(at + "'" + ref + "' is neither a training stage of this setup " + training + " nor a folder ("
                    + dir + " does not exist)");
            return;
        }
        try {
            if (TrainedModel.isPeftAdapter(dir)) {
                TrainConfig like = null;
                for (String s : setupStages) {
                    if (p.stageConfig(s) instanceof TrainConfig t) {
                        like = t; // the last training stage: the adapter is read with its format and head
                    }
                }
                if (like == null || like.model().lora() == null) {
                    problem(at + dir + " is a PEFT adapter, but the setup has no LoRA training stage to take its "
                            + "input format and head from" + (like == null ? "" : " (its last training stage "
                            + "fine-tunes every weight)"));
                    Models.checkAdapter(dir, null, null, baseHead);
                } else {
                    Models.checkAdapter(dir, baseFor(like.model().baseModel(), headlessOk), like.model().head(),
                            baseHead || headlessOk);
                }
                setupStages.stream().filter(s -> p.stageConfig(s) instanceof TrainConfig)
                        .reduce((first, last) -> last) // read like the last training stage, on its base
                        .ifPresent(s -> uses(((TrainConfig) p.stageConfig(s)).model().baseModel()));
            } else {
                TrainedModel m = TrainedModel.of(ref, dir);
                if (!m.fullFineTune()) {
                    String name = m.encoding() != null ? m.encoding().baseModel() : m.config().model().baseModel();
                    Models.checkAdapter(m.weights(), isBase(name) ? baseFor(name, headlessOk) : null,
                            m.config().model().head(), baseHead || headlessOk);
                }
                basesFor(m, at);
            }
        } catch (IOException | RuntimeException e) {
            problem(at + Errors.message(e));
        }
    }

    private boolean isBase(String name) {
        return name == null || name.equals(ExperimentConfig.DEFAULT_BASE)
                || p.experiment().baseModels().containsKey(name);
    }

    /**
     * The base model an adapter will run on, from its config and headers (nothing written); for {@code load_from}
     * an adapter without a head is fine (the stage trains a fresh one).
     */
    private Models.BaseCheck baseFor(String name, boolean headlessOk) throws IOException {
        ExperimentConfig.BaseModel spec = name == null || name.equals(ExperimentConfig.DEFAULT_BASE)
                ? p.experiment().baseModel() : p.experiment().baseModels().get(name).baseModel();
        if (spec.checkpoint() != null && !Files.isDirectory(Path.of(spec.checkpoint()))) {
            return null; // reported as a base model problem
        }
        Models.BaseCheck b = Models.baseCheck(spec);
        return headlessOk ? new Models.BaseCheck(b.config(), true) : b;
    }

    private boolean finished(String stage) {
        try {
            return StageSummary.read(p.stageDir(stage)).filter(s -> s.status().equals(StageSummary.DONE))
                    .isPresent();
        } catch (IOException e) {
            return false; // reported when the stage runs
        }
    }

    private void inference(String stage, InferenceConfig inference, Integer maxLength) {
        String at = where(stage) + ": ";
        if (maxLength != null && maxLength < 16) {
            problem(at + "'max_length' must be at least 16 (or null for each model's own), got " + maxLength);
        }
        if (inference.splitLayer() != null && baseLayers != null
                && (inference.splitLayer() < 1 || inference.splitLayer() >= baseLayers)) {
            problem(at + "'inference.split_layer' must be in [1, " + (baseLayers - 1) + "] for a base model of "
                    + baseLayers + " layers, got " + inference.splitLayer());
        }
        devices(at, "inference.devices", inference.devices());
    }

    /** The GPUs a stage names exist here. */
    private void devices(String at, String field, List<String> names) {
        List<String> missing = new ArrayList<>();
        int gpus = -1;
        for (String name : new LinkedHashSet<>(names)) {
            ai.djl.Device d = Placement.device(name); // names were checked when the config was read
            if (d.isGpu()) {
                if (gpus < 0) {
                    gpus = Engines.pytorch().getGpuCount();
                }
                if (d.getDeviceId() >= gpus) {
                    missing.add(name);
                }
            }
        }
        if (!missing.isEmpty()) {
            problem(at + "'" + field + "' asks for " + String.join(" and ", missing) + ", but " + (gpus == 0
                    ? "PyTorch sees no GPU on this machine (the CPU natives are in use, or there is no CUDA device): "
                            + "use \"cpu\" (two \"cpu\" entries for two stages), or run with the CUDA natives on a GPU "
                            + "machine (README: mvn -Pcuda, -Darena.torch=cu124)"
                    : "this machine has " + gpus + " GPU" + (gpus == 1 ? "" : "s") + " (gpu(0)"
                            + (gpus > 1 ? " to gpu(" + (gpus - 1) + ")" : "") + ")"));
        }
    }

    /**
     * The configured data files the run reads exist and have their kind's header; a submission's test and sample
     * agree.
     */
    private void dataFiles(Set<String> reads) {
        ExperimentConfig.DataFiles d = p.experiment().data();
        String at = p.folder().where("pipeline.json") + ": ";
        if (d.train() == null) {
            Set<String> set = new LinkedHashSet<>();
            if (d.test() != null) {
                set.add("data.test");
            }
            if (d.sampleSubmission() != null) {
                set.add("data.sample_submission");
            }
            if (!d.external().isEmpty()) {
                set.add("data.external");
            }
            if (!d.unlabeled().isEmpty()) {
                set.add("data.unlabeled");
            }
            if (!set.isEmpty()) {
                problem(at + set + " set while 'data.train' is null: the embedded sample would "
                        + "be used and these ignored; set data.train too, or remove them");
            }
            return;
        }
        if (reads.contains(TRAIN)) {
            file(at, "data.train", d.train(), DataKind.TRAIN);
        }
        for (int i = 0; reads.contains(EXTERNAL) && i < d.external().size(); i++) {
            file(at, "data.external[" + i + "]", d.external().get(i), DataKind.TRAIN);
        }
        for (int i = 0; reads.contains(UNLABELED) && i < d.unlabeled().size(); i++) {
            file(at, "data.unlabeled[" + i + "]", d.unlabeled().get(i), DataKind.PREFERENCE);
        }
        boolean test = !reads.contains(TEST) ? false : d.test() == null ? missing(at, "data.test")
                : file(at, "data.test", d.test(), DataKind.TEST);
        boolean sample = !reads.contains(SUBMISSION) ? false : d.sampleSubmission() == null
                ? missing(at, "data.sample_submission")
                : file(at, "data.sample_submission", d.sampleSubmission(), DataKind.SUBMISSION);
        if (test && sample) {
            try {
                Path t = Path.of(d.test()).toAbsolutePath().normalize();
                Path s = Path.of(d.sampleSubmission()).toAbsolutePath().normalize();
                Submission.checkTestIds(KaggleCsv.readTest(t), Submission.readIds(s), s);
            } catch (DataException e) {
                problem(e.getMessage());
            }
        }
    }

    private boolean missing(String at, String field) {
        problem(at + "'" + field + "' is null, but 'data.train' is set: give the Kaggle file too");
        return false;
    }

    private boolean file(String at, String field, String path, DataKind kind) {
        Path f = Path.of(path).toAbsolutePath().normalize();
        if (!Files.isRegularFile(f)) {
            problem(at + "'" + field + "': " + f + (Files.isDirectory(f) ? " is a folder, not a CSV file"
                    : " does not exist"));
            return false;
        }
        if (!Files.isReadable(f)) {
            problem(at + "'" + field + "': " + f + ": permission denied");
            return false;
        }
        try {
            kind.checkHeader(f);
            return true;
        } catch (DataException e) {
            problem(at + "'" + field + "': " + e.getMessage());
            return false;
        }
    }

    /** The output folder can be created and written (the run's lock file is the first write). */
    private void output() {
        Path out = p.out();
        Path existing = out;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return;
        }
        if (!Files.isDirectory(existing)) {
            problem("output folder " + out + ": " + existing + " is a file, not a folder");
        } else if (!Files.isWritable(existing)) {
            problem("output folder " + out + ": " + existing + " is not writable (permission denied or a read-only "
                    + "file system): choose another --out");
        }
    }
}
