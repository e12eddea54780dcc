package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.model.SequenceClassifier;
import arenakit.text.PromptEncoder;
import arenakit.train.Example;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.PseudoLabels;
import arenakit.train.TrainConfig;
import arenakit.train.Trainer;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** A training stage: rows from the configured sources, the trainer, and the stage's outputs. */
final class TrainStage {
    private TrainStage() {}

    static StageSummary run(Pipeline p, String stage, TrainConfig config, int stopAfter) throws IOException {
        Consumer<String> log = p.log(stage);
        Inputs.Split split = p.inputs().split(config.data().holdout(), config.data().sources());
        List<Example> rows = new ArrayList<>();
        if (config.data().sources().contains(TrainConfig.Data.TRAIN)
                || config.data().sources().contains(TrainConfig.Data.EXTERNAL)) {
            split.train().forEach(c -> rows.add(Example.labeled(c)));
        }
        if (config.data().sources().contains(TrainConfig.Data.PSEUDO_LABELS)) {
            rows.addAll(pseudoLabeled(p, stage));
        }
        log.accept(rows.size() + " training rows from " + config.data().sources() + ", " + split.holdout().size()
                + " held-out rows; swap " + config.data().swap() + ", " + config.data().text().format() + " format, "
                + config.data().text().maxLength() + " tokens max");
        PromptEncoder encoder = p.encoder(config.data().text());
        Path dir = p.stageDir(stage);
        TrainedModel init = config.model().loadFrom() == null ? null : p.trainedModel(config.model().loadFrom());
        try (SequenceClassifier model = Models.forTraining(p.baseModel(), config, init, log)) {
            Trainer trainer = new Trainer(model, config, encoder::encode,
                    config.data().balancedOrder() ? Trainer::balanced : Trainer::shuffled, Models::export, log);
            Trainer.Result result = trainer.fit(rows, split.holdout(), dir, stopAfter);
            if (result.stopped()) {
                return new StageSummary(stage, TrainConfig.KIND, StageSummary.PAUSED, rows.size(), result.steps(),
                        result.seconds(), result.valLogLoss(), result.valAccuracy(), result.priorLogLoss(), null, null);
            }
            Models.export(model, dir);
            Json.write(dir.resolve("metrics.json"), result);
            return new StageSummary(stage, TrainConfig.KIND, StageSummary.DONE, rows.size(), result.steps(),
                    result.seconds(), result.valLogLoss(), result.valAccuracy(), result.priorLogLoss(), null,
                    dir.toString());
        }
    }

    /** The unlabeled rows joined with the soft labels of the setup's pseudo-label stage. */
    private static List<Example> pseudoLabeled(Pipeline p, String stage) throws IOException {
        String source = null;
        for (String s : p.experiment().stages()) {
            if (s.equals(stage)) {
                break;
            }
            if (p.stageConfig(s) instanceof PseudoLabelConfig) {
                source = s;
            }
        }
        if (source == null) {
            throw new ConfigException(p.folder().where(stage + ".json") + ": data.sources has pseudo_labels but no "
                    + "pseudo-label stage runs before '" + stage + "' in pipeline.json");
        }
        Path file = p.stageDir(source).resolve("pseudo_labels.csv");
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " does not exist: run stage '" + source + "' first");
        }
        Map<String, PseudoLabels.Label> labels = PseudoLabels.byId(PseudoLabels.read(file));
        java.util.Set<String> leftOut = PseudoLabels.leftOut(p.stageDir(source)); // by the stage's time budget
        List<Example> out = new ArrayList<>();
        for (Conversation c : p.inputs().unlabeled()) {
            PseudoLabels.Label l = labels.get(c.id());
            if (l == null && leftOut.contains(c.id())) {
                continue;
            }
            if (l == null) {
                throw new IOException(file + " has no row for unlabeled pair " + c.id() + ": the unlabeled data "
                        + "changed since stage '" + source + "' ran; delete " + p.stageDir(source) + " to redo it");
            }
            out.add(new Example(c, l.probs(), l.logits()));
        }
        if (!leftOut.isEmpty()) {
            p.log(stage).accept(leftOut.size() + " unlabeled pairs skipped: stage '" + source + "' left them out at "
                    + "its time budget (" + p.stageDir(source).resolve(PseudoLabels.LEFT_OUT) + ")");
        }
        return out;
    }
}
