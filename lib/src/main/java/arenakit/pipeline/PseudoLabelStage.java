package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.infer.Ensemble;
import arenakit.infer.TimeBudget;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.PseudoLabels;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The pseudo-label stage: the ensemble labels the unlabeled pairs, each model in turn, resumable chunk by chunk
 * ({@code <stage>/chunks/}) and within the time budget. A row no model predicted before the budget's hard limit is
 * left out (a class prior teaches a student nothing): its id goes to {@code left_out.csv}, which the distillation
 * stage reads to skip it, and the count to the log and {@code inference.json}.
 */
final class PseudoLabelStage {
    private PseudoLabelStage() {}

    static StageSummary run(Pipeline p, String stage, PseudoLabelConfig config) throws IOException {
        long started = System.nanoTime();
        Consumer<String> log = p.log(stage);
        List<Conversation> rows = p.inputs().unlabeled();
        if (rows.isEmpty()) {
            throw new ConfigException(p.folder().where("pipeline.json") + ": stage '" + stage + "' needs unlabeled "
                    + "pairs, but data.unlabeled names no file");
        }
        Duration budget = config.inference().budget();
        log.accept(rows.size() + " unlabeled pairs, models " + config.models() + (config.inference().tta()
                ? ", with swap TTA" : "") + (budget == null ? "" : ", time budget " + TimeBudget.format(budget)));
        Path dir = p.stageDir(stage);
        Ensemble ensemble = StageEnsemble.of(p, config.models(), config.maxLength(), config.average(),
                config.inference(), log).withChunks(dir.resolve("chunks"), config.chunkRows())
                .withBudget(budget == null ? null : new TimeBudget(budget, System::nanoTime, started))
                .withEstimate(budget != null);
        Ensemble.Result result = ensemble.predict(rows, "pseudo-label");
        Json.write(dir.resolve("inference.json"), result.report());
        List<PseudoLabels.Label> labels = new ArrayList<>(rows.size());
        List<String> leftOut = new ArrayList<>();
        double[] mean = new double[3];
        for (int i = 0; i < rows.size(); i++) {
            double[] probs = result.probs(i);
            if (probs == null) {
                leftOut.add(rows.get(i).id());
                continue;
            }
            float[] pr = new float[3];
            float[] z = new float[3];
            for (int k = 0; k < 3; k++) {
                pr[k] = (float) probs[k];
                z[k] = (float) Math.log(Math.max(pr[k], 1e-30));
            }
            labels.add(new PseudoLabels.Label(rows.get(i).id(), pr, z));
        }
        for (PseudoLabels.Label l : labels) {
            for (int k = 0; k < 3; k++) {
                mean[k] += l.probs()[k] / labels.size();
            }
        }
        PseudoLabels.writeLeftOut(dir, leftOut);
        if (result.report().models().size() > 1 || budget != null) {
            log.accept("predictions: " + result.report().summary());
        }
        if (!leftOut.isEmpty()) {
            log.accept(String.format(Locale.ROOT, "%,d of %,d pairs were not labeled within the time budget: left "
                    + "out (%s); to label them, delete %s and run the stage again (its chunks are kept)", leftOut.size(),
                    rows.size(), dir.resolve(PseudoLabels.LEFT_OUT), dir.resolve(StageSummary.FILE)));
        }
        PseudoLabels.write(dir.resolve("pseudo_labels.csv"), labels);
        log.accept(String.format(Locale.ROOT, "%d soft labels, mean P(A)=%.3f P(B)=%.3f P(tie)=%.3f",
                labels.size(), mean[0], mean[1], mean[2]));
        return new StageSummary(stage, PseudoLabelConfig.KIND, StageSummary.DONE, labels.size(), null, 0, null, null,
                null, null, dir.resolve("pseudo_labels.csv").toString());
    }
}
