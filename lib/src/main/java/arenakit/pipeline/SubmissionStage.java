package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.DataSet;
import arenakit.data.KaggleCsv;
import arenakit.data.Submission;
import arenakit.infer.InferenceConfig;
import arenakit.infer.PostProcess;
import arenakit.infer.Predictions;
import arenakit.infer.Predictor;
import arenakit.infer.SubmissionConfig;
import arenakit.text.PromptEncoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The submission stage: the model(s) predict test.csv (with TTA when configured), probabilities are averaged
 * over models, the post-processing rules applied, and the data layer's writer clips, renormalises and writes
 * them in sample_submission's order, atomically.
 */
final class SubmissionStage {
    private SubmissionStage() {}

    static StageSummary run(Pipeline p, String stage, SubmissionConfig config) throws IOException {
        Inputs.Files files = p.inputs().files();
        Path file = p.stageDir(stage).resolve("submission.csv");
        int rows = write(p, stage, config, files.test(), files.sampleSubmission(), file);
        Path top = p.out().resolve("submission.csv");
        arenakit.util.AtomicFiles.copy(file, top); // Kaggle (or a user) never reads a half-copied file
        p.log(stage).accept("wrote " + top);
        Double testLogLoss = null;
        if (files.solution() != null) {
            testLogLoss = StageReports.score(file, files.solution());
            p.log(stage).accept(String.format(Locale.ROOT, "test log loss %.4f (the sample's hidden labels, %s)",
                    testLogLoss, files.solution().getFileName()));
        }
        return new StageSummary(stage, SubmissionConfig.KIND, StageSummary.DONE, rows, null, 0, null, null, null,
                testLogLoss, top.toString());
    }

    /** Predicts {@code test} and writes the submission; returns the row count. */
    static int write(Pipeline p, String stage, SubmissionConfig config, Path test, Path sampleSubmission, Path output)
            throws IOException {
        Consumer<String> log = p.log(stage);
        DataSet testSet = KaggleCsv.readTest(test);
        List<String> order = Submission.readIds(sampleSubmission);
        Submission.checkTestIds(testSet, order, sampleSubmission);
        List<Conversation> rows = testSet.rows();
        InferenceConfig inference = config.inference();
        log.accept(rows.size() + " test rows, models " + config.models() + ", " + inference.mode() + " on "
                + inference.devices() + (inference.tta() ? ", swap TTA" : ", no TTA"));
        double[][] sum = new double[rows.size()][3];
        for (String name : config.models()) {
            TrainedModel model = p.trainedModel(name);
            PromptEncoder encoder = p.encoderFor(model, config.maxLength());
            try (Models.Inference runner = Models.forInference(p.baseModelFor(model), model, inference, log)) {
                Predictions predictions = new Predictor(runner.runner(), inference, log)
                        .predict(rows, encoder::encode, "predict " + name);
                for (int i = 0; i < rows.size(); i++) {
                    for (int k = 0; k < 3; k++) {
                        sum[i][k] += predictions.probs()[i][k] / config.models().size();
                    }
                }
            }
        }
        PostProcess rules = new PostProcess(inference.postprocess());
        Map<String, double[]> byId = new LinkedHashMap<>();
        int changed = 0;
        for (int i = 0; i < rows.size(); i++) {
            changed += rules.rule(rows.get(i)) != null ? 1 : 0;
            byId.put(rows.get(i).id(), rules.apply(rows.get(i), sum[i]));
        }
        if (inference.postprocess() != null) {
            log.accept("post-processing rules changed " + changed + " of " + rows.size() + " rows");
        }
        Submission.write(output, byId, order, Submission.DEFAULT_EPS);
        Submission.Report report = Submission.validate(output, test, sampleSubmission);
        log.accept(String.format(Locale.ROOT, "submission: %s", report));
        return rows.size();
    }
}
