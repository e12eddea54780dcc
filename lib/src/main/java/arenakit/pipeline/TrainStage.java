package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.model.SequenceClassifier;
import arenakit.text.PromptEncoder;
import arenakit.train.Example;
import arenakit.train.PseudoLabels;
import arenakit.train.TeacherLogits;
import arenakit.train.TrainConfig;
import arenakit.train.Trainer;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
        BaseModels.Base base = p.base(config.model().baseModel());
        PromptEncoder encoder = p.encoder(base, config.data().text());
        log.accept(rows.size() + " training rows from " + config.data().sources() + ", " + split.holdout().size()
                + " held-out rows; swap " + config.data().swap() + ", " + config.data().text().format() + " format in "
                + "the " + encoder.template().name() + " template, " + encoder.maxLength() + " tokens max ("
                + encoder.tokenizer().file() + " of base model '" + base.name() + "')");
        TeacherLogits.Report teachers = null;
        if (config.distill() != null && !config.distill().teachers().isEmpty()) {
            TeacherLogits.Result r = TeacherLogits.attach(config.distill().teachers(), config.distill().temperature(),
                    rows, notTrained(p, split));
            rows.clear();
            rows.addAll(r.rows());
            teachers = r.report();
            log.accept(teachers.describe(config.distill().temperature()));
        }
        Path dir = p.stageDir(stage);
        Path checkpoint = base.checkpoint();
        TrainedModel init = config.model().loadFrom() == null ? null : p.trainedModel(config.model().loadFrom());
        if (init != null && init.encoding() != null
                && !init.encoding().architecture().equals(Architecture.of(checkpoint))) {
            throw new ConfigException(p.folder().where(stage + ".json") + ": model.load_from '"
                    + config.model().loadFrom() + "' was trained on base model '" + init.encoding().baseModel()
                    + "' (" + init.encoding().architecture() + "), this stage fine-tunes '" + base.name() + "' ("
                    + Architecture.of(checkpoint) + ")");
        }
        StageEncoding.write(dir, base.name(), checkpoint, encoder);
        try (Models.Training training = Models.forTraining(checkpoint, config, init, log)) {
            SequenceClassifier model = training.model();
            Trainer trainer = new Trainer(training.devices(), config, encoder::encode,
                    config.data().balancedOrder() ? Trainer::balanced : Trainer::shuffled, Models::export, log)
                    .withInputs(StageInputs.of(p, stage)); // a checkpoint from other data or models is refused
            Trainer.Result result = trainer.fit(rows, split.holdout(), dir, stopAfter);
            if (result.stopped()) {
                return new StageSummary(stage, TrainConfig.KIND, StageSummary.PAUSED, rows.size(), result.steps(),
                        result.seconds(), result.valLogLoss(), result.valAccuracy(), result.priorLogLoss(), null, null);
            }
            Models.export(model, dir);
            Json.write(dir.resolve("metrics.json"), result);
            return new StageSummary(stage, TrainConfig.KIND, StageSummary.DONE, rows.size(), result.steps(),
                    result.seconds(), result.valLogLoss(), result.valAccuracy(), result.priorLogLoss(), null,
                    dir.toString(), teachers);
        }
    }

    /** Labeled rows of the data this stage does not train on, by why: their teacher logits are ignored. */
    private static Map<String, String> notTrained(Pipeline p, Inputs.Split split) throws IOException {
        Map<String, String> out = new HashMap<>();
        p.inputs().droppedExternal().forEach(id -> out.put(id, "external rows dropped as duplicates of train rows"));
        Set<Conversation> trained = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        trained.addAll(split.train());
        for (Conversation c : p.inputs().labeled()) {
            if (!trained.contains(c)) {
                out.put(c.id(), "rows of a source this stage does not train on");
            }
        }
        split.holdout().forEach(c -> out.put(c.id(), "held-out rows"));
        return out;
    }

    /** The unlabeled rows joined with the soft labels of the setup's pseudo-label stage. */
    private static List<Example> pseudoLabeled(Pipeline p, String stage) throws IOException {
        String source = p.pseudoLabelSource(stage);
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
