package arenakit.train;

import ai.djl.ndarray.NDArray;
import arenakit.model.tensor.TorchScalar;

/**
 * Training losses over logits {@code [n, classes]}. Each returns the per-example loss {@code [n]} so the trainer
 * can weight micro-batches of one optimizer step by their share of the step's rows. Scalars on the student's side
 * are {@link TorchScalar}s: autograd keeps them for the backward pass.
 */
public final class Losses {
    private Losses() {}

    /**
     * Cross-entropy against target distributions {@code [n, classes]}: one-hot rows give the usual hard-label loss,
     * probability rows (pseudo-labels) the soft-label loss.
     */
    public static NDArray crossEntropy(NDArray logits, NDArray targets) {
        return targets.mul(logits.logSoftmax(-1)).sum(new int[] {-1}).neg();
    }

    /**
     * Knowledge distillation: {@code T^2 * KL(softmax(teacher/T) || softmax(student/T))}. The T^2 factor keeps the
     * gradient scale independent of T (Hinton et al.), so the soft-loss weight means the same at any temperature.
     */
    public static NDArray distillation(NDArray logits, NDArray teacherLogits, double temperature) {
        float t = (float) temperature;
        NDArray teacherLog = teacherLogits.div(t).logSoftmax(-1);
        NDArray studentLog = logits.div(TorchScalar.of(logits, t)).logSoftmax(-1);
        NDArray kl = teacherLog.exp().mul(teacherLog.sub(studentLog)).sum(new int[] {-1});
        return kl.mul(TorchScalar.of(kl, t * t));
    }

    /**
     * The distillation objective: {@code softWeight * distillation + (1 - softWeight) * crossEntropy(targets)};
     * with {@code teacherLogits == null} (rows without a teacher) plain cross-entropy.
     */
    public static NDArray objective(NDArray logits, NDArray targets, NDArray teacherLogits, DistillConfig distill) {
        NDArray ce = crossEntropy(logits, targets);
        if (teacherLogits == null || distill == null) {
            return ce;
        }
        float w = (float) distill.softWeight();
        NDArray soft = distillation(logits, teacherLogits, distill.temperature());
        return soft.mul(TorchScalar.of(soft, w)).add(ce.mul(TorchScalar.of(ce, 1 - w)));
    }

    /**
     * {@link #objective} for a batch where only some rows have teacher logits: row i trains on the distillation
     * objective when {@code distilled[i]}, on plain cross-entropy otherwise (its {@code teacherLogits} row is not
     * read). Per row: {@code w_i * distillation + (1 - w_i) * crossEntropy} with {@code w_i = softWeight} or 0.
     */
    public static NDArray objective(NDArray logits, NDArray targets, NDArray teacherLogits, DistillConfig distill,
            boolean[] distilled) {
        float[] w = new float[distilled.length];
        int n = 0;
        for (int i = 0; i < w.length; i++) {
            if (distilled[i]) {
                w[i] = (float) distill.softWeight();
                n++;
            }
        }
        if (n == 0) {
            return crossEntropy(logits, targets);
        }
        if (n == w.length) {
            return objective(logits, targets, teacherLogits, distill);
        }
        NDArray ce = crossEntropy(logits, targets);
        NDArray soft = distillation(logits, teacherLogits, distill.temperature());
        NDArray weight = logits.getManager().create(w).toDevice(logits.getDevice(), false);
        return soft.mul(weight).add(ce.mul(weight.neg().add(1f)));
    }
}
