package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.family.Families;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.io.SafetensorsWriter;
import arenakit.model.tensor.HalfFloats;
import arenakit.util.Engines;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading random checkpoints written in HF layout: dtypes, shards, chunked maps, and the errors for bad input. */
class CheckpointLoadingTest {
    private static final Gemma2Config CONFIG = TinyCheckpoints.testConfig(128);

    @TempDir
    Path tmp;

    @Test
    void f32F16AndShardedBf16CheckpointsLoadTheSameWeights() throws Exception {
        Path f32 = TinyCheckpoints.write(tmp.resolve("f32"), CONFIG, DType.F32, 1, 3);
        Path f16 = TinyCheckpoints.write(tmp.resolve("f16"), CONFIG, DType.F16, 1, 3);
        Path bf16 = TinyCheckpoints.write(tmp.resolve("bf16"), CONFIG, DType.BF16, 3, 3);
        assertTrue(Files.exists(bf16.resolve("model-00003-of-00003.safetensors")));
        assertTrue(Files.exists(bf16.resolve(HfCheckpoint.INDEX)));
        HfCheckpoint a = HfCheckpoint.open(f32);
        HfCheckpoint b = HfCheckpoint.open(f16);
        HfCheckpoint c = HfCheckpoint.open(bf16);
        assertEquals(CONFIG.withNumLabels(3), Families.read(f32.resolve(HfCheckpoint.CONFIG)));
        try (NDManager m = Engines.newManager()) {
            for (String name : a.names()) {
                float[] exact = a.load(name, m, DataType.FLOAT32, false).toFloatArray();
                float[] fromHalf = b.load(name, m, DataType.FLOAT32, false).toFloatArray();
                float[] fromBf16 = c.load(name, m, DataType.FLOAT32, false).toFloatArray();
                float[] toHalf = a.load(name, m, DataType.FLOAT16, false).toType(DataType.FLOAT32, false).toFloatArray();
                for (int i = 0; i < exact.length; i++) {
                    assertEquals(HalfFloats.halfToFloat(HalfFloats.floatToHalf(exact[i])), fromHalf[i], name);
                    assertEquals(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(exact[i])), fromBf16[i], name);
                    assertEquals(fromHalf[i], toHalf[i], name);
                }
            }
            // the padding token's embedding row is zero, as transformers initialises it
            NDArray embed = a.load("model.embed_tokens.weight", m, DataType.FLOAT32, false);
            assertEquals(0f, embed.get(CONFIG.padTokenId()).abs().sum().getFloat());
        }
    }

    @Test
    void tensorsAreCopiedInRowBlocksWhenConvertedOrOwned() throws Exception {
        HfCheckpoint bf16 = HfCheckpoint.open(TinyCheckpoints.write(tmp.resolve("b"), CONFIG, DType.BF16, 1, 5));
        HfCheckpoint f32 = HfCheckpoint.open(TinyCheckpoints.write(tmp.resolve("f"), CONFIG, DType.F32, 1, 5));
        String name = "model.embed_tokens.weight";
        long saved = SafetensorsFile.blockBytes;
        try (NDManager m = Engines.newManager()) {
            float[] converted = bf16.load(name, m, DataType.FLOAT32, false).toFloatArray();
            float[] mapped = f32.load(name, m, DataType.FLOAT32, false).toFloatArray();
            SafetensorsFile.blockBytes = 1000; // a few rows per block
            assertArrayEquals(converted, bf16.load(name, m, DataType.FLOAT32, false).toFloatArray());
            assertArrayEquals(mapped, f32.load(name, m, DataType.FLOAT32, true).toFloatArray());
            assertArrayEquals(new float[64], f32.load("model.norm.weight", m, DataType.FLOAT32, true).toFloatArray());
        } finally {
            SafetensorsFile.blockBytes = saved;
        }
    }

    @Test
    void missingUnexpectedAndMisshapedTensorsAreNamed() throws Exception {
        Path dir = tmp.resolve("bad");
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        CONFIG.tensorShapes().forEach((name, shape) -> {
            if (name.equals("model.layers.1.mlp.up_proj.weight")) {
                return; // missing
            }
            long[] s = name.equals("model.layers.2.self_attn.k_proj.weight") ? new long[] {16, 64} : shape;
            tensors.add(SafetensorsWriter.Tensor.of(name, s, new float[(int) (s.length == 1 ? s[0] : s[0] * s[1])]));
        });
        tensors.add(SafetensorsWriter.Tensor.of("model.layers.0.self_attn.q_norm.weight", new long[] {16}, new float[16]));
        HfCheckpoint.write(dir, CONFIG::toJson, DType.F32, 2, tensors);
        IOException e = assertThrows(IOException.class, () -> DecoderClassifier.load(dir, options()));
        String msg = e.getMessage();
        assertTrue(msg.contains("3 problems"), msg);
        assertTrue(msg.contains("missing tensor model.layers.1.mlp.up_proj.weight (expected shape [128, 64])"), msg);
        assertTrue(msg.contains("tensor model.layers.2.self_attn.k_proj.weight in model-0000"), msg);
        assertTrue(msg.contains("has shape [16, 64], expected [32, 64]"), msg);
        assertTrue(msg.contains("unexpected tensor model.layers.0.self_attn.q_norm.weight [16]"), msg);
    }

    @Test
    void brokenFilesGiveErrorsThatNameThem() throws Exception {
        Path dir = TinyCheckpoints.write(tmp.resolve("s"), CONFIG, DType.BF16, 2, 1);
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        IOException missingShard = assertThrows(IOException.class, () -> HfCheckpoint.open(dir));
        assertTrue(missingShard.getMessage().contains("model-00002-of-00002.safetensors, which does not exist"));

        Path single = TinyCheckpoints.write(tmp.resolve("one"), CONFIG, DType.F32, 1, 1);
        Path file = single.resolve(HfCheckpoint.SINGLE);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        IOException truncated = assertThrows(IOException.class, () -> HfCheckpoint.open(single));
        assertTrue(truncated.getMessage().contains("fall outside the data section"), truncated.getMessage());

        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(single.resolve("config.json").toFile());
        config.remove("num_key_value_heads");
        Json.write(single.resolve("config.json"), config);
        IOException noField = assertThrows(IOException.class, () -> DecoderClassifier.load(single, options()));
        assertTrue(noField.getMessage().contains("config.json: missing field num_key_value_heads"), noField.getMessage());

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Json.write(empty.resolve("config.json"), CONFIG.toJson("float32"));
        assertTrue(assertThrows(IOException.class, () -> HfCheckpoint.open(empty)).getMessage()
                .contains("has neither model.safetensors nor model.safetensors.index.json"));
    }

    @Test
    void aCausalLmCheckpointGetsAFreshHeadAndIgnoresLmHead() throws Exception {
        Path dir = tmp.resolve("lm");
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        CONFIG.tensorShapes().forEach((name, shape) -> tensors.add(SafetensorsWriter.Tensor.of(name, shape,
                new float[(int) java.util.Arrays.stream(shape).reduce(1, (x, y) -> x * y)])));
        tensors.add(SafetensorsWriter.Tensor.of("lm_head.weight", new long[] {128, 64}, new float[128 * 64]));
        HfCheckpoint.write(dir, CONFIG::toJson, DType.BF16, 1, tensors);
        List<String> notices = new ArrayList<>();
        try (DecoderClassifier model = DecoderClassifier.load(dir, options().log(notices::add))) {
            assertEquals(ClassifierHead.Kind.SCORE, model.head().kind());
            assertTrue(notices.get(0).contains("fresh SCORE head"), notices.toString());
            Map<String, NDArray> head = model.head().parameters();
            assertEquals(0.02, head.get("weight").toType(DataType.FLOAT64, false).pow(2).mean().sqrt().getDouble(), 0.004);
        }
    }

    /** A reward model's extra modules (ArmoRM's regression layer and gating) are ignored, and said so; rotary buffers too. */
    @Test
    void modulesOutsideTheDecoderAndItsScoreAreIgnoredOnTheLog() throws Exception {
        Path dir = tmp.resolve("reward");
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        CONFIG.tensorShapes().forEach((name, shape) -> tensors.add(SafetensorsWriter.Tensor.of(name, shape,
                new float[(int) java.util.Arrays.stream(shape).reduce(1, (x, y) -> x * y)])));
        tensors.add(SafetensorsWriter.Tensor.of("regression_layer.weight", new long[] {19, 64}, new float[19 * 64]));
        tensors.add(SafetensorsWriter.Tensor.of("gating.layers.0.weight", new long[] {4, 64}, new float[4 * 64]));
        tensors.add(SafetensorsWriter.Tensor.of("model.layers.0.self_attn.rotary_emb.inv_freq", new long[] {8},
                new float[8]));
        HfCheckpoint.write(dir, CONFIG::toJson, DType.F32, 1, tensors);
        List<String> notices = new ArrayList<>();
        try (DecoderClassifier model = DecoderClassifier.load(dir, options().log(notices::add))) {
            assertEquals(ClassifierHead.Kind.SCORE, model.head().kind());
        }
        assertTrue(notices.stream().anyMatch(n -> n.contains("ignoring 2 tensors outside the decoder and its score head: "
                + "gating.layers.0.weight, regression_layer.weight")), notices.toString());
    }

    static DecoderClassifier.Options options() {
        return DecoderClassifier.Options.defaults().placement(Placement.single(Device.cpu())).log(s -> { });
    }
}
