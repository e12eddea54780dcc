package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.family.LlamaConfig;
import arenakit.model.layers.Rope;
import arenakit.util.Json;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model commands with families other than Gemma-2: tiny-checkpoint and memory-plan. */
class FamilyCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void tinyCheckpointWritesALoadableModelForAConfigJsonAndRefusesABadOne() throws Exception {
        Path config = tmp.resolve("config.json");
        Json.write(config, LlamaConfig.of(200, 32, 64, 2, 4, 2, 8).withRopeScaling(new Rope.Llama3(8, 1, 4, 64))
                .toJson("bfloat16"));
        Path out = tmp.resolve("model");
        ModelCommandsTest.Run r = ModelCommandsTest.run(new TinyCheckpointCommand(), config.toString(), out.toString(),
                "--shards", "2", "--randomize-norms-and-biases");
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("random Llama, 2 layers, hidden 32, heads 4/2 x 8, vocabulary 200, BF16"), r.out());
        try (DecoderClassifier model = DecoderClassifier.load(out, DecoderClassifier.Options.defaults()
                .placement(Placement.single(Device.cpu())).log(s -> { }))) {
            assertEquals("llama", model.config().modelType());
            assertEquals(3, model.numLabels());
        }
        Json.write(config, ((com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(config.toFile()))
                .put("model_type", "mixtral"));
        ModelCommandsTest.Run bad = ModelCommandsTest.run(new TinyCheckpointCommand(), config.toString(),
                tmp.resolve("no").toString());
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().contains("model_type 'mixtral' is not supported (supported: gemma2, llama, qwen2)"),
                bad.out());
    }

    @Test
    void memoryPlanOfLlamaAndQwenPresetsAndOfAModelDirectory() throws Exception {
        ModelCommandsTest.Run llama = ModelCommandsTest.run(new MemoryPlanCommand(), "llama-3.1-8b", "--devices",
                "gpu0,gpu1", "--lora-rank", "64");
        assertEquals(0, llama.code(), llama.out());
        assertTrue(llama.out().contains("Memory plan: Llama 32 layers, hidden 4096, heads 32/8 x 128, vocab 128256"),
                llama.out());
        assertTrue(llama.out().contains("7,504,936,960 parameters"), llama.out());
        ModelCommandsTest.Run qwen = ModelCommandsTest.run(new MemoryPlanCommand(), "qwen2.5-14b");
        assertTrue(qwen.out().contains("Qwen2 48 layers, hidden 5120, heads 40/8 x 128"), qwen.out());
        ModelCommandsTest.Run unknown = ModelCommandsTest.run(new MemoryPlanCommand(), "llama-2-7b");
        assertEquals(1, unknown.code());
        assertTrue(unknown.out().contains("llama-3-8b, llama-3.1-8b, qwen2.5-7b, qwen2.5-14b"), unknown.out());

        Path dir = tmp.resolve("dir");
        java.nio.file.Files.createDirectories(dir);
        Json.write(dir.resolve("config.json"), LlamaConfig.llama3_8b().toJson("bfloat16"));
        ModelCommandsTest.Run fromDir = ModelCommandsTest.run(new MemoryPlanCommand(), dir.toString());
        assertTrue(fromDir.out().contains("7,504,936,960 parameters"), fromDir.out());
    }
}
