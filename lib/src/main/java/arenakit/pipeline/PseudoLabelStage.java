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
import java.util.Map;
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
        if (config.spark() != null) {
            List<PseudoLabels.Label> labels = viaSpark(p, stage, config, rows, log);
            PseudoLabels.writeLeftOut(dir, List.of());
            PseudoLabels.write(dir.resolve("pseudo_labels.csv"), labels);
            return summary(stage, labels, dir, log);
        }
        Ensemble ensemble = StageEnsemble.of(p, config.models(), config.maxLength(), config.average(),
                config.inference(), log).withChunks(dir.resolve("chunks"), config.chunkRows())
                .withBudget(budget == null ? null : new TimeBudget(budget, System::nanoTime, started))
                .withEstimate(budget != null);
        Ensemble.Result result = ensemble.predict(rows, "pseudo-label");
        Json.write(dir.resolve("inference.json"), result.report());
        List<PseudoLabels.Label> labels = new ArrayList<>(rows.size());
        List<String> leftOut = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            double[] probs = result.probs(i);
            if (probs == null) {
                leftOut.add(rows.get(i).id());
                continue;
            }
            labels.add(PseudoLabels.Label.of(rows.get(i).id(), probs));
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
        return summary(stage, labels, dir, log);
    }

    private static StageSummary summary(String stage, List<PseudoLabels.Label> labels, Path dir, Consumer<String> log) {
        double[] mean = new double[3];
        for (PseudoLabels.Label l : labels) {
            for (int k = 0; k < 3; k++) {
                mean[k] += l.probs()[k] / labels.size();
            }
        }
        log.accept(String.format(Locale.ROOT, "%d soft labels, mean P(A)=%.3f P(B)=%.3f P(tie)=%.3f",
                labels.size(), mean[0], mean[1], mean[2]));
        return new StageSummary(stage, PseudoLabelConfig.KIND, StageSummary.DONE, labels.size(), null, 0, null, null,
                null, null, dir.resolve("pseudo_labels.csv").toString());
    }

    /** The stage as a Spark job ({@code spark} in the config): the same labels, in the rows' order, same file. */
    private static List<PseudoLabels.Label> viaSpark(Pipeline p, String stage, PseudoLabelConfig config,
            List<Conversation> rows, Consumer<String> log) throws IOException {
        ClusterPseudoLabels cluster = ClusterPseudoLabels.find(p.folder().where(stage + ".json"));
        Map<String, PseudoLabels.Label> byId = PseudoLabels.byId(cluster.run(p.folder(), p.out(), stage,
                config.spark(), p.inputs().files().unlabeled(), p.stageDir(stage).resolve("spark"), log));
        List<PseudoLabels.Label> labels = new ArrayList<>(rows.size());
        for (Conversation row : rows) {
            PseudoLabels.Label l = byId.get(row.id());
            if (l == null) {
                throw new IOException("the Spark job returned no label for id " + row.id());
            }
            labels.add(l);
        }
        if (byId.size() != rows.size()) {
            throw new IOException("the Spark job returned " + byId.size() + " labels for " + rows.size() + " rows");
        }
        return labels;
    }
}
