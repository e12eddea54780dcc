package arenakit.pipeline;

import ai.djl.pytorch.jni.JniUtils;
import arenakit.infer.Ensemble;
import arenakit.infer.SubmissionConfig;
import arenakit.text.ChatTemplate;
import arenakit.text.PromptEncoder;
import arenakit.text.Tokenizer;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.TrainConfig;
import arenakit.util.AtomicFiles;
import arenakit.util.Engines;
import arenakit.util.OutputLock;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The whole pipeline of a setup (a config folder) into an output folder:
 * embedded sample (when the setup names no data) -> EDA -> stage 1 -> pseudo-labels -> stage 2 -> stage 3 ->
 * submission.csv, as listed in {@code pipeline.json}.
 *
 * <p>Every stage writes into {@code <out>/<stage>/} and finishes by writing {@code summary.json}; a stage whose
 * summary exists is skipped, so re-running after an interruption continues where it stopped (and a training
 * stage interrupted mid-run resumes from its last checkpoint), as long as it was made from the same inputs
 * ({@link StageInputs}: a changed config, data file or model is reported, not built upon). Every stage config is read
 * and validated when the pipeline opens, and a run first checks everything it will use ({@link SetupCheck}): a typo
 * in the last stage's file, a missing model file or a GPU that is not there fails in the first seconds, not after
 * hours of training. One run writes into an output folder at a time ({@link OutputLock}).
 */
public final class Pipeline implements AutoCloseable {
    /** The EDA stage's name in {@code stages}. */
    public static final String EDA = "eda";

    private final ConfigFolder folder;
    private ExperimentConfig experiment;
    private final Path out;
    private final Consumer<String> log;
    private final Map<String, Object> stageConfigs = new HashMap<>();
    private final Map<EncoderKey, PromptEncoder> encoders = new HashMap<>();
    private final Map<String, Tokenizer> tokenizers = new HashMap<>(); // by the SHA-256 of the file
    private final Map<Path, String> tokenizerShas = new HashMap<>();
    private BaseModels bases;
    private String timeBudgetOverride; // --time-budget, for submission configs read later (submissionConfig(name))
    private String submitFile; // the submission config read by name (--submission), named in the setup check's messages
    private Inputs inputs;
    private OutputLock lock;
    private boolean engineStarted;
    private int lockDepth;

    private Pipeline(ConfigFolder folder, ExperimentConfig experiment, Path out, Consumer<String> log) {
        this.folder = folder;
        this.experiment = experiment;
        this.out = out.toAbsolutePath().normalize();
        this.log = log;
        this.bases = new BaseModels(this, experiment, folder.where("pipeline.json"));
    }

    /**
     * Reads and validates the setup's configs: every stage file is read, and all their problems are reported in one
     * {@link ConfigException}. Settings left to a documented default that a shipped setup sets otherwise are noted
     * in the log.
     */
    public static Pipeline open(ConfigFolder folder, Path out, Consumer<String> log) {
        List<StrictJson.Defaulted> defaulted = new ArrayList<>();
        ExperimentConfig experiment = folder.read("pipeline.json", ExperimentConfig.class, defaulted);
        List<String> notes = new ArrayList<>(folder.defaultNotes("pipeline.json", null, defaulted));
        List<String> problems = new ArrayList<>();
        try {
            EmbeddedSample.options(experiment.sample(), folder.where("pipeline.json"));
        } catch (ConfigException e) {
            problems.add(e.getMessage());
        }
        Pipeline p = new Pipeline(folder, experiment, out, log);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String stage : experiment.stages()) {
            if (!seen.add(stage)) {
                problems.add(folder.where("pipeline.json") + ": 'stages' lists '" + stage + "' twice");
            } else if (!stage.equals(EDA)) {
                try {
                    List<StrictJson.Defaulted> d = new ArrayList<>();
                    Object config = readStage(folder, stage, d);
                    if (config instanceof TrainConfig t && !p.bases.has(t.model().baseModel())) {
                        throw new ConfigException(folder.where(stage + ".json") + ": model.base_model '"
                                + t.model().baseModel() + "' is not a base model of " + folder.where("pipeline.json")
                                + " (null = base_model; base_models has " + experiment.baseModels().keySet() + ")");
                    }
                    p.stageConfigs.put(stage, config);
                    if (config instanceof PseudoLabelConfig c && c.spark() != null) {
                        ClusterPseudoLabels.find(folder.where(stage + ".json")); // the Spark module, before anything runs
                    }
                    notes.addAll(folder.defaultNotes(stage + ".json", kindOf(config), d));
                } catch (ConfigException e) {
                    problems.add(e.getMessage());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.size() == 1 ? problems.get(0) : problems.size()
                    + " problems in setup " + folder.name() + ":\n" + String.join("\n", problems));
        }
        notes.forEach(log);
        return p;
    }

