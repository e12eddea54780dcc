package arenakit.model;

import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random-initialised sequence classifiers of any family written in exact transformers layout (config.json, single
 * or sharded safetensors + index, F32/F16/BF16), so small models go through the same loading path as real ones.
 *
 * <p>Initialisation is transformers' {@code _init_weights}: linear and embedding weights normal(0,
 * initializer_range), the padding token's embedding row zero, biases zero, RMSNorm weights at their neutral value
 * (0 where the norm scales by {@code 1 + w}, as Gemma's; 1 elsewhere). {@link #writeRandomized} draws the norms and
 * biases at random too, so a parity check sees them. Values depend only on the seed and the tensor name;
 * generation streams, so multi-GB checkpoints can be written with little heap.
 */
public final class TinyCheckpoints {
    private TinyCheckpoints() {}

    /** A Gemma-2 config small enough for unit tests: 4 layers, hidden 64, 4 heads / 2 KV heads, sliding window 8. */
    public static Gemma2Config testConfig(int vocabSize) {
        return Gemma2Config.of(vocabSize, 64, 128, 4, 4, 2, 16).withSlidingWindow(8);
    }

    /** The same sizes in any family ({@code gemma2} with sliding window 8, as {@link #testConfig(int)}). */
    public static DecoderConfig testConfig(String modelType, int vocabSize) {
        return modelType.equals(Gemma2Config.MODEL_TYPE) ? testConfig(vocabSize)
                : Families.tiny(modelType, vocabSize, 64, 128, 4, 4, 2, 16);
    }

    /** Writes a random checkpoint of {@code config} (with a {@code score} head) into {@code dir}; returns dir. */
    public static Path write(Path dir, DecoderConfig config, DType dtype, int shards, long seed) throws IOException {
        return write(dir, config, dtype, shards, seed, false);
    }

    /** As {@link #write}, with norm weights normal(neutral, 0.1) and biases normal(0, 0.1) instead of constants. */
    public static Path writeRandomized(Path dir, DecoderConfig config, DType dtype, int shards, long seed)
            throws IOException {
        return write(dir, config, dtype, shards, seed, true);
    }

    private static Path write(Path dir, DecoderConfig config, DType dtype, int shards, long seed, boolean randomize)
            throws IOException {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        Map<String, long[]> shapes = new LinkedHashMap<>(config.tensorShapes());
        shapes.put("score.weight", new long[] {config.numLabels(), config.hiddenSize()});
        double std = config.initializerRange();
        int hidden = config.hiddenSize();
        Integer pad = config.padTokenId();
        long padStart = pad == null ? -1 : (long) pad * hidden;
        float neutral = config.unitOffsetNorms() ? 0f : 1f;
        shapes.forEach((name, shape) -> {
            boolean norm = name.endsWith("norm.weight");
            boolean bias = name.endsWith(".bias");
            boolean embedding = name.equals("model.embed_tokens.weight");
            long stream = seed * 0x9E3779B97F4A7C15L + name.hashCode();
            tensors.add(new SafetensorsWriter.Tensor(name, shape, (start, block) -> {
                if ((norm || bias) && !randomize) {
                    Arrays.fill(block, norm ? neutral : 0f);
                    return;
                }
                SplittableRandom random = new SplittableRandom(stream + start);
                for (int i = 0; i < block.length; i++) {
                    long at = start + i;
                    boolean padRow = embedding && padStart >= 0 && at >= padStart && at < padStart + hidden;
                    if (padRow) {
                        block[i] = 0f; // drawing nothing keeps the stream (and so every checkpoint) as it was
                        continue;
                    }
                    double g = random.nextGaussian();
                    block[i] = norm ? (float) (neutral + 0.1 * g) : bias ? (float) (0.1 * g) : (float) (g * std);
                }
            }));
        });
        HfCheckpoint.write(dir, config::toJson, dtype, shards, tensors);
        return dir;
    }
}
