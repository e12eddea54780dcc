package arenakit.model.lora;

import arenakit.model.io.ConfigJson;
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
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEFT's LoRA adapter directory: {@code adapter_config.json} + {@code adapter_model.safetensors}, keys as PEFT's
 * {@code save_pretrained} writes them ({@code base_model.model.<module>.lora_A.weight}, adapter name stripped;
 * {@code modules_to_save} modules under their own name, e.g. {@code base_model.model.score.weight}).
 *
 * <p>Read strictly: every key of adapter_config.json has its JSON type; keys that change the math are either
 * implemented or refused at their no-op value only ({@link #MUST_BE_OFF}); keys that do not change a trained
 * adapter's math are ignored ({@link #IGNORED}); any other key is an error (a newer PEFT feature this reader does not
 * know could change the math). The tensors must be what the config implies: every lora_A with its lora_B, of rank
 * {@code r}, on modules {@code target_modules} (and {@code layers_to_transform}) cover, and the head exactly when the
 * config declares one; {@link Dir#checkAgainst} then checks them against a model's projections.
 */
public final class PeftAdapter {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** PeftModel wraps LoraModel wraps the transformers model: every key starts with this. */
    public static final String PREFIX = "base_model.model.";
    /** The classifier head's module name in transformers' {@code *ForSequenceClassification}. */
    public static final String HEAD = "score";
    /** PEFT's task type of sequence classifiers; for it, PEFT itself adds {@code classifier} and {@code score}. */
    public static final String SEQ_CLS = "SEQ_CLS";

    /** Keys that change a trained adapter's math and are implemented. */
    public static final Set<String> READ = Set.of("peft_type", "r", "lora_alpha", "target_modules",
            "layers_to_transform", "layers_pattern", "use_rslora", "modules_to_save", "task_type", "init_lora_weights",
            "lora_dropout");
    /** Keys that would change the math; accepted only at their off value (false, "none", null, empty). */
    public static final Set<String> MUST_BE_OFF = Set.of("bias", "fan_in_fan_out", "use_dora", "rank_pattern",
            "alpha_pattern", "exclude_modules", "layer_replication", "lora_bias", "use_qalora",
            "trainable_token_indices", "target_parameters", "alora_invocation_tokens", "megatron_config",
            "arrow_config");
    /** Keys PEFT writes that do not change a trained adapter's math (provenance, runtime, init-only settings). */
    public static final Set<String> IGNORED = Set.of("base_model_name_or_path", "revision", "inference_mode",
            "auto_mapping", "peft_version", "megatron_core", "loftq_config", "eva_config", "corda_config",
            "qalora_group_size", "runtime_config", "ensure_weight_tying", "use_bdlora");

    private static final Pattern LORA_KEY = Pattern.compile(Pattern.quote(PREFIX) + "(.+)\\.lora_([AB])\\.weight");
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)layers\\.(\\d+)\\.");

    private PeftAdapter() {}

    /** A projection of a model an adapter may target: its module path, decoder layer and {@code [out, in]}. */
    public record Module(String path, int layer, long outFeatures, long inFeatures) {
        /**
         * The projections of a checkpoint's tensor shapes (config-implied, no weights): every
         * {@code model.layers.<i>.<...>.<proj>.weight} whose module name is one of {@link LoraConfig#ALL_LINEAR}.
         */
        public static List<Module> ofCheckpoint(Map<String, long[]> shapes) {
            List<Module> out = new ArrayList<>();
            shapes.forEach((name, shape) -> {
                if (!name.endsWith(".weight") || shape.length != 2) {
                    return;
                }
                String path = name.substring(0, name.length() - ".weight".length());
                String module = path.substring(path.lastIndexOf('.') + 1);
                int layer = layerOf(path);
                if (layer >= 0 && LoraConfig.ALL_LINEAR.contains(module)) {
                    out.add(new Module(path, layer, shape[0], shape[1]));
                }
            });
            return out;
        }
    }

    /**
     * An adapter directory: its config parsed, its tensors indexed (not loaded) and checked against the config.
     *
     * @param taskType PEFT's {@code task_type} (null when not given)
     * @param head the head's tensors by their name under {@code score.} ({@code weight}, {@code 1.bias}, ...); empty
     *     when the adapter carries no head
     * @param lora the LoRA tensors by module path: A {@code [r, in]} and B {@code [out, r]}
     */
    public record Dir(Path dir, LoraConfig config, SafetensorsFile weights, String taskType,
            Map<String, SafetensorsFile.Entry> head, Map<String, Pair> lora) {

        /** Whether the adapter carries a trained head ({@code modules_to_save}: {@code score}). */
        public boolean hasHead() {
            return !head.isEmpty();
        }

        public Path configFile() {
            return dir.resolve(CONFIG_FILE);
        }

        /**
         * Checks the LoRA tensors against a model's projections: every projection the config targets has its A and
         * B, of shapes {@code [r, in]} and {@code [out, r]}; no LoRA tensor names a module the model does not have.
         * All problems in one error naming the file.
         */
        public void checkAgainst(List<Module> modules) throws IOException {
            List<String> problems = new ArrayList<>();
            Set<String> known = new TreeSet<>();
            int targeted = 0;
            for (Module m : modules) {
                known.add(m.path());
                if (!config.targets(m.path(), m.layer())) {
                    continue;
                }
                targeted++;
                Pair p = lora.get(m.path());
                if (p == null) {
                    problems.add("missing " + loraKey(m.path(), 'A') + " and " + loraKey(m.path(), 'B')
                            + " (target_modules " + targetsText(config) + " covers " + m.path() + ")");
                    continue;
                }
                long[] a = new long[] {config.r(), m.inFeatures()};
                long[] b = new long[] {m.outFeatures(), config.r()};
                if (!Arrays.equals(p.a().shape(), a)) {
                    problems.add("tensor " + p.a().name() + " has shape " + Arrays.toString(p.a().shape())
                            + ", expected " + Arrays.toString(a) + " (r, in_features of " + m.path() + ")");
                }
                if (!Arrays.equals(p.b().shape(), b)) {
                    problems.add("tensor " + p.b().name() + " has shape " + Arrays.toString(p.b().shape())
                            + ", expected " + Arrays.toString(b) + " (out_features of " + m.path() + ", r)");
                }
            }
            for (String path : lora.keySet()) {
                if (!known.contains(path)) {
                    problems.add("tensor " + loraKey(path, 'A') + " names no projection of the model (" + path + ")");
                }
            }
            if (targeted == 0 && problems.isEmpty()) {
                problems.add("target_modules " + targetsText(config) + (config.layers() == null ? ""
                        : " with layers_to_transform " + config.layers()) + " match no projection of the model");
            }
            if (!problems.isEmpty()) {
                throw new IOException(weights.path() + " does not fit the model (" + problems.size() + " problem"
                        + (problems.size() == 1 ? "" : "s") + "):\n  " + list(problems));
            }
        }
    }

    /** The A and B tensors of one adapted module. */
    public record Pair(SafetensorsFile.Entry a, SafetensorsFile.Entry b) {}

    /** Key of a LoRA matrix ({@code A} or {@code B}) of the module at {@code path}. */
    public static String loraKey(String path, char which) {
        return PREFIX + path + ".lora_" + which + ".weight";
    }

    /** The decoder layer of a module path ({@code model.layers.3.mlp.up_proj} -> 3), or -1. */
    static int layerOf(String path) {
        Matcher m = LAYER.matcher(path);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
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
        JsonNode n = ConfigJson.parse(configFile);
        Parsed parsed;
        try {
            parsed = parseConfig(n);
        } catch (IllegalArgumentException e) {
            throw new IOException(configFile + ": " + e.getMessage(), e);
        }
        SafetensorsFile weights = SafetensorsFile.open(weightsFile);
        return tensors(dir, parsed, weights);
    }

    /** adapter_config.json's meaning. */
    record Parsed(LoraConfig config, String taskType, boolean declaresHead) {}

    /** null, false, "none", an empty string, array or object: a setting that is off. */
    private static boolean isOff(JsonNode v) {
        return v == null || v.isNull() || (v.isBoolean() && !v.booleanValue())
                || (v.isTextual() && (v.asText().isEmpty() || v.asText().equals("none")))
                || (v.isContainerNode() && v.isEmpty());
    }

    static Parsed parseConfig(JsonNode root) {
        ConfigJson c = ConfigJson.of(root);
        // a newer PEFT writes keys this reader does not know: at an off value (null, false, "none", empty) they
        // cannot change the math and are accepted; set to anything else they might, and are refused
        List<String> unknown = c.keysOtherThan(union(READ, MUST_BE_OFF, IGNORED)).stream()
                .filter(k -> !isOff(root.get(k))).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown field" + (unknown.size() == 1 ? " " : "s ") + unknown
                    + " with a value that is not off (null, false, \"none\", empty): not a LoRA setting this reader "
                    + "knows, and it might change the math (a newer PEFT?); remove it if it is at its default");
        }
        if (!c.has("peft_type")) {
            throw new IllegalArgumentException("missing field peft_type (\"LORA\")");
        }
        String type = c.stringOr("peft_type", null);
        if (!type.equals("LORA")) {
            throw c.error("peft_type", "'" + type + "' is not supported (LORA only)");
        }
        off(c, "bias", "none");
        off(c, "fan_in_fan_out", false);
        off(c, "use_dora", false);
        off(c, "lora_bias", false);
        off(c, "use_qalora", false);
        for (String key : List.of("rank_pattern", "alpha_pattern", "exclude_modules", "layer_replication",
                "trainable_token_indices", "target_parameters", "alora_invocation_tokens", "megatron_config",
                "arrow_config")) {
            JsonNode v = root.get(key);
            if (v != null && !v.isNull() && !(v.isContainerNode() && v.isEmpty())) {
                throw c.error(key, "= " + ConfigJson.describe(v) + " is not supported (" + switch (key) {
                    case "rank_pattern", "alpha_pattern" -> "one r and lora_alpha for all modules";
                    case "exclude_modules" -> "list the modules to adapt in target_modules instead";
                    default -> "it changes the model beyond plain LoRA on nn.Linear";
                } + "); only null or empty");
            }
        }
        if (!c.has("r")) {
            throw new IllegalArgumentException("missing field r (the LoRA rank, an integer)");
        }
        int r = c.requiredInt("r");
        if (r <= 0) {
            throw c.error("r", "must be positive, got " + r);
        }
        double alpha = c.doubleOr("lora_alpha", 8); // PEFT's default
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw c.error("lora_alpha", "must be a positive number, got " + alpha);
        }
        double dropout = c.doubleOr("lora_dropout", 0);
        if (dropout < 0 || dropout >= 1) {
            throw c.error("lora_dropout", "must be in [0, 1), got " + dropout);
        }
        boolean rslora = c.boolOr("use_rslora", false);
        initWeights(c, root.get("init_lora_weights"));

        JsonNode t = root.get("target_modules");
        List<String> targets = new ArrayList<>();
        String regex = null;
        if (t == null || t.isNull()) {
            throw new IllegalArgumentException("missing field target_modules (PEFT would take the model type's default "
                    + "modules; name them: a list such as [\"q_proj\", \"v_proj\"], or a regular expression)");
        } else if (t.isArray()) {
            targets = c.stringList("target_modules");
            if (targets.isEmpty()) {
                throw c.error("target_modules", "is empty");
            }
        } else if (t.isTextual()) {
            regex = t.textValue();
            if (regex.equals("all-linear")) {
                throw c.error("target_modules", "'all-linear' is not supported here: list the modules (PEFT saves "
                        + "the resolved list)");
            }
            try {
                Pattern.compile(regex);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw c.error("target_modules", "is not a valid regular expression: " + e.getDescription());
            }
        } else {
            throw c.wrongType("target_modules", "a list of module names or a regular expression", t);
        }
        List<Integer> layers = null;
        JsonNode lt = root.get("layers_to_transform");
        if (lt != null && !lt.isNull()) {
            layers = c.intOrIntList("layers_to_transform", null);
            if (regex != null) {
                throw c.error("layers_to_transform", "cannot be used with a regular expression target_modules "
                        + "(PEFT refuses it too)");
            }
        }
        JsonNode lp = root.get("layers_pattern");
        if (lp != null && !lp.isNull() && !(lp.isTextual() && lp.textValue().equals("layers"))
                && !(lp.isArray() && lp.size() == 1 && lp.get(0).asText("").equals("layers"))) {
            throw c.error("layers_pattern", "= " + ConfigJson.describe(lp) + " is not supported (the decoders' layers "
                    + "are model.layers.<i>: null or \"layers\")");
        }
        String task = c.nullableString("task_type", null);
        List<String> toSave = root.hasNonNull("modules_to_save") ? c.stringList("modules_to_save") : List.of();
        for (String m : toSave) {
            if (!m.equals(HEAD) && !m.equals("classifier")) {
                throw c.error("modules_to_save", "lists '" + m + "': only the head (score) is supported as a module "
                        + "saved whole ('classifier', which PEFT adds for SEQ_CLS, names no module here)");
            }
        }
        LoraConfig config = new LoraConfig(r, alpha, dropout, targets, regex, layers, rslora, LoraConfig.Init.DEFAULT,
                16);
        return new Parsed(config, task, toSave.contains(HEAD));
    }

    /** init_lora_weights: how training started; only the variants that leave the base as it was. */
    private static void initWeights(ConfigJson c, JsonNode init) {
        if (init == null || init.isNull() || init.isBoolean()) {
            return;
        }
        if (!init.isTextual()) {
            throw c.wrongType("init_lora_weights", "true, false or a method name", init);
        }
        String how = init.textValue();
        if (how.startsWith("pissa") || how.equals("olora") || how.equals("corda") || how.equals("loftq")) {
            throw c.error("init_lora_weights", "'" + how + "': this init changes the base weights (a residual or "
                    + "quantized base), so the adapter fits that modified base, not the original checkpoint; save it "
                    + "with PEFT's path_initial_model_for_weight_conversion (which converts it to plain LoRA)");
        }
        if (!how.equals("gaussian") && !how.equals("eva") && !how.startsWith("orthogonal")) {
            throw c.error("init_lora_weights", "'" + how + "' is not a known init");
        }
    }

    private static void off(ConfigJson c, String key, Object offValue) {
        if (!c.present(key) || c.node().get(key).isNull()) {
            return;
        }
        Object v = offValue instanceof Boolean b ? (Object) c.boolOr(key, b) : c.stringOr(key, (String) offValue);
        if (!v.equals(offValue)) {
            throw c.error(key, "= " + ConfigJson.describe(c.node().get(key)) + " is not supported (only "
                    + (offValue instanceof String ? "\"" + offValue + "\"" : offValue) + ")");
        }
    }

    @SafeVarargs
    private static Set<String> union(Set<String>... sets) {
        Set<String> out = new TreeSet<>();
        for (Set<String> s : sets) {
            out.addAll(s);
        }
        return out;
    }

    /** Sorts the tensors into LoRA pairs and the head; anything else, or a tensor the config does not imply, fails. */
    private static Dir tensors(Path dir, Parsed parsed, SafetensorsFile weights) throws IOException {
        LoraConfig cfg = parsed.config();
        Map<String, SafetensorsFile.Entry> as = new TreeMap<>();
        Map<String, SafetensorsFile.Entry> bs = new TreeMap<>();
        Map<String, SafetensorsFile.Entry> head = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        String headPrefix = PREFIX + HEAD + ".";
        for (SafetensorsFile.Entry e : weights.entries().values()) {
            Matcher m = LORA_KEY.matcher(e.name());
            if (e.name().startsWith(headPrefix)) {
                head.put(e.name().substring(headPrefix.length()), e);
            } else if (m.matches() && !m.group(1).endsWith(".default") && !m.group(1).contains("modules_to_save")) {
                (m.group(2).equals("A") ? as : bs).put(m.group(1), e);
            } else {
                problems.add("unexpected tensor " + e.name() + " " + Arrays.toString(e.shape()) + unexpectedWhy(e.name()));
            }
        }
        Map<String, Pair> lora = new TreeMap<>();
        Set<String> modules = new TreeSet<>(as.keySet());
        modules.addAll(bs.keySet());
        for (String path : modules) {
            SafetensorsFile.Entry a = as.get(path);
            SafetensorsFile.Entry b = bs.get(path);
            if (a == null || b == null) {
                problems.add("missing " + loraKey(path, a == null ? 'A' : 'B') + " (its lora_" + (a == null ? 'B' : 'A')
                        + " is there)");
                continue;
            }
            if (a.shape().length != 2 || a.shape()[0] != cfg.r()) {
                problems.add("tensor " + a.name() + " has shape " + Arrays.toString(a.shape()) + ", expected [" + cfg.r()
                        + ", in_features] (r = " + cfg.r() + " in " + CONFIG_FILE + ")");
            }
            if (b.shape().length != 2 || b.shape()[1] != cfg.r()) {
                problems.add("tensor " + b.name() + " has shape " + Arrays.toString(b.shape()) + ", expected "
                        + "[out_features, " + cfg.r() + "] (r = " + cfg.r() + " in " + CONFIG_FILE + ")");
            }
            if (!cfg.targets(path, layerOf(path))) {
                problems.add("tensor " + a.name() + " is on " + path + ", which target_modules " + targetsText(cfg)
                        + (cfg.layers() == null ? "" : " with layers_to_transform " + cfg.layers()) + " does not cover");
            }
            lora.put(path, new Pair(a, b));
        }
        boolean seqCls = SEQ_CLS.equals(parsed.taskType());
        if (parsed.declaresHead() && head.isEmpty()) {
            problems.add("modules_to_save lists '" + HEAD + "', but there is no " + headPrefix + "* tensor: the "
                    + "adapter is incomplete (its trained head is missing); copy the whole adapter again");
        }
        if (!parsed.declaresHead() && !head.isEmpty() && !seqCls) {
            problems.add("head tensors " + head.keySet() + " under " + headPrefix + " that " + CONFIG_FILE
                    + " does not declare (modules_to_save) for task_type " + parsed.taskType() + ": PEFT would "
                    + "ignore them; add \"score\" to modules_to_save or remove them");
        }
        if (!problems.isEmpty()) {
            throw new IOException(weights.path() + " is not the adapter " + CONFIG_FILE + " describes ("
                    + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + "):\n  " + list(problems));
        }
        return new Dir(dir, cfg, weights, parsed.taskType(), Collections.unmodifiableMap(head),
                Collections.unmodifiableMap(lora));
    }

    /** One problem a line, the first 12 (a wrong r is a problem on every tensor). */
    private static String list(List<String> problems) {
        List<String> shown = problems.size() <= 12 ? problems : new ArrayList<>(problems.subList(0, 12));
        if (shown != problems) {
            shown.add("... and " + (problems.size() - 12) + " more");
        }
        return String.join("\n  ", shown);
    }

    private static String unexpectedWhy(String name) {
        if (!name.startsWith(PREFIX)) {
            return " (PEFT's keys start with " + PREFIX + ")";
        }
        if (name.contains(".default.") || name.contains("modules_to_save")) {
            return " (the adapter name is not stripped: save it with PEFT's save_pretrained)";
        }
        if (name.contains("lora_magnitude_vector")) {
            return " (DoRA is not supported)";
        }
        if (name.contains("lora_embedding")) {
            return " (LoRA on embeddings is not supported)";
        }
        if (name.matches(".*\\.lora_[AB]\\.bias")) {
            return " (lora_bias is not supported)";
        }
        return " (neither a LoRA matrix nor the score head)";
    }

    private static String targetsText(LoraConfig cfg) {
        return cfg.targetRegex() != null ? "'" + cfg.targetRegex() + "'" : cfg.targets().toString();
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
        n.put("task_type", SEQ_CLS);
        n.put("use_dora", false);
        n.put("use_rslora", config.useRslora());
        Json.write(dir.resolve(CONFIG_FILE), n);
    }
}
