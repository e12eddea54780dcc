package arenakit.model;

import arenakit.model.SafetensorsFile.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random-initialised Gemma-2 sequence classifiers written in exact transformers layout (config.json, single or
 * sharded safetensors + index, F32/F16/BF16), so small models go through the same loading path as real ones.
 *
 * <p>Initialisation is transformers' {@code _init_weights} for Gemma-2: linear and embedding weights
 * normal(0, initializer_range), the padding token's embedding row zero, RMSNorm weights zero (they scale by
 * {@code 1 + w}). Values depend only on the seed and the tensor name; generation streams, so multi-GB
 * checkpoints can be written with little heap.
 */
public final class TinyCheckpoints {
    private TinyCheckpoints() {}

    /** A config small enough for unit tests: 4 layers, hidden 64, 4 heads / 2 KV heads, sliding window 8. */
    public static Gemma2Config testConfig(int vocabSize) {
        return Gemma2Config.of(vocabSize, 64, 128, 4, 4, 2, 16).withSlidingWindow(8);
    }

    /** Writes a random checkpoint of {@code config} (with a {@code score} head) into {@code dir}; returns dir. */
    public static Path write(Path dir, Gemma2Config config, DType dtype, int shards, long seed) throws IOException {
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        Map<String, long[]> shapes = new java.util.LinkedHashMap<>(Gemma2.tensorShapes(config));
        shapes.put("score.weight", new long[] {config.numLabels(), config.hiddenSize()});
        double std = config.initializerRange();
        int hidden = config.hiddenSize();
        long padStart = (long) config.padTokenId() * hidden;
        shapes.forEach((name, shape) -> {
            boolean norm = name.endsWith("norm.weight");
            boolean embedding = name.equals("model.embed_tokens.weight");
            long stream = seed * 0x9E3779B97F4A7C15L + name.hashCode();
            tensors.add(new SafetensorsWriter.Tensor(name, shape, (start, block) -> {
                if (norm) {
                    java.util.Arrays.fill(block, 0f);
                    return;
                }
                SplittableRandom random = new SplittableRandom(stream + start);
                for (int i = 0; i < block.length; i++) {
                    long at = start + i;
                    boolean padRow = embedding && at >= padStart && at < padStart + hidden;
                    block[i] = padRow ? 0f : (float) (random.nextGaussian() * std);
                }
            }));
        });
        HfCheckpoint.write(dir, config, dtype, shards, tensors);
        return dir;
    }
}
