package arenakit.pipeline;

import ai.djl.pytorch.jni.JniUtils;
import arenakit.infer.SubmissionConfig;
import arenakit.text.PromptEncoder;
import arenakit.text.Tokenizer;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.TrainConfig;
import arenakit.util.Engines;
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
 * stage interrupted mid-run resumes from its last checkpoint). Every stage config is read and validated before
 * anything runs: a typo in the last stage's file fails in the first second, not after hours of training.
 */
public final class Pipeline implements AutoCloseable {
    /** The EDA stage's name in {@code stages}. */
    public static final String EDA = "eda";

    private final ConfigFolder folder;
    private final ExperimentConfig experiment;
    private final Path out;
    private final Consumer<String> log;
    private final Map<String, Object> stageConfigs = new HashMap<>();
    private final Map<TrainConfig.Text, PromptEncoder> encoders = new HashMap<>();
    private Inputs inputs;
    private Tokenizer tokenizer;
    private Path baseModel;

    private Pipeline(ConfigFolder folder, ExperimentConfig experiment, Path out, Consumer<String> log) {
        this.folder = folder;
        this.experiment = experiment;
        this.out = out.toAbsolutePath().normalize();
        this.log = log;
    }

    /** Reads and validates the setup's configs. */
    public static Pipeline open(ConfigFolder folder, Path out, Consumer<String> log) {
        ExperimentConfig experiment = folder.read("pipeline.json", ExperimentConfig.class);
        Pipeline p = new Pipeline(folder, experiment, out, log);
        for (String stage : experiment.stages()) {
            if (!stage.equals(EDA)) {
                p.stageConfigs.put(stage, readStage(folder, stage));
            }
        }
        return p;
    }

    private static Object readStage(ConfigFolder folder, String stage) {
        String file = stage + ".json";
        if (!folder.has(file)) {
            throw new ConfigException(folder.where("pipeline.json") + ": stage '" + stage + "' has no " + file);
        }
        JsonNode kind = folder.read(file, JsonNode.class).get("kind");
        String k = kind == null ? "" : kind.asText();
        return switch (k) {
            case TrainConfig.KIND -> folder.read(file, TrainConfig.class);
            case PseudoLabelConfig.KIND -> folder.read(file, PseudoLabelConfig.class);
            case SubmissionConfig.KIND -> folder.read(file, SubmissionConfig.class);
            default -> throw new ConfigException(folder.where(file) + ": 'kind' must be train, pseudo_labels or "
                    + "submission, got '" + k + "'");
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
        long start = System.nanoTime();
        log.accept("pipeline " + experiment.name() + " (" + folder.name() + ") -> " + out);
        List<StageSummary> done = new ArrayList<>();
        for (String stage : experiment.stages()) {
            if (only != null && !only.isEmpty() && !only.contains(stage)) {
                continue;
            }
            done.add(runStage(stage, 0));
        }
        log.accept("");
        log.accept(StageSummary.table(done).print());
        log.accept(String.format(Locale.ROOT, "pipeline finished in %.1f s; outputs in %s",
                (System.nanoTime() - start) / 1e9, out));
        arenakit.util.Json.write(out.resolve("summary.json"), done);
        return done;
    }

    /**
     * Runs one stage unless its summary exists; {@code stopAfter > 0} pauses a training stage after that many
     * steps.
     */
    public StageSummary runStage(String stage, int stopAfter) throws IOException {
        requireStage(stage);
        Path dir = stageDir(stage);
        var existing = StageSummary.read(dir);
        if (existing.isPresent()) {
            log.accept("[" + stage + "] done earlier (" + dir.resolve(StageSummary.FILE) + "), skipped");
            return existing.get();
        }
        Files.createDirectories(dir);
        log.accept("[" + stage + "] starting");
        long start = System.nanoTime();
        StageSummary summary;
        if (stage.equals(EDA)) {
            summary = EdaStage.run(this, stage);
        } else {
            Object config = stageConfigs.get(stage);
            Files.writeString(dir.resolve("stage.json"), folder.text(stage + ".json"));
            if (config instanceof TrainConfig t) {
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
     * Writes a submission for {@code test} with {@code config} (e.g. the setup's submission config with other
     * models or devices), outside the stage bookkeeping; returns the row count.
     */
    public int submit(SubmissionConfig config, Path test, Path sampleSubmission, Path output) throws IOException {
        return SubmissionStage.write(this, "submit", config, test, sampleSubmission, output);
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    // ---------------------------------------------------------------- shared by the stages

    Consumer<String> log(String stage) {
        return line -> log.accept("[" + stage + "] " + line);
    }

    ConfigFolder folder() {
        return folder;
    }

    /** The stage config of a stage of this setup (null when the name is not a stage). */
    Object stageConfig(String stage) {
        return stageConfigs.get(stage);
    }

    /** The data files, generating the embedded sample first when the setup names no train file. */
    synchronized Inputs inputs() throws IOException {
        if (inputs == null) {
            inputs = new Inputs(EmbeddedSample.resolve(experiment, out.resolve("data"), log("data")), log("data"));
        }
        return inputs;
    }

    synchronized Tokenizer tokenizer() throws IOException {
        if (tokenizer == null) {
            tokenizer = Tokenizers.load(experiment, this);
        }
        return tokenizer;
    }

    synchronized PromptEncoder encoder(TrainConfig.Text text) throws IOException {
        PromptEncoder e = encoders.get(text);
        if (e == null) {
            e = PromptEncoder.of(tokenizer(), text.format(), text.truncation(), text.maxLength());
            encoders.put(text, e);
        }
        return e;
    }

    /**
     * A trained model by reference: a training stage of this setup (it must have finished), a folder that holds
     * {@code stage.json} and {@code adapter/} (a stage output copied elsewhere, e.g. a Kaggle dataset), or a bare
     * PEFT adapter folder (e.g. trained in Python), read with the input format and head of the setup's last
     * training stage.
     */
    TrainedModel trainedModel(String ref) throws IOException {
        if (stageConfigs.get(ref) instanceof TrainConfig) {
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

    /** The base checkpoint folder (the tiny random one is written on first use). */
    synchronized Path baseModel() throws IOException {
        if (baseModel == null) {
            // PyTorch starts with the first stage that needs a model, not in open(): the EDA needs none (no natives)
            if (experiment.cpuThreads() != null) {
                Engines.pytorch();
                JniUtils.setNumThreads(experiment.cpuThreads()); // global: also for threads that start later
            }
            baseModel = Models.baseCheckpoint(experiment.baseModel(), tokenizer(), out.resolve("base-model"),
                    log("model"));
        }
        return baseModel;
    }
}
