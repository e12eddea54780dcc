package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.PseudoLabels;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        List<PseudoLabels.Label> labels = config.spark() != null ? viaSpark(p, stage, config, rows, log)
                : PseudoLabels.generate(rows, config.models(),
                        name -> PseudoLabelPredictor.open(p, name, config, config.inference(), log),
                        p.stageDir(stage), config.chunkRows(), log);
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
        PseudoLabels.write(p.stageDir(stage).resolve("pseudo_labels.csv"), labels);
        return labels;
    }
}
