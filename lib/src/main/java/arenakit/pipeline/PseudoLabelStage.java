package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.infer.Predictions;
import arenakit.infer.Predictor;
import arenakit.text.PromptEncoder;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.PseudoLabels;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/** The pseudo-label stage: trained model(s) label the unlabeled pairs, chunk by chunk. */
final class PseudoLabelStage {
    private PseudoLabelStage() {}

    static StageSummary run(Pipeline p, String stage, PseudoLabelConfig config) throws IOException {
        Consumer<String> log = p.log(stage);
        List<Conversation> rows = p.inputs().unlabeled();
        if (rows.isEmpty()) {
            throw new ConfigException(p.folder().where("pipeline.json") + ": stage '" + stage + "' needs unlabeled "
                    + "pairs, but data.unlabeled names no file");
        }
        log.accept(rows.size() + " unlabeled pairs, models " + config.models() + (config.inference().tta()
                ? ", with swap TTA" : ""));
        List<PseudoLabels.Label> labels = PseudoLabels.generate(rows, config.models(), name -> {
            TrainedModel model = p.trainedModel(name);
            PromptEncoder encoder = p.encoderFor(model, config.maxLength());
            Models.Inference inference = Models.forInference(p.baseModelFor(model), model, config.inference(), log);
            Predictor predictor = new Predictor(inference.runner(), config.inference(), log);
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
        }, p.stageDir(stage), config.chunkRows(), log);
        double[] mean = new double[3];
        for (PseudoLabels.Label l : labels) {
            for (int k = 0; k < 3; k++) {
                mean[k] += l.probs()[k] / labels.size();
            }
        }
        log.accept(String.format(java.util.Locale.ROOT, "%d soft labels, mean P(A)=%.3f P(B)=%.3f P(tie)=%.3f",
                labels.size(), mean[0], mean[1], mean[2]));
        return new StageSummary(stage, PseudoLabelConfig.KIND, StageSummary.DONE, labels.size(), null, 0, null, null,
                null, null, p.stageDir(stage).resolve("pseudo_labels.csv").toString());
    }
}
