package arenakit.model.lora;

import arenakit.model.io.SafetensorsFile;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.io.SafetensorsWriter;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PEFT's LoRA adapter directory: {@code adapter_config.json} + {@code adapter_model.safetensors}, keys as PEFT's
 * {@code save_pretrained} writes them ({@code base_model.model.<module>.lora_A.weight}, adapter name stripped;
 * {@code modules_to_save} modules under their own name, e.g. {@code base_model.model.score.weight}).
 */
public final class PeftAdapter {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** PeftModel wraps LoraModel wraps the transformers model: every key starts with this. */
    public static final String PREFIX = "base_model.model.";

    private PeftAdapter() {}

    /** An adapter directory, its config parsed and its tensors indexed (not loaded). */
    public record Dir(Path dir, LoraConfig config, SafetensorsFile weights) {}

    /** Key of a LoRA matrix ({@code A} or {@code B}) of the module at {@code path}. */
    public static String loraKey(String path, char which) {
        return PREFIX + path + ".lora_" + which + ".weight";
    }

    /** Reads and checks an adapter directory; features this implementation does not have are clear errors. */
    public static Dir read(Path dir) throws IOException {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile)) {
            throw new IOException(configFile + " not found (is " + dir + " a PEFT adapter directory?)");
        }
        if (!Files.isRegularFile(weightsFile)) {
            throw new IOException(weightsFile + " not found"
                    + (Files.exists(dir.resolve("adapter_model.bin"))
                            ? " (adapter_model.bin is a pickle; re-save the adapter with safetensors)" : ""));
        }
        JsonNode n = Json.MAPPER.readTree(configFile.toFile());
        try {
            return new Dir(dir, parseConfig(n), SafetensorsFile.open(weightsFile));
        } catch (IllegalArgumentException e) {
            throw new IOException(configFile + ": " + e.getMessage(), e);
        }
    }

    static LoraConfig parseConfig(JsonNode n) {
        String type = n.path("peft_type").asText("LORA");
        if (!type.equals("LORA")) {
            throw new IllegalArgumentException("peft_type " + type + " is not supported (LORA only)");
        }
        if (n.path("use_dora").asBoolean(false)) {
            throw new IllegalArgumentException("use_dora=true is not supported");
        }
        if (n.path("fan_in_fan_out").asBoolean(false)) {
            throw new IllegalArgumentException("fan_in_fan_out=true is not supported (the decoders use nn.Linear)");
        }
        if (!n.path("bias").asText("none").equals("none")) {
            throw new IllegalArgumentException("bias=" + n.get("bias").asText() + " is not supported (none only)");
        }
        for (String pattern : new String[] {"rank_pattern", "alpha_pattern"}) {
            if (n.hasNonNull(pattern) && n.get(pattern).size() > 0) {
                throw new IllegalArgumentException(pattern + " is not supported (one r and alpha for all modules)");
            }
        }
        if (!n.hasNonNull("r") || !n.hasNonNull("target_modules")) {
            throw new IllegalArgumentException("needs r and target_modules");
        }
        List<String> targets = new ArrayList<>();
        String regex = null;
        JsonNode t = n.get("target_modules");
        if (t.isArray()) {
            t.forEach(x -> targets.add(x.asText()));
        } else {
            regex = t.asText();
        }
        List<Integer> layers = null;
        JsonNode lt = n.path("layers_to_transform");
        if (lt.isInt()) {
            layers = List.of(lt.asInt());
        } else if (lt.isArray()) {
            layers = new ArrayList<>();
            for (JsonNode x : lt) {
                layers.add(x.asInt());
            }
        }
        int r = n.get("r").asInt();
        return new LoraConfig(r, n.path("lora_alpha").asDouble(8), n.path("lora_dropout").asDouble(0), targets,
                regex, layers, n.path("use_rslora").asBoolean(false), LoraConfig.Init.DEFAULT, 16);
    }

    /**
     * Writes an adapter directory that {@code PeftModel.from_pretrained(model, dir)} loads: the config with the
     * fields PEFT writes for LoRA and the tensors in float32.
     *
     * @param modulesToSave extra trained modules saved whole (e.g. {@code score}), or empty
     */
    public static void write(Path dir, LoraConfig config, List<String> modulesToSave, String baseModel,
            List<SafetensorsWriter.Tensor> tensors) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), DType.F32, tensors, Map.of("format", "pt"));
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.putObject("alpha_pattern");
        n.putNull("auto_mapping");
        n.put("base_model_name_or_path", baseModel);
        n.put("bias", "none");
        n.put("fan_in_fan_out", false);
        n.put("inference_mode", true);
        n.put("init_lora_weights", true);
        n.putNull("layers_pattern");
        if (config.layers() == null) {
            n.putNull("layers_to_transform");
        } else {
            config.layers().forEach(n.putArray("layers_to_transform")::add);
        }
        if (config.alpha() == Math.rint(config.alpha())) {
            n.put("lora_alpha", (long) config.alpha());
        } else {
            n.put("lora_alpha", config.alpha());
        }
        n.put("lora_dropout", config.dropout());
        if (modulesToSave.isEmpty()) {
            n.putNull("modules_to_save");
        } else {
            modulesToSave.forEach(n.putArray("modules_to_save")::add);
        }
        n.put("peft_type", "LORA");
        n.put("r", config.r());
        n.putObject("rank_pattern");
        n.putNull("revision");
        if (config.targetRegex() != null) {
            n.put("target_modules", config.targetRegex());
        } else {
            config.targets().forEach(n.putArray("target_modules")::add);
        }
        n.put("task_type", "SEQ_CLS");
        n.put("use_dora", false);
        n.put("use_rslora", config.useRslora());
        Json.write(dir.resolve(CONFIG_FILE), n);
    }
}