    private static String kindOf(Object config) {
        return config instanceof TrainConfig ? TrainConfig.KIND : config instanceof PseudoLabelConfig
                ? PseudoLabelConfig.KIND : config instanceof AverageConfig ? AverageConfig.KIND : SubmissionConfig.KIND;
    }

    private static Object readStage(ConfigFolder folder, String stage, List<StrictJson.Defaulted> defaulted) {
        String file = stage + ".json";
        if (!folder.has(file)) {
            throw new ConfigException(folder.where("pipeline.json") + ": stage '" + stage + "' has no " + file
                    + " in " + folder.where(""));
        }
        JsonNode kind = folder.read(file, JsonNode.class).get("kind");
        String k = kind == null || !kind.isTextual() ? String.valueOf(kind) : kind.asText();
        return switch (k) {
            case TrainConfig.KIND -> folder.read(file, TrainConfig.class, defaulted);
            case PseudoLabelConfig.KIND -> folder.read(file, PseudoLabelConfig.class, defaulted);
            case SubmissionConfig.KIND -> folder.read(file, SubmissionConfig.class, defaulted);
            case AverageConfig.KIND -> folder.read(file, AverageConfig.class, defaulted);
            default -> throw new ConfigException(folder.where(file) + ": 'kind' must be \"train\", \"pseudo_labels\""
                    + ", \"submission\" or \"average\", got " + (kind == null ? "nothing (missing field 'kind')"
                    : kind));
        };
    }

    public ExperimentConfig experiment() {
        return experiment;
    }

    public Path out() {
        return out;
    }

    /** The folder a stage writes into. */
    public Path stageDir(String stage) {
        return out.resolve(stage);
    }

    /**
     * Runs the stages (all, or only those named), skipping finished ones, prints the summary table and writes
     * {@code <out>/summary.json}.
     */
    public List<StageSummary> run(List<String> only) throws IOException {
        if (only != null) {
            only.forEach(this::requireStage); // every name, before anything runs
        }
        List<String> stages = experiment.stages().stream()
                .filter(s -> only == null || only.isEmpty() || only.contains(s)).toList();
        long start = System.nanoTime();
        log.accept("pipeline " + experiment.name() + " (" + folder.name() + ") -> " + out);
        try (Run run = begin(stages, null)) {
            List<StageSummary> done = new ArrayList<>();
            for (String stage : stages) {
                done.add(runChecked(stage, 0));
            }
            log.accept("");
            log.accept(StageSummary.table(done).print());
            log.accept(String.format(Locale.ROOT, "pipeline finished in %.1f s; outputs in %s",
                    (System.nanoTime() - start) / 1e9, out));
            arenakit.util.Json.write(out.resolve("summary.json"), done);
            return done;
        }
    }

    /**
     * Runs one stage unless it finished earlier from the same inputs; {@code stopAfter > 0} pauses a training
     * stage after that many steps. What the stage uses is checked first ({@link #check}).
     */
    public StageSummary runStage(String stage, int stopAfter) throws IOException {
        requireStage(stage);
        try (Run run = begin(List.of(stage), null)) {
            return runChecked(stage, stopAfter);
        }
    }

    /**
     * Checks everything running {@code stages} will use (see {@link SetupCheck}), listing every problem in one
     * {@link ConfigException}; logs {@code setup checked: N stages} when all is well. The runs call it themselves.
     */
    public void check(List<String> stages) {
        stages.forEach(this::requireStage);
        SetupCheck.run(this, stages, null);
        logChecked(stages);
    }

    private void logChecked(List<String> stages) {
        log.accept(stages.isEmpty() ? "setup checked: the submission's models, data and devices"
                : "setup checked: " + stages.size() + " stage" + (stages.size() == 1 ? "" : "s") + " ("
                        + String.join(", ", stages) + ")");
    }

