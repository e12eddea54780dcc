package arenakit.model;

import ai.djl.ndarray.types.DataType;
import arenakit.model.family.DecoderConfig;
import arenakit.model.layers.Attention;
import arenakit.model.layers.GatedMlp;

/**
 * The activation memory of one micro-batch in this implementation, by counting what it allocates and what autograd
 * keeps (not a rule of thumb): checked against the measured peak on a CPU (docs/benchmarks.md, within 30%).
 *
 * <p>The micro-batch is the worst one a stage can form: {@code tokens} padded tokens in sequences of
 * {@code maxLength} ({@code tokens / maxLength} of them, at least one).
 *
 * <p>What one decoder layer keeps for the backward pass (b = bytes of the compute type, N tokens): its input and the
 * inputs of the norms and projections (Gemma-2: six {@code [N, hidden]}, Llama/Qwen2: four, plus a float32 copy of
 * each norm input in float16), the grouped queries and the attention output ({@code 2 [N, q]}), one contiguous copy of the keys
 * and of the values ({@code 2 [N, kv]}), the soft cap's tanh and the softmax probabilities of every block of scores
 * ({@code 2 x heads x} the causal block triangle per sequence), the MLP's derivative, activation, up projection and
 * product ({@code 4 [N, intermediate]}), each LoRA's rank-r product and, with LoRA dropout, the dropped-out input
 * and its mask (one byte per element) per projection.
 *
 * @param tokens padded tokens of the micro-batch
 * @param maxLength tokens per sequence
 * @param loraRank LoRA r (0: no adapters; a full fine-tune keeps the same activations as r = 0)
 * @param loraDropout LoRA dropout (0: the input is not copied)
 * @param gpu blocks sized for a GPU (else for a CPU's cache)
 */
public record ActivationMemory(DecoderConfig config, DataType dtype, long tokens, int maxLength, int loraRank,
        double loraDropout, boolean gpu) {

    /** Sequences of the worst micro-batch. */
    public long sequences() {
        return Math.max(1, tokens / maxLength);
    }

    /** Tokens of the worst micro-batch (whole sequences of {@code maxLength}). */
    public long batchTokens() {
        return sequences() * maxLength;
    }

    private long b() {
        return dtype.getNumOfBytes();
    }

    private boolean gemma() {
        return config.modelType().equals("gemma2");
    }

    /** Query rows per block of scores, as {@link Attention} blocks a packed sequence (padded rows alike). */
    private long blockRows() {
        return Math.min(maxLength, Attention.blockRows(1, config.numAttentionHeads(), maxLength, b(), gpu));
    }

    /** Score elements per head of one sequence over a layer: full attention (the largest). */
    private long scoreElements() {
        return Attention.scoreElements(maxLength, blockRows(), null);
    }

    /**
     * The batch's RoPE tables and attention masks on one device ({@link arenakit.model.layers.Positions}): a causal
     * {@code [t, t]} mask, a second one for sliding layers (counted for Gemma-2 and Qwen2, which may slide), four
     * tables of {@code [N, head_dim]}.
     */
    public long positionsBytes() {
        long masks = (config.modelType().equals("llama") ? 1L : 2L) * maxLength * maxLength;
        return (masks + 4L * batchTokens() * config.headDim()) * b();
    }

    /** Bytes one decoder layer keeps for the backward pass (its input included). */
    public long savedPerLayer() {
        long n = batchTokens();
        long s = sequences();
        long h = config.hiddenSize();
        long q = config.qDim();
        long kv = config.kvDim();
        long inter = config.intermediateSize();
        long b = b();
        int norms = gemma() ? 4 : 2;
        long bytes = n * h * b * (gemma() ? 6 : 4);
        if (dtype != DataType.FLOAT32) {
            bytes += norms * n * h * 4L; // each norm's float32 copy of its input
        }
        bytes += 2 * n * q * b + 2 * n * kv * b;
        bytes += 2L * s * config.numAttentionHeads() * scoreElements() * b;
        bytes += 4 * n * inter * b;
        if (loraRank > 0) {
            bytes += 7L * n * loraRank * b;
            if (loraDropout > 0) { // the dropped-out input (b) and its mask (1 byte) of every projection
                bytes += n * (3 * h + q + 2 * h + inter) * (b + 1);
            }
        }
        return bytes;
    }

    /**
     * What the backward pass of one layer allocates on top of the saved activations: the gradients of its input and
     * output, and the widest of its two phases. The MLP comes first (the layer's output is its sum): three
     * {@code [N, intermediate]} gradients. The attention follows, when the MLP's four saved {@code [N, intermediate]}
     * tensors are already freed: three blocks of score gradients (soft cap, softmax, scores) need only what exceeds
     * them. Counting both phases at once overstated the measured peak by a third with checkpointing
     * (docs/benchmarks.md, "Training step").
     */
    public long backwardTransient() {
        long n = batchTokens();
        long b = b();
        long blockScores = config.numAttentionHeads() * blockRows() * maxLength * b;
        long mlp = 3 * n * config.intermediateSize() * b;
        long attention = Math.max(0, 3 * blockScores - 4 * n * config.intermediateSize() * b);
        return 4 * n * config.hiddenSize() * b + Math.max(mlp, attention);
    }

    /** Peak of a forward pass without autograd inside one layer (inference, checkpointing's first pass). */
    public long forwardPeak() {
        long n = batchTokens();
        long b = b();
        long h = config.hiddenSize();
        long inter = config.intermediateSize();
        long hidden = 4 * n * h;
        long blockScores = 3 * config.numAttentionHeads() * blockRows() * maxLength;
        long attention = 3 * n * config.qDim() + 2 * n * config.kvDim() + blockScores;
        long mlpBlock = GatedMlp.blockTokens(inter, gpu);
        long mlp = 3 * Math.min(n, mlpBlock) * inter + 2 * n * h;
        return (hidden + Math.max(attention, mlp)) * b + positionsBytes();
    }

    /**
     * Peak activation bytes of training {@code layers} decoder layers of one device on the worst micro-batch: with
     * checkpointing their inputs, one recomputed layer's saved activations and its backward; without, every layer's
     * saved activations and the top layer's backward.
     */
    public long trainingPeak(int layers, boolean checkpointing) {
        if (layers == 0) {
            return 0;
        }
        long n = batchTokens();
        long h = config.hiddenSize();
        if (checkpointing) {
            long inputs = layers * n * h * b();
            return inputs + Math.max(forwardPeak(), positionsBytes() + savedPerLayer() + backwardTransient()
                    + 2 * n * h * b());
        }
        return positionsBytes() + layers * savedPerLayer() + backwardTransient();
    }
}
