package arenakit.model;

import ai.djl.ndarray.types.DataType;
import arenakit.model.family.DecoderConfig;
import arenakit.model.quant.Quantization;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How much memory a decoder classifier of any family needs per device, before anything is loaded: weights exactly
 * (from the family's tensor shapes, biases and norms included), activations as an estimate of the peak inside one
 * decoder layer for a micro-batch of {@code tokens} tokens padded to {@code maxLength} (eager attention keeps
 * {@code heads x length^2} scores per sequence, which dominates for long inputs), and for LoRA training the adapters
 * with their Adam state plus the activations autograd keeps for the backward pass.
 *
 * @param tokens token budget of one micro-batch (padded tokens count)
 * @param maxLength the padded sequence length
 * @param loraRank LoRA r on all seven projections for the training estimate, 0 for inference only
 * @param quantize how the projections are stored: int8 counts 1 byte per weight plus a scale per output row (in
 *     {@code dtype}), and one projection dequantized at a time ({@link #dequantizationBytes()})
 */
public record MemoryPlan(DecoderConfig config, DataType dtype, List<Placement.Stage> stages, long tokens,
        int maxLength, int loraRank, Quantization quantize) {

    private static final String EMBEDDING = "model.embed_tokens.weight";
    private static final String LAYERS = "model.layers.";

    public MemoryPlan {
        quantize = quantize == null ? Quantization.NONE : quantize;
    }

    /** Unquantized weights. */
    public MemoryPlan(DecoderConfig config, DataType dtype, List<Placement.Stage> stages, long tokens, int maxLength,
            int loraRank) {
        this(config, dtype, stages, tokens, maxLength, loraRank, Quantization.NONE);
    }

    /** Bytes of one stage's weights (embedding on the first stage, final norm and score head on the last). */
    public long weightBytes(int stage) {
        Placement.Stage s = stages.get(stage);
        Map<String, long[]> shapes = config.tensorShapes();
        long params = layerParams(shapes, s.from(), s.to());
        if (stage == 0) {
            params += numel(shapes.get(EMBEDDING));
        }
        long bytes = params * dtype.getNumOfBytes();
        if (quantize != Quantization.NONE) { // the projections' bytes as stored, instead of dense
            for (Map.Entry<String, long[]> e : quantizedShapes(s.from(), s.to()).entrySet()) {
                long[] shape = e.getValue();
                bytes += quantize.weightBytes(shape[0], shape[1], dtype) - numel(shape) * dtype.getNumOfBytes();
            }
        }
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

    /** The tensors of layers {@code [from, to)} that {@link #quantize} stores quantized, by name. */
    private Map<String, long[]> quantizedShapes(int from, int to) {
        Map<String, long[]> out = new java.util.LinkedHashMap<>();
        config.tensorShapes().forEach((name, shape) -> {
            if (quantize.quantizes(name, shape) && layerOf(name) >= from && layerOf(name) < to) {
                out.put(name, shape);
            }
        });
        return out;
    }

    private static int layerOf(String name) {
        return Integer.parseInt(name.substring(LAYERS.length(), name.indexOf('.', LAYERS.length())));
    }

    /**
     * Device bytes for dequantizing: the largest projection in the compute type, which exists once per forward
     * step (0 without quantization). Under autograd each dequantized weight stays until the backward pass (as an
     * activation: covered by gradient checkpointing's recompute, not by this term).
     */
    public long dequantizationBytes() {
        long max = 0;
        for (long[] shape : quantizedShapes(0, config.numHiddenLayers()).values()) {
            max = Math.max(max, numel(shape));
        }
        return max * dtype.getNumOfBytes();
    }

    /**
     * Device bytes of one decoder layer's projections dequantized to the compute type (0 without quantization): what
     * a training step keeps per layer under autograd until the backward pass, of every layer without activation
     * checkpointing and of the one being recomputed with it.
     */
    public long dequantizedLayerBytes() {
        long n = 0;
        for (long[] shape : quantizedShapes(0, 1).values()) {
            n += numel(shape);
        }
        return n * dtype.getNumOfBytes();
    }

    /** Parameters of decoder layer 0 (every layer of these families has the same tensors). */
    public long layerParams() {
        return layerParams(config.tensorShapes(), 0, 1);
    }

    /** Parameters of layers {@code [from, to)}: the tensors named {@code model.layers.<i>.*}. */
    private static long layerParams(Map<String, long[]> shapes, int from, int to) {
        long n = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            if (name.startsWith(LAYERS)) {
                int layer = Integer.parseInt(name.substring(LAYERS.length(), name.indexOf('.', LAYERS.length())));
                if (layer >= from && layer < to) {
                    n += numel(e.getValue());
                }
            }
        }
        return n;
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
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
        b.append(String.format(Locale.ROOT, "Memory plan: %s %d layers, hidden %d, heads %d/%d x %d, vocab %d, %s;"
                + " micro-batch %d tokens, length <= %d%n", config.familyName(), config.numHiddenLayers(),
                config.hiddenSize(), config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(),
                config.vocabSize(), dtype + (quantize == Quantization.NONE ? "" : " with " + quantize.configName()
                        + " projections"), tokens, maxLength));
        for (int i = 0; i < stages.size(); i++) {
            Placement.Stage s = stages.get(i);
            b.append(String.format(Locale.ROOT, "  %-8s layers [%d, %d): weights %s, inference activations ~%s%n",
                    s.device(), s.from(), s.to(), gib(weightBytes(i)), gib(inferenceActivationBytes())));
        }
        b.append(String.format(Locale.ROOT, "  total weights %s (%,d parameters)%n", gib(totalWeightBytes()),
                totalParams()));
        if (quantize != Quantization.NONE) {
            MemoryPlan dense = new MemoryPlan(config, dtype, stages, tokens, maxLength, loraRank);
            b.append(String.format(Locale.ROOT, "  %s: the %d layer projections as %s codes + a %s scale per output "
                    + "row (the embedding, norms, biases and head stay %s): weights %.2fx of %s (%s); one projection "
                    + "dequantized at a time: +%s per device%n", quantize.configName(),
                    quantizedShapes(0, config.numHiddenLayers()).size(), quantize.configName(), dtype, dtype,
                    totalWeightBytes() / (double) dense.totalWeightBytes(), dtype, gib(dense.totalWeightBytes()),
                    gib(dequantizationBytes())));
        }
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

    /** Every parameter: the decoder's tensors and the score head. */
    public long totalParams() {
        long n = (long) config.hiddenSize() * config.numLabels();
        for (long[] shape : config.tensorShapes().values()) {
            n += numel(shape);
        }
        return n;
    }

    static String gib(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
}