    /**
     * The outermost call of a run: the setup check, the output folder's lock (one writer per folder), held until
     * the run ends, and under it the check of the stages that finished earlier. Nested calls (a stage of a pipeline
     * run) share it.
     */
    private synchronized Run begin(List<String> stages, SubmissionConfig extra) throws IOException {
        if (lock == null) {
            stages.forEach(this::requireStage);
            SetupCheck.run(this, stages, extra);
            lock = OutputLock.acquire(out, "setup " + folder.name() + ": " + (stages.isEmpty() ? "submit"
                    : String.join(", ", stages)), log);
            try {
                SetupCheck.finishedStages(this, stages);
            } catch (RuntimeException e) {
                OutputLock l = lock;
                lock = null;
                l.close();
                throw e;
            }
            logChecked(stages);
        }
        lockDepth++;
        return new Run();
    }

    /** One (possibly nested) run holding the output folder's lock. */
    private final class Run implements AutoCloseable {
        @Override
        public void close() throws IOException {
            synchronized (Pipeline.this) {
                if (--lockDepth == 0) {
                    OutputLock l = lock;
                    lock = null;
                    l.close();
                }
            }
        }
    }

    private StageSummary runChecked(String stage, int stopAfter) throws IOException {
        Path dir = stageDir(stage);
        var existing = StageSummary.read(dir);
        if (existing.isPresent()) {
            StageInputs.checkUnchanged(this, stage);
            log.accept("[" + stage + "] done earlier (" + dir.resolve(StageSummary.FILE) + "), skipped");
            return existing.get();
        }
        Files.createDirectories(dir);
        log.accept("[" + stage + "] starting");
        long start = System.nanoTime();
        StageSummary summary;
        if (stage.equals(EDA)) {
            StageInputs.write(dir, StageInputs.of(this, stage));
            summary = EdaStage.run(this, stage);
        } else {
            Object config = stageConfigs.get(stage);
            // an averaging stage's stage.json is the averaged model's training config: its own config goes beside it
            AtomicFiles.writeString(dir.resolve(config instanceof AverageConfig ? AverageStage.CONFIG_COPY
                    : "stage.json"), folder.text(stage + ".json"));
            StageInputs.write(dir, StageInputs.of(this, stage));
            if (config instanceof AverageConfig a) {
                summary = AverageStage.run(this, stage, a);
            } else if (config instanceof TrainConfig t) {
                summary = TrainStage.run(this, stage, t, stopAfter);
            } else if (config instanceof PseudoLabelConfig p) {
                summary = PseudoLabelStage.run(this, stage, p);
            } else {
                summary = SubmissionStage.run(this, stage, (SubmissionConfig) config);
            }
        }
        if (summary.status().equals(StageSummary.PAUSED)) {
            return summary;
        }
        summary = summary.withSeconds((System.nanoTime() - start) / 1e9);
        summary.write(dir);
        log.accept("[" + stage + "] " + summary.status() + String.format(Locale.ROOT, " in %.1f s", summary.seconds()));
        DistillationCheck.of(this, stage).ifPresent(check -> log(stage).accept(check.describe()));
        return summary;
    }

    private void requireStage(String stage) {
        if (!experiment.stages().contains(stage)) {
            throw new ConfigException(folder.where("pipeline.json") + " has no stage '" + stage + "' (stages: "
                    + experiment.stages() + ")");
        }
    }

    /** The setup's train.csv (the embedded sample's when the setup names no data). */
    public Path trainFile() throws IOException {
        return inputs().files().train();
    }

    /** The setup's test.csv (the embedded sample's when the setup names no data). */
    public Path testFile() throws IOException {
        return inputs().files().test();
    }

    /** The setup's sample_submission.csv. */
    public Path sampleSubmissionFile() throws IOException {
        return inputs().files().sampleSubmission();
    }

    /** The name of the setup's submission stage (the last stage of kind submission). */
    public String submissionStage() {
        String found = null;
        for (String stage : experiment.stages()) {
            if (stageConfigs.get(stage) instanceof SubmissionConfig) {
                found = stage;
            }
        }
        if (found == null) {
            throw new ConfigException(folder.where("pipeline.json") + " has no stage of kind submission");
        }
        return found;
    }

    /** The config of the setup's {@link #submissionStage}. */
    public SubmissionConfig submissionConfig() {
        return (SubmissionConfig) stageConfigs.get(submissionStage());
    }

