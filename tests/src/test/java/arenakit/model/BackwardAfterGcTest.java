package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.LoraConfig;
import arenakit.util.Engines;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: the backward pass must not read memory freed between forward and backward. DJL makes an array from
 * Java data (token ids, gather indices, RoPE tables, the scalar of {@code x.mul(2f)}) in a Java direct buffer that is
 * freed once the array is closed and collected; the forward's layer scopes close such arrays while autograd still
 * holds them. Here the garbage collector runs (and new direct buffers reuse the memory) between the forward and the
 * backward pass: every gradient must stay finite, with LoRA and with full fine-tuning.
 */
public class BackwardAfterGcTest {
    @TempDir
    Path dir;

    @Test
    void gradientsSurviveCollectionBetweenForwardAndBackward() throws Exception {
        Gemma2Config config = Gemma2Config.of(400, 32, 64, 2, 2, 1, 16);
        TinyCheckpoints.write(dir, config, SafetensorsFile.DType.F32, 1, 1);
        for (boolean lora : new boolean[] {true, false}) {
            for (int run = 0; run < 3; run++) {
                DecoderClassifier.Options o = DecoderClassifier.Options.defaults().freshHead(true).log(s -> {});
                if (lora) {
                    o.lora(LoraConfig.of(4, 8, 0));
                } else {
                    o.fullFineTune(true);
                }
                try (DecoderClassifier model = DecoderClassifier.load(dir, o); NDManager scope = Engines.newManager()) {
                    Random random = new Random(run);
                    List<int[]> seqs = new ArrayList<>();
                    for (int k = 0; k < 4; k++) {
                        seqs.add(random.ints(48 - k, 6, 400).toArray());
                    }
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = model.logits(scope, seqs, true).logSoftmax(-1).get(":, 0").sum().neg();
                        churnDirectMemory();
                        gc.backward(loss);
                    }
                    for (Map.Entry<String, NDArray> e : model.trainable().entrySet()) {
                        float sum = e.getValue().getGradient().abs().sum().getFloat();
                        assertTrue(Float.isFinite(sum), (lora ? "LoRA" : "full") + " run " + run + ": gradient of "
                                + e.getKey() + " is " + sum);
                    }
                }
            }
        }
    }

    /** Collects garbage and refills freed direct memory with bytes that decode to huge floats and indices. */
    public static void churnDirectMemory() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            List<ByteBuffer> junk = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(4096);
                while (b.hasRemaining()) {
                    b.put((byte) 0x7f);
                }
                junk.add(b);
            }
        }
    }
}
