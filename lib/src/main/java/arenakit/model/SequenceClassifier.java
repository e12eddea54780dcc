package arenakit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The contract between the model and the training / inference code: token ids in, class logits out.
 *
 * <p>Sequences are unpadded token-id arrays; how they are batched (padding + mask, or packed) is the
 * implementation's business, and a sequence's logits must not depend on what else is in the batch.
 */
public interface SequenceClassifier extends AutoCloseable {

    /** Number of classes (3: A, B, tie). */
    int numLabels();

    /**
     * Logits {@code [sequences.size(), numLabels()]}, allocated in {@code scope} (the caller closes it).
     * {@code training} turns dropout on; gradients flow to {@link #trainable()} when a GradientCollector is open.
     * With {@code training} off the pass records no autograd graph (inference, on any thread).
     */
    NDArray logits(NDManager scope, List<int[]> sequences, boolean training);

    /**
     * One micro-batch to train on: its sequences, the loss of their logits ({@code [B, numLabels]} float32 to a
     * scalar), the factor the loss is multiplied by before the backward pass (loss scaling; 1 = none) and the seed
     * of its dropout masks (the same seed draws the same masks on any device or thread).
     */
    record TrainBatch(List<int[]> sequences, java.util.function.UnaryOperator<NDArray> loss, float lossScale,
            long dropoutSeed) {}

    /**
     * Forward (dropout on), loss and backward of one micro-batch on the calling thread, which must have grad mode
     * on: the gradients accumulate into {@link #trainable()}. Returns the unscaled loss. Implementations may save
     * memory (activation checkpointing); the gradients are those of {@link #logits} in training mode.
     */
    default float backward(TrainBatch batch) {
        try (NDManager scope = arenakit.util.Engines.newManager()) {
            NDArray loss = batch.loss().apply(arenakit.model.tensor.Casts.toType(logits(scope, batch.sequences(), true),
                    DataType.FLOAT32));
            float value = loss.getFloat();
            arenakit.model.tensor.Autograd.backward(batch.lossScale() == 1 ? loss
                    : loss.mul(arenakit.model.tensor.TorchScalar.of(loss, batch.lossScale())));
            return value;
        }
    }

    /** The type the model computes in (FLOAT32 or FLOAT16): float16 training needs loss scaling. */
    DataType dtype();

    /** The tensors an optimizer updates (LoRA A/B, head), keyed by their PEFT state-dict names. */
    Map<String, NDArray> trainable();

    /** Writes the trainable part in PEFT layout (adapter_config.json + adapter_model.safetensors). */
    void saveAdapter(Path dir) throws IOException;

    @Override
    void close();
}
