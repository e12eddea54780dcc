package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.DataSet;
import arenakit.data.KaggleCsv;
import arenakit.data.Submission;
import arenakit.infer.Ensemble;
import arenakit.infer.InferenceConfig;
import arenakit.infer.PostProcess;
import arenakit.infer.PostProcessConfig;
import arenakit.infer.SubmissionConfig;
import arenakit.infer.TimeBudget;
import arenakit.util.AtomicFiles;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The submission stage: the ensemble predicts test.csv (with TTA when configured), each model in turn, resumable
 * chunk by chunk ({@code <stage>/chunks/}) and within the time budget; the post-processing rules are applied, and
 * the data layer's writer clips, renormalises and writes in sample_submission's order, atomically. A row no model
 * predicted before the budget's hard limit gets the class prior, and the count is logged and kept in
 * {@code <stage>/inference.json}, with every degrade decision.
 */
final class SubmissionStage {
    /** LMSYS train.csv's class shares (A, B, tie): the prior when the setup's train file cannot be read. */
    static final double[] LMSYS_PRIOR = {0.349, 0.342, 0.309};

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

    /** Predicts {@code test} and writes the submission; returns the row count. The time budget starts here. */
    static int write(Pipeline p, String stage, SubmissionConfig config, Path test, Path sampleSubmission, Path output)
            throws IOException {
        long started = System.nanoTime();
        Consumer<String> log = p.log(stage);
        DataSet testSet = KaggleCsv.readTest(test);
        List<String> order = Submission.readIds(sampleSubmission);
        Submission.checkTestIds(testSet, order, sampleSubmission);
        List<Conversation> rows = testSet.rows();
        InferenceConfig inference = config.inference();
        Duration budget = inference.budget();
        log.accept(rows.size() + " test rows, models " + config.models() + ", " + inference.mode() + " on "
                + inference.devices() + (inference.tta() ? ", swap TTA" : ", no TTA")
                + (budget == null ? "" : ", time budget " + TimeBudget.format(budget)));
        Ensemble ensemble = StageEnsemble.of(p, config.models(), config.maxLength(), config.average(), inference, log)
                .withChunks(p.stageDir(stage).resolve("chunks"), config.rowsPerChunk())
                .withBudget(budget == null ? null : new TimeBudget(budget, System::nanoTime, started))
                .withEstimate(budget != null || inference.devices().stream().anyMatch(d -> d.startsWith("gpu")));
        Ensemble.Result result = ensemble.predict(rows, "predict");
        Json.write(p.stageDir(stage).resolve("inference.json"), result.report());
        finish(result, rows, () -> classPrior(p, log), inference.postprocess(), order, output, log);
        Submission.Report report = Submission.validate(output, test, sampleSubmission);
        log.accept(String.format(Locale.ROOT, "submission: %s", report));
        return rows.size();
    }

    /** Prints the memory plans and the time estimate for {@code test} (nothing is loaded or written). */
    static void plan(Pipeline p, String stage, SubmissionConfig config, Path test) throws IOException {
        Consumer<String> log = p.log(stage);
        List<Conversation> rows = KaggleCsv.readTest(test).rows();
        log.accept(rows.size() + " test rows, models " + config.models() + ", " + config.inference().mode() + " on "
                + config.inference().devices() + (config.inference().tta() ? ", swap TTA" : ", no TTA"));
        double seconds = StageEnsemble.of(p, config.models(), config.maxLength(), config.average(),
                config.inference(), log).withChunks(p.stageDir(stage).resolve("chunks"), config.rowsPerChunk())
                .plan(rows, "plan");
        Duration budget = config.inference().budget();
        if (budget != null) {
            log.accept(String.format(Locale.ROOT, "time budget %s: %s", TimeBudget.format(budget),
                    seconds <= budget.toSeconds() ? "the estimate fits" : "the estimate does not fit: the run will "
                            + "degrade (swap TTA off first) once its measured batches confirm it"));
        }
    }

    /**
     * Writes the submission from the ensemble's result: a row without any prediction gets {@code prior}, then the
     * post-processing rules, then the data layer's writer (clipped, renormalised, in {@code order}, atomically).
     */
    static void finish(Ensemble.Result result, List<Conversation> rows, Supplier<double[]> prior,
            PostProcessConfig postprocess, List<String> order, Path output, Consumer<String> log) throws IOException {
        PostProcess rules = new PostProcess(postprocess);
        Map<String, double[]> byId = new LinkedHashMap<>();
        int changed = 0;
        int fallback = 0;
        double[] shares = null;
        for (int i = 0; i < rows.size(); i++) {
            double[] p = result.probs(i);
            if (p == null) {
                shares = shares == null ? prior.get() : shares;
                p = shares;
                fallback++;
            }
            changed += rules.rule(rows.get(i)) != null ? 1 : 0;
            byId.put(rows.get(i).id(), rules.apply(rows.get(i), p));
        }
        if (postprocess != null) {
            log.accept("post-processing rules changed " + changed + " of " + rows.size() + " rows");
        }
        Ensemble.Report r = result.report();
        if (r.models().size() > 1 || r.budget() != null || fallback > 0) {
            log.accept("predictions: " + r.summary() + (fallback == 0 ? "" : String.format(Locale.ROOT,
                    "; the %,d row(s) no model predicted get the class prior (%.3f, %.3f, %.3f)", fallback,
                    shares[0], shares[1], shares[2])));
        }
        Submission.write(output, byId, order, Submission.DEFAULT_EPS);
    }

    /** The class shares of the setup's labeled rows, else LMSYS's (said in the log). */
    static double[] classPrior(Pipeline p, Consumer<String> log) {
        try {
            double[] n = new double[3];
            List<Conversation> labeled = p.inputs().labeled();
            for (Conversation c : labeled) {
                n[c.winner().ordinal()]++;
            }
            double total = n[0] + n[1] + n[2];
            if (total > 0) {
                return new double[] {n[0] / total, n[1] / total, n[2] / total};
            }
        } catch (IOException | RuntimeException e) {
            log.accept("class prior: the setup's labeled rows cannot be read (" + e.getMessage() + "); using "
                    + "LMSYS's class shares");
        }
        return LMSYS_PRIOR.clone();
    }
}
