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

    /** The type the model computes in (FLOAT32 or FLOAT16): float16 training needs loss scaling. */
    DataType dtype();

    /** The tensors an optimizer updates (LoRA A/B, head), keyed by their PEFT state-dict names. */
    Map<String, NDArray> trainable();

    /** Writes the trainable part in PEFT layout (adapter_config.json + adapter_model.safetensors). */
    void saveAdapter(Path dir) throws IOException;

    @Override
    void close();
}
