package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.PseudoLabels;
import arenakit.train.TrainConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Did a distillation stage help? Its held-out log loss against the stage it started from (or, from the base model,
 * against its teacher), and the facts that explain the difference: whether the student started as its own teacher,
 * how many pseudo-labeled pairs it saw against the teacher's labeled rows, and how the pseudo-labels' class mix
 * compares with the held-out fold's (preference pairs are chosen vs rejected, never ties). The pipeline logs
 * {@link #describe()} when such a stage finishes; 04-stage2-3.ipynb shows it.
 *
 * @param stage the distillation stage
 * @param loss its held-out log loss
 * @param reference the stage it is compared with: where it started, else its best teacher
 * @param referenceLoss that stage's held-out log loss
 * @param studentIsTeacher it started from a model that wrote its pseudo-labels
 * @param pseudoRows pseudo-labeled pairs it trained on
 * @param teacherRows labeled rows the teacher trained on (0 when unknown)
 * @param pseudoMix mean P(A), P(B), P(tie) of the pseudo-labels
 * @param holdoutMix class shares A, B, tie of the held-out fold
 */
public record DistillationCheck(String stage, double loss, String reference, double referenceLoss,
        boolean studentIsTeacher, long pseudoRows, long teacherRows, double[] pseudoMix, double[] holdoutMix) {

    /** Below this change of the held-out log loss the stage counts as neither helping nor hurting. */
    static final double TOLERANCE = 0.002;

    /**
     * The check of a finished distillation stage (one that trains on pseudo-labels with a holdout); empty for any
     * other stage, or when the stages it compares with have no held-out log loss.
     */
    public static Optional<DistillationCheck> of(Pipeline p, String stage) throws IOException {
        if (!(p.stageConfig(stage) instanceof TrainConfig config)
                || !config.data().sources().contains(TrainConfig.Data.PSEUDO_LABELS)
                || config.data().holdout() == null) {
            return Optional.empty();
        }
        Optional<StageSummary> self = StageSummary.read(p.stageDir(stage));
        String labelStage = pseudoLabelStage(p, stage);
        if (self.isEmpty() || self.get().valLogLoss() == null || labelStage == null) {
            return Optional.empty();
        }
        List<String> teachers = ((PseudoLabelConfig) p.stageConfig(labelStage)).models().stream()
                .map(arenakit.infer.WeightedModel::model).toList();
        String start = config.model().loadFrom();
        String reference = start != null && p.stageConfig(start) instanceof TrainConfig ? start : null;
        double referenceLoss = Double.NaN;
        long teacherRows = 0;
        for (String t : teachers) {
            Optional<StageSummary> s = p.stageConfig(t) instanceof TrainConfig ? StageSummary.read(p.stageDir(t))
                    : Optional.empty();
            if (s.isPresent() && s.get().valLogLoss() != null) {
                teacherRows = Math.max(teacherRows, s.get().rows());
                if (reference == null && (Double.isNaN(referenceLoss) || s.get().valLogLoss() < referenceLoss)) {
                    referenceLoss = s.get().valLogLoss();
                    reference = t;
                }
            }
        }
        if (start != null && start.equals(reference)) {
            referenceLoss = StageSummary.read(p.stageDir(start)).map(StageSummary::valLogLoss).orElse(Double.NaN);
        }
        if (reference == null || Double.isNaN(referenceLoss)) {
            return Optional.empty();
        }
        Path file = p.stageDir(labelStage).resolve("pseudo_labels.csv");
        double[] pseudoMix = new double[3];
        long pseudoRows = 0;
        if (Files.isRegularFile(file)) {
            List<PseudoLabels.Label> labels = PseudoLabels.read(file);
            pseudoRows = labels.size();
            for (PseudoLabels.Label l : labels) {
                for (int k = 0; k < 3; k++) {
                    pseudoMix[k] += l.probs()[k] / labels.size();
                }
            }
        }
        double[] holdoutMix = new double[3];
        List<Conversation> holdout = p.inputs().split(config.data().holdout(), config.data().sources()).holdout();
        for (Conversation c : holdout) {
            holdoutMix[c.winner().ordinal()] += 1.0 / holdout.size();
        }
        return Optional.of(new DistillationCheck(stage, self.get().valLogLoss(), reference, referenceLoss,
                start != null && teachers.contains(start), pseudoRows, teacherRows, pseudoMix, holdoutMix));
    }

    /** The change of the held-out log loss from the reference stage (negative: better). */
    public double change() {
        return loss - referenceLoss;
    }

    public boolean helped() {
        return change() < -TOLERANCE;
    }

    /**
     * One plain paragraph: whether it helped, by how much, and, when it did not, the likely reasons here and what
     * would make it help.
     */
    public String describe() {
        String head = String.format(Locale.ROOT, "distillation: held-out log loss %.4f against %.4f for %s (%+.4f): ",
                loss, referenceLoss, reference, change());
        if (helped()) {
            return head + "it helped. The student learned from the teacher's soft labels of "
                    + String.format(Locale.ROOT, "%,d", pseudoRows) + " unlabeled pairs what the "
                    + (teacherRows > 0 ? String.format(Locale.ROOT, "%,d ", teacherRows) : "")
                    + "labeled rows alone did not teach it.";
        }
        List<String> why = new ArrayList<>();
        if (studentIsTeacher) {
            why.add("the student started from its own teacher (model.load_from " + reference + ", the model that "
                    + "wrote the pseudo-labels), so matching those labels adds little it did not already predict");
        }
        if (teacherRows > 0 && pseudoRows <= teacherRows) {
            why.add(String.format(Locale.ROOT, "it saw %,d pseudo-labeled pairs, no more than the %,d labeled rows the "
                    + "teacher learned from", pseudoRows, teacherRows));
        }
        if (Math.abs(pseudoMix[2] - holdoutMix[2]) > 0.05) {
            why.add(String.format(Locale.ROOT, "the pseudo-labels put %.0f%% on ties where the held-out fold has "
                    + "%.0f%% (preference pairs are chosen against rejected, never ties), so the student learns to "
                    + "mispredict ties", 100 * pseudoMix[2], 100 * holdoutMix[2]));
        }
        String verdict = change() > TOLERANCE ? "it did not help here, it hurt" : "it changed little";
        return head + verdict + (why.isEmpty() ? "." : ": " + String.join("; ", why) + ".")
                + " It pays off when the teacher knows more than the student (a bigger model, an ensemble in "
                + "pseudo_labels.models, or longer training), labels several times more pairs than there are human "
                + "labels, and the pairs look like the arena's (close calls included): the winners distilled about "
                + "240k pseudo-labeled pairs from stronger models.";
    }

    /** The pseudo-label stage that runs before {@code stage} (the last one, if several), or null. */
    private static String pseudoLabelStage(Pipeline p, String stage) {
        String found = null;
        for (String s : p.experiment().stages()) {
            if (s.equals(stage)) {
                break;
            }
            if (p.stageConfig(s) instanceof PseudoLabelConfig) {
                found = s;
            }
        }
        return found;
    }
}