    /**
     * A submission config of the setup by name: a stage of kind submission, or a file of the setup folder that
     * {@code stages} does not list ({@code submission_ensemble} or {@code submission_ensemble.json}), read as strictly
     * as the stages (submit's {@code --submission}); {@link #overrideTimeBudget} applies to it too.
     */
    public SubmissionConfig submissionConfig(String name) {
        String stage = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        if (stageConfigs.get(stage) instanceof SubmissionConfig c) {
            return c;
        }
        if (experiment.stages().contains(stage) || !folder.has(stage + ".json")) {
            throw new ConfigException(folder.where(stage + ".json") + ": not a submission config of setup "
                    + folder.name() + " (it has: " + String.join(", ", submissionConfigs()) + ")");
        }
        Object config = readStage(folder, stage, new ArrayList<>());
        if (!(config instanceof SubmissionConfig c)) {
            throw new ConfigException(folder.where(stage + ".json") + ": 'kind' must be \"submission\" for a "
                    + "submission config, got \"" + kindOf(config) + "\"");
        }
        submitFile = stage + ".json";
        return timeBudgetOverride == null ? c : c.withInference(c.inference().withTimeBudget(timeBudgetOverride));
    }

    /** The names of the setup's submission configs: its submission stages, then the other files of kind submission. */
    private List<String> submissionConfigs() {
        List<String> names = new ArrayList<>(experiment.stages().stream()
                .filter(st -> stageConfigs.get(st) instanceof SubmissionConfig).toList());
        try {
            for (String file : folder.files()) {
                String name = file.substring(0, file.length() - ".json".length());
                if (!file.equals("pipeline.json") && !experiment.stages().contains(name) && SubmissionConfig.KIND
                        .equals(arenakit.util.Json.MAPPER.readTree(folder.text(file)).path("kind").asText())) {
                    names.add(name);
                }
            }
        } catch (IOException e) {
            // an unreadable file is not one of them
        }
        return names;
    }

    /** The file {@code submit}'s models and settings came from, for messages (the submission stage's by default). */
    String submitFile() {
        return submitFile != null ? submitFile : submissionStage() + ".json";
    }

    /**
     * The stages listed before {@code stage} in pipeline.json, EDA left out: what a notebook runs (each skipped when
     * it finished earlier) before the stage it shows, whichever setup it runs.
     */
    public List<String> stagesBefore(String stage) {
        requireStage(stage);
        List<String> stages = experiment.stages();
        return stages.subList(0, stages.indexOf(stage)).stream().filter(s -> !s.equals(EDA)).toList();
    }

    /**
     * Writes a submission for {@code test} with {@code config} (e.g. the setup's submission config with other
     * models or devices), outside the stage bookkeeping; returns the row count.
     */
    public int submit(SubmissionConfig config, Path test, Path sampleSubmission, Path output) throws IOException {
        try (Run run = begin(List.of(), config)) {
            return SubmissionStage.write(this, "submit", config, test, sampleSubmission, output);
        }
    }

    /**
     * The ensemble of a pseudo-label or submission stage with that stage's models, weights, max lengths and
     * inference settings: {@code ensemble(stage).predict(rows, task)} predicts any rows as the stage would (each model
     * loaded, run and freed in turn), without the stage's chunks and time budget unless added with
     * {@link Ensemble#withChunks} and {@link Ensemble#withBudget}. Nothing is loaded until then; the trained models
     * must exist.
     */
    public Ensemble ensemble(String stage) throws IOException {
        requireStage(stage);
        Object config = stageConfigs.get(stage);
        if (config instanceof PseudoLabelConfig c) {
            return StageEnsemble.of(this, c.models(), c.maxLength(), c.average(), c.inference(), log(stage));
        }
        if (config instanceof SubmissionConfig c) {
            return StageEnsemble.of(this, c.models(), c.maxLength(), c.average(), c.inference(), log(stage));
        }
        throw new ConfigException(folder.where(stage + ".json") + ": stage '" + stage + "' is not a pseudo-label or "
                + "submission stage");
    }

    /**
     * Replaces the time budget of every pseudo-label and submission stage ({@code --time-budget}; "off" = none).
     * Call before running the stages.
     */
    public void overrideTimeBudget(String budget) {
        timeBudgetOverride = budget;
        for (Map.Entry<String, Object> e : stageConfigs.entrySet()) {
            if (e.getValue() instanceof PseudoLabelConfig c) {
                e.setValue(c.withInference(c.inference().withTimeBudget(budget)));
            } else if (e.getValue() instanceof SubmissionConfig c) {
                e.setValue(c.withInference(c.inference().withTimeBudget(budget)));
            }
        }
    }

