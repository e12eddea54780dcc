package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.LoraConfig;
import arenakit.model.tensor.Casts;
import arenakit.model.tensor.NoGrad;
import arenakit.model.tensor.TorchScalar;
import arenakit.util.Engines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: DJL's {@code toType} cuts its result off the autograd graph, so in a float16 model the float32 LoRA
 * weights got no gradient at all (and nothing below the float32 head did). The casts on the training path go through
 * {@link Casts}; a float16 model's gradients now follow its float32 twin's.
 */
class Float16GradientsTest {
    @TempDir
    Path dir;

    @Test
    void castsKeepGradientsFlowing() {
        try (NDManager m = Engines.newManager()) {
            NDArray p = m.create(new float[] {1, 2, 3});
            p.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray half = Casts.toType(p, DataType.FLOAT16);
                assertEquals(DataType.FLOAT16, half.getDataType());
                NDArray back = Casts.toType(half.mul(half), DataType.FLOAT32);
                assertEquals(DataType.FLOAT32, back.getDataType());
                gc.backward(back.sum());
            }
            assertArrayEquals(new float[] {2, 4, 6}, p.getGradient().toFloatArray(), 0f);
            assertEquals(p, Casts.toType(p, DataType.FLOAT32), "no copy when the type is already right");
        }
    }

    @Test
    void loraAndHeadGradientsOfAFloat16ModelFollowFloat32() throws Exception {
        Gemma2Config config = Gemma2Config.of(400, 32, 64, 2, 2, 1, 16);
        TinyCheckpoints.write(dir, config, SafetensorsFile.DType.F32, 1, 1);
        Map<String, float[]> full = gradients(DataType.FLOAT32);
        Map<String, float[]> half = gradients(DataType.FLOAT16);
        assertEquals(full.keySet(), half.keySet());
        for (String name : full.keySet()) {
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < full.get(name).length; i++) {
                diff += Math.pow(half.get(name)[i] - full.get(name)[i], 2);
                norm += Math.pow(full.get(name)[i], 2);
            }
            assertTrue(norm > 0, name + " has a gradient in float32");
            assertTrue(Math.sqrt(diff / norm) < 0.02, name + ": float16 gradient off by "
                    + Math.sqrt(diff / norm) + " relative to float32's");
        }
    }

    /** Every trainable tensor's gradient of one backward, LoRA B set non-zero so that A gets a gradient too. */
    private Map<String, float[]> gradients(DataType dtype) throws Exception {
        try (DecoderClassifier model = DecoderClassifier.load(dir, DecoderClassifier.Options.defaults().dtype(dtype)
                .freshHead(true).seed(3).log(s -> {}).lora(LoraConfig.of(4, 8, 0)));
                NDManager scope = Engines.newManager()) {
            Random random = new Random(11);
            try (NoGrad g = NoGrad.enter()) {
                for (Map.Entry<String, NDArray> e : model.trainable().entrySet()) {
                    if (e.getKey().contains("lora_B")) {
                        float[] b = new float[(int) e.getValue().size()];
                        for (int i = 0; i < b.length; i++) {
                            b[i] = (float) (random.nextGaussian() * 0.05);
                        }
                        e.getValue().set(b);
                    }
                }
            }
            List<int[]> seqs = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                seqs.add(random.ints(40 - 3 * k, 6, 400).toArray());
            }
            float scale = 1024; // keeps float16's small gradients out of underflow, as the trainer's loss scale does
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = model.logits(scope, seqs, true).logSoftmax(-1).get(":, 0").sum().neg();
                gc.backward(loss.mul(TorchScalar.of(loss, scale)));
            }
            Map<String, float[]> out = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : model.trainable().entrySet()) {
                float[] g = e.getValue().getGradient().toFloatArray();
                for (int i = 0; i < g.length; i++) {
                    g[i] /= scale;
                }
                out.put(e.getKey(), g);
            }
            return out;
        }
    }
}
