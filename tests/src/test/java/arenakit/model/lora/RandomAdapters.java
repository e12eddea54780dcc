package arenakit.model.lora;

import arenakit.model.family.DecoderConfig;
import arenakit.model.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random PEFT adapters in this project's layout for any base config (the fault and averaging tests). */
public final class RandomAdapters {
    private RandomAdapters() {}

    /**
     * Writes an adapter of rank {@code r} on {@code targets} of {@code config}'s projections (A and B normal(0, 0.2))
     * and, with {@code head}, a linear score head for 3 labels; returns {@code dir}.
     */
    public static Path write(Path dir, DecoderConfig config, int r, double alpha, List<String> targets, boolean head,
            long seed) throws IOException {
        Random random = new Random(seed);
        LoraConfig cfg = LoraConfig.of(r, alpha, 0).withTargets(targets);
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (PeftAdapter.Module m : PeftAdapter.Module.ofCheckpoint(config.tensorShapes())) {
            if (!cfg.targets(m.path(), m.layer())) {
                continue;
            }
            tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.loraKey(m.path(), 'A'), new long[] {r, m.inFeatures()},
                    gaussian(random, r * m.inFeatures(), 0.2)));
            tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.loraKey(m.path(), 'B'), new long[] {m.outFeatures(), r},
                    gaussian(random, m.outFeatures() * r, 0.2)));
        }
        if (head) {
            tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.PREFIX + "score.weight",
                    new long[] {3, config.hiddenSize()}, gaussian(random, 3L * config.hiddenSize(), 0.1)));
        }
        PeftAdapter.write(dir, cfg, head ? List.of("score") : List.of(), "base", tensors);
        return dir;
    }

    private static float[] gaussian(Random random, long n, double std) {
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        return v;
    }
}