    /**
     * Stores every model of every pseudo-label and submission stage as {@code quantize} says ({@code --quantize
     * int8} or {@code none}), whatever their configs say. Call before running the stages.
     */
    public void overrideQuantize(String quantize) {
        for (Map.Entry<String, Object> e : stageConfigs.entrySet()) {
            if (e.getValue() instanceof PseudoLabelConfig c) {
                e.setValue(c.withQuantize(quantize));
            } else if (e.getValue() instanceof SubmissionConfig c) {
                e.setValue(c.withQuantize(quantize));
            }
        }
    }

    /**
     * Uses {@code dir} as the base checkpoint instead of what pipeline.json names (e.g. a Kaggle dataset mounted
     * elsewhere: {@code --checkpoint}). Call before any stage runs.
     */
    public void overrideBaseCheckpoint(Path dir) {
        if (bases.inUse()) {
            throw new IllegalStateException("the base checkpoint is already in use");
        }
        ExperimentConfig e = experiment;
        experiment = new ExperimentConfig(e.name(), e.description(),
                new ExperimentConfig.BaseModel(dir.toAbsolutePath().normalize().toString(), null), e.tokenizer(),
                e.data(), e.sample(), e.stages(), e.cpuThreads(), e.template(), e.baseModels());
        bases = new BaseModels(this, experiment, folder.where("pipeline.json"));
    }

    /**
     * Replaces the hardware settings of every training stage (the options of train.java and pipeline.java; a null
     * keeps the config's): the devices and mode ({@code mode} null follows the device count), activation
     * checkpointing, the micro-batch token budget and the device memory to plan for. Call before running the stages.
     * Devices, mode and checkpointing are not part of a stage's fingerprint: a paused stage resumes under them.
     */
    public void overrideTraining(List<String> devices, String mode, Boolean checkpointing, Integer maxTokens,
            Double deviceMemoryGib) {
        for (Map.Entry<String, Object> e : stageConfigs.entrySet()) {
            if (e.getValue() instanceof TrainConfig t) {
                TrainConfig.Train train = t.train();
                try {
                    if (devices != null || mode != null) {
                        List<String> on = devices != null ? devices : train.devices() != null ? train.devices()
                                : List.of(Engines.pytorch().defaultDevice().isGpu() ? "gpu(0)" : "cpu");
                        train = train.onDevices(on, mode);
                    }
                    if (checkpointing != null) {
                        train = train.withGradientCheckpointing(checkpointing);
                    }
                    if (deviceMemoryGib != null) {
                        train = train.withDeviceMemoryGib(deviceMemoryGib);
                    }
                    TrainConfig next = t.withTrain(train);
                    e.setValue(maxTokens == null ? next : next.withMaxTokens(maxTokens));
                } catch (IllegalArgumentException ex) {
                    throw new ConfigException("stage " + e.getKey() + ": " + ex.getMessage(), ex);
                }
            }
        }
    }

    /**
     * Runs {@code stage} on other devices ({@code memory-plan --devices}): a training stage's {@code train.devices},
     * an inference stage's {@code inference.devices}; {@code devices} null keeps the stage's, {@code mode} null
     * follows the device count.
     */
    public void overrideStageDevices(String stage, List<String> devices, String mode) {
        requireStage(stage);
        Object config = stageConfigs.get(stage);
        try {
            if (config instanceof TrainConfig t) {
                List<String> on = devices != null ? devices : t.train().devices() != null ? t.train().devices()
                        : List.of(Engines.pytorch().defaultDevice().isGpu() ? "gpu(0)" : "cpu");
                stageConfigs.put(stage, t.withTrain(t.train().onDevices(on, mode)));
            } else if (config instanceof PseudoLabelConfig c) {
                stageConfigs.put(stage, c.withInference(c.inference().withDevices(devices != null ? devices
                        : c.inference().devices(), mode)));
            } else if (config instanceof SubmissionConfig c) {
                stageConfigs.put(stage, c.withInference(c.inference().withDevices(devices != null ? devices
                        : c.inference().devices(), mode)));
            }
        } catch (IllegalArgumentException ex) {
            throw new ConfigException(folder.where(stage + ".json") + ": " + ex.getMessage(), ex);
        }
    }

    /** What {@link #memoryPlan} found: the printed plan(s), and whether every model fits its devices. */
    public record StageMemory(String text, boolean fits, boolean known) {}

