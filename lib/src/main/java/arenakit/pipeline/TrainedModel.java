package arenakit.pipeline;

import arenakit.train.TrainConfig;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fine-tuned model: the training config it was made with (which fixes the head, the LoRA shape and the input
 * format inference must reproduce) and its weights, a PEFT adapter folder for LoRA or a full checkpoint folder.
 *
 * <p>Two kinds of folder hold one: a stage folder as training writes it ({@code stage.json} + {@code adapter/} or
 * {@code model/}), and a bare PEFT adapter folder ({@code adapter_config.json} + {@code adapter_model.safetensors},
 * e.g. trained in Python with peft), which takes its input format and head from a training config of the setup.
 * A stage folder also holds {@code encoding.json} and its tokenizer ({@link StageEncoding}): how to encode rows for
 * it and which base it runs on ({@code encoding} is null for a bare adapter and for folders written before).
 */
record TrainedModel(String name, Path dir, TrainConfig config, Path weights, StageEncoding encoding) {
    static final String ADAPTER = "adapter";
    static final String CHECKPOINT = "model";
    static final String PEFT_CONFIG = "adapter_config.json";

    /** Reads {@code <dir>/stage.json}, the copy of the training config that every training stage leaves. */
    static TrainedModel of(String name, Path dir) throws IOException {
        Path file = dir.resolve("stage.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException(dir + " is not a trained stage: it has no stage.json (a PEFT adapter folder has "
                    + PEFT_CONFIG + ")");
        }
        TrainConfig config;
        try {
            config = Json.read(file, TrainConfig.class);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        Path weights = dir.resolve(config.model().lora() == null ? CHECKPOINT : ADAPTER);
        if (!Files.isDirectory(weights)) {
            throw new IOException(dir + " is not a trained stage: " + weights + " is missing");
        }
        return new TrainedModel(name, dir, config, weights, StageEncoding.read(dir).orElse(null));
    }

    static boolean isPeftAdapter(Path dir) {
        return Files.isRegularFile(dir.resolve(PEFT_CONFIG)) && !Files.isRegularFile(dir.resolve("stage.json"));
    }

    /**
     * A bare PEFT adapter folder, read with the input format and head of {@code like} (a LoRA training config of
     * the setup: the adapter must have been trained with the same format, truncation and head).
     */
    static TrainedModel peftAdapter(String name, Path dir, String likeStage, TrainConfig like) throws IOException {
        if (like.model().lora() == null) {
            throw new IOException(dir + " is a PEFT adapter, but the setup's training stage '" + likeStage
                    + "' fine-tunes every weight: a LoRA stage is needed to read the adapter's input format and head");
        }
        return new TrainedModel(name, dir, like, dir, null);
    }

    boolean fullFineTune() {
        return config.model().lora() == null;
    }

    /** The input settings for inference: the training format and truncation, optionally a different budget. */
    TrainConfig.Text text(Integer maxLength) {
        TrainConfig.Text t = config.data().text();
        return maxLength == null ? t : new TrainConfig.Text(t.format(), t.truncation(), maxLength, t.template());
    }
}
