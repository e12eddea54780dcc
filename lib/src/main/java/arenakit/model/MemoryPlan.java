package arenakit.model;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How much memory a Gemma-2 classifier needs per device, before anything is loaded: weights exactly (from the
 * config), activations as an estimate of the peak inside one decoder layer for a micro-batch of
 * {@code tokens} tokens padded to {@code maxLength} (eager attention keeps {@code heads x length^2} scores per
 * sequence, which dominates for long inputs), and for LoRA training the adapters with their Adam state plus the
 * activations autograd keeps for the backward pass.
 *
 * @param tokens token budget of one micro-batch (padded tokens count)
 * @param maxLength the padded sequence length
 * @param loraRank LoRA r on all seven projections for the training estimate, 0 for inference only
 */
public record MemoryPlan(Gemma2Config config, DataType dtype, List<Placement.Stage> stages, long tokens, int maxLength,
        int loraRank) {

    /** Bytes of one stage's weights (embedding on the first stage, final norm and score head on the last). */
    public long weightBytes(int stage) {
        Placement.Stage s = stages.get(stage);
        long params = (long) (s.to() - s.from()) * layerParams();
        if (stage == 0) {
            params += (long) config.vocabSize() * config.hiddenSize();
        }
        long bytes = params * dtype.getNumOfBytes();
        if (stage == stages.size() - 1) {
            bytes += (long) config.hiddenSize() * dtype.getNumOfBytes()
                    + (long) config.hiddenSize() * config.numLabels() * 4;
        }
        return bytes;
    }

    public long totalWeightBytes() {
        long sum = 0;
        for (int i = 0; i < stages.size(); i++) {
            sum += weightBytes(i);
        }
        return sum;
    }

    /** Parameters of one decoder layer. */
    public long layerParams() {
        long h = config.hiddenSize();
        return h * config.qDim() * 2 + h * config.kvDim() * 2 + 3 * h * config.intermediateSize() + 4 * h;
    }

    /** Estimated peak activation bytes of one micro-batch inside a layer (inference, no autograd). */
    public long inferenceActivationBytes() {
        long n = tokens;
        long h = config.hiddenSize();
        long hidden = 4 * n * h;
        long attention = n * (2L * config.qDim() + 2L * config.kvDim())
                + 2L * config.numAttentionHeads() * n * maxLength + 2L * maxLength * maxLength;
        long mlp = 3 * n * config.intermediateSize();
        return (hidden + Math.max(attention, mlp)) * dtype.getNumOfBytes();
    }

    /** LoRA parameters over all layers (r on q, k, v, o, gate, up, down). */
    public long loraParams() {
        long h = config.hiddenSize();
        long perLayer = (long) loraRank * ((h + config.qDim()) * 2 + (h + config.kvDim()) * 2
                + 3 * (h + config.intermediateSize()));
        return perLayer * config.numHiddenLayers();
    }

    /** Estimated activations one layer keeps for backward in training, per micro-batch. */
    public long trainingActivationBytesPerLayer() {
        long n = tokens;
        long per = n * (10L * config.hiddenSize() + 3L * config.qDim() + 2L * config.kvDim()
                + 5L * config.intermediateSize()) + 2L * config.numAttentionHeads() * n * maxLength;
        return per * dtype.getNumOfBytes();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Memory plan: Gemma-2 %d layers, hidden %d, heads %d/%d x %d, vocab %d, %s;"
                + " micro-batch %d tokens, length <= %d%n", config.numHiddenLayers(), config.hiddenSize(),
                config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(), config.vocabSize(),
                dtype, tokens, maxLength));
        for (int i = 0; i < stages.size(); i++) {
            Placement.Stage s = stages.get(i);
            b.append(String.format(Locale.ROOT, "  %-8s layers [%d, %d): weights %s, inference activations ~%s%n",
                    s.device(), s.from(), s.to(), gib(weightBytes(i)), gib(inferenceActivationBytes())));
        }
        b.append(String.format(Locale.ROOT, "  total weights %s (%,d parameters)%n", gib(totalWeightBytes()),
                totalParams()));
        if (loraRank > 0) {
            List<String> per = new ArrayList<>();
            for (Placement.Stage s : stages) {
                long layers = s.to() - s.from();
                per.add(s.device() + " ~" + gib(layers * trainingActivationBytesPerLayer()));
            }
            b.append(String.format(Locale.ROOT, "  LoRA r=%d training: %,d adapter parameters, %s with grads and Adam"
                    + " state (fp32); saved activations %s%n", loraRank, loraParams(), gib(loraParams() * 16),
                    String.join(", ", per)));
        }
        return b.toString();
    }

    public long totalParams() {
        return (long) config.numHiddenLayers() * layerParams() + (long) config.vocabSize() * config.hiddenSize()
                + config.hiddenSize() + (long) config.hiddenSize() * config.numLabels();
    }

    static String gib(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
}