    /**
     * The memory plan of {@code stage} (memory-plan.java), loading nothing: per device the weights, the trainable
     * state and the activations of the stage's worst micro-batch against the devices' memory, planned for devices
     * of {@code deviceMemoryGib} each when given (else the stage's {@code device_memory_gib}, else what the devices
     * here report). {@code base} replaces the default base model's config: a model folder or a preset name
     * ({@code gemma-2-9b}, ...; for a setup whose checkpoint is on another machine); null = the setup's.
     */
    public StageMemory memoryPlan(String stage, Double deviceMemoryGib, String base) throws IOException {
        requireStage(stage);
        Object config = stageConfigs.get(stage);
        if (config == null) {
            return new StageMemory("stage " + stage + " loads no model", true, true);
        }
        arenakit.model.family.DecoderConfig override = null;
        if (base != null) {
            Path dir = Path.of(base);
            override = Files.isDirectory(dir) ? MemoryCheck.read(dir) : arenakit.model.family.Families.preset(base)
                    .withNumLabels(3);
            if (override == null) {
                throw new IOException(dir.toAbsolutePath() + " has no readable config.json");
            }
        }
        arenakit.model.family.DecoderConfig defaultBase = override;
        java.util.function.Function<String, arenakit.model.family.DecoderConfig> bases = name -> {
            boolean isDefault = name == null || name.equals(ExperimentConfig.DEFAULT_BASE);
            if (isDefault && defaultBase != null) {
                return defaultBase;
            }
            ExperimentConfig.BaseModel spec = isDefault ? experiment.baseModel()
                    : experiment.baseModels().get(name).baseModel();
            arenakit.model.family.DecoderConfig c = MemoryCheck.baseConfig(spec);
            if (c == null) {
                throw new ConfigException("base model " + (isDefault ? "base_model" : name) + ": no config.json at "
                        + spec.checkpoint() + " (give --checkpoint DIR or a preset: "
                        + arenakit.model.family.Families.presets() + ")");
            }
            return c;
        };
        List<MemoryCheck.Report> reports = MemoryCheck.of(this, stage, config, MemoryCheck.planned(deviceMemoryGib),
                bases);
        StringBuilder text = new StringBuilder();
        boolean fits = true;
        boolean known = true;
        for (MemoryCheck.Report r : reports) {
            text.append(r.table());
            fits &= r.fits();
            known &= !r.unknown();
        }
        if (reports.isEmpty()) {
            text.append("stage ").append(stage).append(": its models cannot be described before they are trained "
                    + "(bare adapters are planned when the stage runs)\n");
        }
        return new StageMemory(text.toString(), fits, known);
    }

    /**
     * Prints what {@link #submit} would need for {@code test} with {@code config}: each model's memory plan and the
     * estimated time on the configured devices, loading no weights.
     */
    public void planSubmission(SubmissionConfig config, Path test) throws IOException {
        SubmissionStage.plan(this, "submit", config, test);
    }

    @Override
    public void close() {
        tokenizers.values().forEach(Tokenizer::close);
    }

    // ---------------------------------------------------------------- shared by the stages

    Consumer<String> log(String stage) {
        return line -> log.accept("[" + stage + "] " + line);
    }

    ConfigFolder folder() {
        return folder;
    }

    /** The pseudo-label stage whose labels a training stage reads: the last one before it (null when none). */
    String pseudoLabelSource(String stage) {
        String source = null;
        for (String s : experiment.stages()) {
            if (s.equals(stage)) {
                break;
            }
            if (stageConfigs.get(s) instanceof PseudoLabelConfig) {
                source = s;
            }
        }
        return source;
    }

    /** The stage config of a stage of this setup (null when the name is not a stage). */
    public Object stageConfig(String stage) {
        return stageConfigs.get(stage);
    }

    /** The data files, generating the embedded sample first when the setup names no train file. */
    synchronized Inputs inputs() throws IOException {
        if (inputs == null) {
            inputs = new Inputs(EmbeddedSample.resolve(experiment, out.resolve("data"), log("data")), log("data"));
        }
        return inputs;
    }

    /** The tokenizer of pipeline.json's {@code base_model}. */
    Tokenizer tokenizer() throws IOException {
        return bases.get(null).tokenizer();
    }

    /** A base model of the setup by name (null = pipeline.json's {@code base_model}). */
    BaseModels.Base base(String name) {
        return bases.get(name);
    }

