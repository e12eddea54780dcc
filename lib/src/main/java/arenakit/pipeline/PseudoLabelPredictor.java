package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.PreferencePairs;
import arenakit.infer.BatchRunner;
import arenakit.infer.Ensemble;
import arenakit.infer.InferenceConfig;
import arenakit.infer.Predictions;
import arenakit.infer.Predictor;
import arenakit.infer.WeightedModel;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.PseudoLabels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The pseudo-label stage's prediction for jobs that divide the rows among workers (the Spark module): the stage's
 * models, each with its own input encoding (format, truncation, budget of its training config) and the stage's
 * inference settings (TTA, micro-batch budget), on a device the caller picks, one model loaded at a time.
 *
 * <p>Opening it writes or checks what every worker reads (the base checkpoint, the tokenizer) and that each
 * model's stage has finished, so workers that open the same setup and output folder afterwards only read.
 */
public final class PseudoLabelPredictor implements AutoCloseable {
    private final Pipeline pipeline;
    private final String stage;
    private final PseudoLabelConfig config;
    private final Consumer<String> log;
    private final Ensemble ensemble;
    private Function<Conversation, int[]> firstEncoder;
    private String loadedModel;
    private List<String> loadedDevices;
    private BatchRunner runner;
    private Predictor predictor;

    private PseudoLabelPredictor(Pipeline pipeline, String stage, PseudoLabelConfig config, Consumer<String> log)
            throws IOException {
        this.pipeline = pipeline;
        this.stage = stage;
        this.config = config;
        this.log = log;
        this.ensemble = StageEnsemble.of(pipeline, config.models(), config.maxLength(), config.average(),
                config.inference(), log);
    }

    /** The pseudo-label stage {@code stage} of an opened setup; nothing is loaded onto a device yet. */
    public static PseudoLabelPredictor open(Pipeline p, String stage) throws IOException {
        if (!(p.stageConfig(stage) instanceof PseudoLabelConfig config)) {
            throw new ConfigException(p.folder().where("pipeline.json") + ": '" + stage + "' is not a stage of kind "
                    + PseudoLabelConfig.KIND + " (stages: " + p.experiment().stages() + ")");
        }
        PseudoLabelPredictor predictor = new PseudoLabelPredictor(p, stage, config, p.log(stage));
        for (WeightedModel model : config.models()) {
            p.baseModelFor(p.trainedModel(model.model())); // writes a tiny base model once, checks a copied stage's base
        }
        Ensemble.Member first = predictor.ensemble.members().get(0);
        predictor.firstEncoder = first.encoder(first.maxLength());
        return predictor;
    }

    public PseudoLabelConfig config() {
        return config;
    }

    /** The setup's unlabeled files (data.unlabeled, or the embedded sample's preference pairs). */
    public List<Path> unlabeledFiles() throws IOException {
        return pipeline.inputs().files().unlabeled();
    }

    /**
     * A preference pair as the stage predicts it: chosen and rejected at the sides the pipeline's seeded coin puts
     * them (the coin depends on the id only, so any worker places a pair the same way).
     */
    public static Conversation unlabeled(Conversation preferencePair) {
        return PreferencePairs.unlabeled(List.of(preferencePair), Inputs.SIDE_SEED).get(0).conversation();
    }

    /** Tokens of a row's input to the first model (what a length bucket is made of). */
    public int tokens(Conversation row) {
        return firstEncoder.apply(row).length;
    }

    /** The stage's models by name, in {@link PseudoLabelConfig#models} order. */
    public List<String> models() {
        return ensemble.members().stream().map(Ensemble.Member::name).toList();
    }

    /**
     * One model's predictions of {@code rows} on {@code devices} ({@code null}: the stage's own devices and mode;
     * one device: single; two: the stage's two-device mode, pipelined if it names none), encoded with the model's
     * own tokenizer, template and budget. The model stays loaded for the next call with the same model and devices;
     * any other is closed first.
     */
    public synchronized Predictions predict(String model, List<Conversation> rows, List<String> devices)
            throws IOException {
        Ensemble.Member member = ensemble.members().stream().filter(m -> m.name().equals(model)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("stage '" + stage + "' has no model '" + model
                        + "' (models: " + models() + ")"));
        if (predictor == null || !model.equals(loadedModel) || !java.util.Objects.equals(devices, loadedDevices)) {
            close();
            InferenceConfig settings = devices == null ? config.inference()
                    : config.inference().withDevices(devices, null);
            runner = member.open(settings);
            predictor = new Predictor(runner, settings, log);
            loadedModel = model;
            loadedDevices = devices == null ? null : List.copyOf(devices);
        }
        return predictor.predict(rows, member.encoder(member.maxLength())::apply, "pseudo-label " + model);
    }

    /**
     * The stage's soft label of one row from each model's probabilities (in {@link #models} order): the ensemble's
     * weighted average, as the single-process stage makes it.
     */
    public PseudoLabels.Label combine(String id, List<float[]> probs) {
        List<Ensemble.Member> members = ensemble.members();
        if (probs.size() != members.size()) {
            throw new IllegalArgumentException(probs.size() + " predictions for " + members.size() + " models");
        }
        double[][] each = new double[probs.size()][];
        for (int j = 0; j < each.length; j++) {
            each[j] = new double[3];
            for (int k = 0; k < 3; k++) {
                each[j][k] = probs.get(j)[k];
            }
        }
        return PseudoLabels.Label.of(id, ensemble.average().combine(each,
                members.stream().mapToDouble(Ensemble.Member::weight).toArray()));
    }

    /** Frees the loaded model (the setup stays open). */
    @Override
    public synchronized void close() {
        if (runner != null) {
            runner.close();
            runner = null;
            predictor = null;
            loadedModel = null;
            loadedDevices = null;
        }
    }
}
