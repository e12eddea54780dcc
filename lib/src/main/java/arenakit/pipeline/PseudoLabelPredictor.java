package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.PreferencePairs;
import arenakit.infer.InferenceConfig;
import arenakit.infer.Predictions;
import arenakit.infer.Predictor;
import arenakit.text.PromptEncoder;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.PseudoLabels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

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
    private PromptEncoder firstEncoder;
    private String loadedModel;
    private List<String> loadedDevices;
    private PseudoLabels.ModelPredictor predictor;

    private PseudoLabelPredictor(Pipeline pipeline, String stage, PseudoLabelConfig config, Consumer<String> log) {
        this.pipeline = pipeline;
        this.stage = stage;
        this.config = config;
        this.log = log;
    }

    /** The pseudo-label stage {@code stage} of an opened setup; nothing is loaded onto a device yet. */
    public static PseudoLabelPredictor open(Pipeline p, String stage) throws IOException {
        if (!(p.stageConfig(stage) instanceof PseudoLabelConfig config)) {
            throw new ConfigException(p.folder().where("pipeline.json") + ": '" + stage + "' is not a stage of kind "
                    + PseudoLabelConfig.KIND + " (stages: " + p.experiment().stages() + ")");
        }
        PseudoLabelPredictor predictor = new PseudoLabelPredictor(p, stage, config, p.log(stage));
        for (String model : config.models()) {
            p.baseModelFor(p.trainedModel(model)); // writes a tiny base model once, checks a copied stage's base
        }
        predictor.firstEncoder = predictor.encoder(config.models().get(0));
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
        return firstEncoder.encode(row).length;
    }

    /**
     * One model's predictions of {@code rows} on {@code devices} ({@code null}: the stage's own devices and mode;
     * one device: single; two: the stage's two-device mode, pipelined if it names none). The model stays loaded for
     * the next call with the same model and devices; any other is closed first.
     */
    public synchronized Predictions predict(String model, List<Conversation> rows, List<String> devices)
            throws IOException {
        if (!config.models().contains(model)) {
            throw new IllegalArgumentException("stage '" + stage + "' has no model '" + model + "' (models: "
                    + config.models() + ")");
        }
        if (predictor == null || !model.equals(loadedModel) || !java.util.Objects.equals(devices, loadedDevices)) {
            close();
            predictor = open(model, devices);
            loadedModel = model;
            loadedDevices = devices == null ? null : List.copyOf(devices);
        }
        return predictor.predict(rows);
    }

    /** The stage's soft label of one row from each model's probabilities (in {@link PseudoLabelConfig#models} order). */
    public PseudoLabels.Label combine(String id, List<float[]> probs) {
        if (probs.size() != config.models().size()) {
            throw new IllegalArgumentException(probs.size() + " predictions for " + config.models().size() + " models");
        }
        double[] sum = new double[3];
        for (float[] p : probs) {
            for (int k = 0; k < 3; k++) {
                sum[k] += p[k];
            }
        }
        return PseudoLabels.ensemble(id, sum, probs.size());
    }

    /** The single-process stage's predictor of one model (also what {@link PseudoLabelStage} runs). */
    static PseudoLabels.ModelPredictor open(Pipeline p, String name, PseudoLabelConfig config, InferenceConfig settings,
            Consumer<String> log) throws IOException {
        TrainedModel model = p.trainedModel(name);
        PromptEncoder encoder = p.encoderFor(model, config.maxLength());
        Models.Inference inference = Models.forInference(p.baseModelFor(model), model, settings, log);
        Predictor predictor = new Predictor(inference.runner(), settings, log);
        return new PseudoLabels.ModelPredictor() {
            @Override
            public Predictions predict(List<Conversation> chunk) {
                return predictor.predict(chunk, encoder::encode, "pseudo-label " + name);
            }

            @Override
            public void close() {
                inference.close();
            }
        };
    }

    private PseudoLabels.ModelPredictor open(String model, List<String> devices) throws IOException {
        InferenceConfig settings = devices == null ? config.inference() : config.inference().withDevices(devices, null);
        return open(pipeline, model, config, settings, log);
    }

    private PromptEncoder encoder(String model) throws IOException {
        return pipeline.encoderFor(pipeline.trainedModel(model), config.maxLength());
    }

    /** Frees the loaded model (the setup stays open). */
    @Override
    public synchronized void close() {
        if (predictor != null) {
            predictor.close();
            predictor = null;
            loadedModel = null;
            loadedDevices = null;
        }
    }
}
