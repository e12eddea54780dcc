package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.text.Tokenizer;
import arenakit.text.WordLevelTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code base_model.tiny.model_type}: a tiny random Gemma-2 (default), Llama or Qwen2 as the setup's base. */
class TinyBaseModelTest {
    @TempDir
    Path dir;

    private static final String TINY = "{\"model_type\": \"%s\", \"hidden_size\": 32, \"intermediate_size\": 64, "
            + "\"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 16, "
            + "\"seed\": 7}";

    private Path setup(String tiny) throws Exception {
        String pipeline = ConfigFolder.of("smoke").text("pipeline.json");
        int start = pipeline.indexOf("\"tiny\"");
        int end = pipeline.indexOf('}', start) + 1;
        Path folder = Files.createDirectories(dir.resolve("setup"));
        Files.writeString(folder.resolve("pipeline.json"), pipeline.substring(0, start) + "\"tiny\": " + tiny
                + pipeline.substring(end));
        return folder;
    }

    @Test
    void aTinyLlamaOrQwen2IsWrittenOnceInItsFamilysLayout() throws Exception {
        try (Tokenizer tokenizer = Tokenizer.load(WordLevelTokenizer.write(dir.resolve("tokenizer.json"),
                List.of("a", "b", "c")))) {
            for (String type : List.of("llama", "qwen2", "gemma2")) {
                ExperimentConfig experiment = ConfigFolder.of(setup(String.format(TINY, type)).toString())
                        .read("pipeline.json", ExperimentConfig.class);
                List<String> log = new ArrayList<>();
                Path base = dir.resolve("base-" + type);
                Models.baseCheckpoint(experiment.baseModel(), tokenizer, base, log::add);
                assertEquals(type, Families.read(base.resolve(HfCheckpoint.CONFIG)).modelType());
                assertTrue(log.get(0).startsWith("tiny random " + Families.read(base.resolve(HfCheckpoint.CONFIG))
                        .familyName()), log.toString());
                Models.baseCheckpoint(experiment.baseModel(), tokenizer, base, log::add);
                assertEquals(1, log.size(), "the second run reuses the checkpoint: " + log);
            }
        }
        String noType = String.format(TINY, "x").replace("\"model_type\": \"x\", ", "");
        assertEquals("gemma2", ConfigFolder.of(setup(noType).toString()).read("pipeline.json", ExperimentConfig.class)
                .baseModel().tiny().modelType());
    }

    @Test
    void aMisspeltModelTypeFailsWhenTheSetupIsRead() throws Exception {
        ConfigFolder folder = ConfigFolder.of(setup(String.format(TINY, "lama")).toString());
        ConfigException e = assertThrows(ConfigException.class, () -> folder.read("pipeline.json",
                ExperimentConfig.class));
        assertTrue(e.getMessage().contains("pipeline.json"), e.getMessage());
        assertTrue(e.getMessage().contains("model_type 'lama' is not supported (supported: gemma2, llama, qwen2)"),
                e.getMessage());
    }
}
