package arenakit.pipeline;

import arenakit.train.TrainConfig;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fine-tuned model in a stage folder: the training config it was made with (which fixes the head, the LoRA
 * shape and the input format inference must reproduce) and its weights, a PEFT {@code adapter/} for LoRA stages
 * or a full checkpoint {@code model/} for full fine-tuning.
 */
record TrainedModel(String name, Path dir, TrainConfig config) {
    static final String ADAPTER = "adapter";
    static final String CHECKPOINT = "model";

    /** Reads {@code <dir>/stage.json}, the copy of the training config that every training stage leaves. */
    static TrainedModel of(String name, Path dir) throws IOException {
        Path file = dir.resolve("stage.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException(dir + " is not a trained stage: it has no stage.json");
        }
        TrainConfig config;
        try {
            config = Json.read(file, TrainConfig.class);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        TrainedModel m = new TrainedModel(name, dir, config);
        if (!Files.isDirectory(m.weights())) {
            throw new IOException(dir + " is not a trained stage: " + m.weights() + " is missing");
        }
        return m;
    }

    boolean fullFineTune() {
        return config.model().lora() == null;
    }

    /** {@code adapter/} (LoRA) or {@code model/} (full fine-tuning). */
    Path weights() {
        return dir.resolve(fullFineTune() ? CHECKPOINT : ADAPTER);
    }

    /** The input settings for inference: the training format and truncation, optionally a different budget. */
    TrainConfig.Text text(Integer maxLength) {
        TrainConfig.Text t = config.data().text();
        return maxLength == null ? t : new TrainConfig.Text(t.format(), t.truncation(), maxLength);
    }
}