    /** Whether the setup has a base model of that name (null: the default). */
    boolean hasBaseModel(String name) {
        return bases.has(name);
    }

    /** The tokenizer in a tokenizer.json file, loaded once per content (files with the same bytes share one). */
    synchronized Tokenizer tokenizerAt(Path file) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        String sha = tokenizerShas.get(key);
        if (sha == null) {
            if (!Files.isRegularFile(key)) {
                throw new IOException("tokenizer file not found: " + key);
            }
            sha = arenakit.util.Fingerprint.ofFile(key);
            tokenizerShas.put(key, sha);
        }
        Tokenizer t = tokenizers.get(sha);
        if (t == null) {
            t = Tokenizer.load(key);
            tokenizers.put(sha, t);
        }
        return t;
    }

    /** Rows encoded for pipeline.json's {@code base_model} ({@code text.template}, else its template). */
    PromptEncoder encoder(TrainConfig.Text text) throws IOException {
        return encoder(bases.get(null), text);
    }

    /** Rows encoded for {@code base}: its tokenizer, {@code text.template} (else the base's template). */
    PromptEncoder encoder(BaseModels.Base base, TrainConfig.Text text) throws IOException {
        ChatTemplate template = text.template() != null ? ChatTemplate.forName(text.template()) : base.template();
        return encoder(base.tokenizer(), template, text.format(), text.truncation(), text.maxLength());
    }

    private synchronized PromptEncoder encoder(Tokenizer tokenizer, ChatTemplate template, String format,
            String truncation, int maxLength) throws IOException {
        EncoderKey key = new EncoderKey(tokenizer.sha256(), template.name(), format, truncation, maxLength);
        PromptEncoder e = encoders.get(key);
        if (e == null) {
            e = PromptEncoder.of(tokenizer, template.name(), format, truncation, maxLength);
            encoders.put(key, e);
        }
        return e;
    }

    private record EncoderKey(String tokenizer, String template, String format, String truncation, int maxLength) {}

    /**
     * The encoder a trained model's rows need: the tokenizer, chat template, format and truncation it was trained
     * with (its stage folder's encoding.json and tokenizer copy), at its training budget or {@code maxLength}.
     * Each model of an ensemble encodes with its own. A bare PEFT adapter, or a stage folder written before
     * encoding.json existed, is encoded as its config says for this setup's base models.
     */
    PromptEncoder encoderFor(TrainedModel model, Integer maxLength) throws IOException {
        TrainConfig.Text text = model.text(maxLength);
        StageEncoding e = model.encoding();
        if (e == null) {
            return encoder(bases.get(model.config().model().baseModel()), text);
        }
        Tokenizer tokenizer = trainedTokenizer(model, e);
        return encoder(tokenizer, ChatTemplate.forName(e.template()), e.format(), e.truncation(),
                maxLength != null ? maxLength : e.maxLength());
    }

    /** The stage folder's tokenizer copy, or a base's tokenizer with the same bytes when the copy is absent. */
    private Tokenizer trainedTokenizer(TrainedModel model, StageEncoding e) throws IOException {
        Path copy = model.dir().resolve(e.tokenizer());
        if (java.nio.file.Files.isRegularFile(copy)) {
            Tokenizer t = tokenizerAt(copy);
            if (!t.sha256().equals(e.tokenizerSha256())) {
                throw new IOException(copy + " is not the tokenizer " + model.dir() + " was trained with (SHA-256 "
                        + t.sha256() + ", encoding.json says " + e.tokenizerSha256() + ")");
            }
            return t;
        }
        for (BaseModels.Base b : bases.all()) {
            try {
                if (b.tokenizer().sha256().equals(e.tokenizerSha256())) {
                    return b.tokenizer();
                }
            } catch (IOException | ConfigException ignored) {
                // a base whose tokenizer is not at hand here cannot be the one
            }
        }
        throw new IOException(model.dir() + " has no " + e.tokenizer() + " and no base model of this setup has the "
                + "tokenizer it was trained with (SHA-256 " + e.tokenizerSha256() + "): copy the stage folder whole");
    }

    /**
     * The base checkpoint a trained model runs on here: the base of this setup with the name it was trained on, if
     * it has the family and shape it was trained on; else the checkpoint where it was trained if that is still
     * there; else the one base of this setup with that family and shape (so a stage of another setup, e.g. the
     * llama3-8b setup's, whose base is that setup's {@code default}, runs in gemma2-9b's ensemble on its
     * {@code base_models} entry). A model without encoding.json uses its config's base model.
     */
    Path baseModelFor(TrainedModel model) throws IOException {
        StageEncoding e = model.encoding();
        if (e == null) {
            return bases.get(model.config().model().baseModel()).checkpoint();
        }
        String sameName = null; // this setup's base of that name when it has another shape (another setup's default)
        if (bases.has(e.baseModel())) {
            BaseModels.Base b = bases.get(e.baseModel());
            Architecture here = b.architecture();
            if (here.equals(e.architecture())) {
                return b.checkpoint();
            }
            sameName = "this setup's '" + e.baseModel() + "' is " + b.checkpoint() + " (" + here + ")";
        }
        Path trained = Path.of(e.checkpoint());
        if (Files.isRegularFile(trained.resolve("config.json")) && Architecture.of(trained).equals(e.architecture())) {
            return trained;
        }
        List<BaseModels.Base> same = new ArrayList<>();
        for (BaseModels.Base b : bases.all()) {
            if (e.architecture().equals(architectureOrNull(b))) {
                same.add(b);
            }
        }
        if (same.size() == 1) {
            log("model").accept(model.name() + ": trained on base model '" + e.baseModel() + "' (" + e.architecture()
                    + "), run on this setup's '" + same.get(0).name() + "', the one of that shape");
            return same.get(0).checkpoint();
        }
        throw new IOException(model.dir() + " was trained on base model '" + e.baseModel() + "' at " + e.checkpoint()
                + " (" + e.architecture() + "); " + (sameName == null ? "" : sameName + ", and ") + "this setup has "
                + (same.isEmpty() ? "no base model of that shape" : "several of that shape " + same) + ": name one '"
                + e.baseModel() + "' in pipeline.json's base_models");
    }

    /** A base's family and shape, or null when its checkpoint cannot be read here (it cannot be the one asked for). */
    private static Architecture architectureOrNull(BaseModels.Base b) throws IOException {
        String checkpoint = b.spec().checkpoint();
        if (checkpoint != null && !Files.isRegularFile(Path.of(checkpoint).resolve("config.json"))) {
            return null;
        }
        return b.architecture();
    }

    /**
     * A trained model by reference: a training or averaging stage of this setup (it must have finished), a folder that holds
     * {@code stage.json} and {@code adapter/} (a stage output copied elsewhere, e.g. a Kaggle dataset), or a bare
     * PEFT adapter folder (e.g. trained in Python), read with the input format and head of the setup's last
     * training stage.
     */
    TrainedModel trainedModel(String ref) throws IOException {
        if (stageConfigs.get(ref) instanceof TrainConfig || stageConfigs.get(ref) instanceof AverageConfig) {
            Path dir = stageDir(ref);
            if (StageSummary.read(dir).filter(s -> s.status().equals(StageSummary.DONE)).isEmpty()) {
                throw new IOException("stage '" + ref + "' has not finished (no " + dir.resolve(StageSummary.FILE)
                        + "): run it first");
            }
            return TrainedModel.of(ref, dir);
        }
        Path dir = Path.of(ref).toAbsolutePath().normalize();
        if (TrainedModel.isPeftAdapter(dir)) {
            String like = null;
            for (String stage : experiment.stages()) {
                if (stageConfigs.get(stage) instanceof TrainConfig) {
                    like = stage;
                }
            }
            if (like == null) {
                throw new IOException(dir + " is a PEFT adapter, but the setup has no training stage to take its "
                        + "input format and head from");
            }
            log("model").accept(dir + ": PEFT adapter, read with the input format and head of stage '" + like + "'");
            return TrainedModel.peftAdapter(ref, dir, like, (TrainConfig) stageConfigs.get(like));
        }
        return TrainedModel.of(ref, dir);
    }

    /** The checkpoint folder of pipeline.json's {@code base_model} (the tiny random one is written on first use). */
    Path baseModel() throws IOException {
        return bases.get(null).checkpoint();
    }

    /**
     * Starts PyTorch (with the setup's {@code cpu_threads}) the first time a stage needs a model, not in open(): the
     * EDA needs none, so it runs without the natives.
     */
    synchronized void startEngine() {
        if (!engineStarted) {
            Engines.pytorch();
            if (experiment.cpuThreads() != null) {
                JniUtils.setNumThreads(experiment.cpuThreads()); // global: also for threads that start later
            }
            engineStarted = true;
        }
    }
}
