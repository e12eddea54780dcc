package arenakit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.io.SafetensorsWriter;
import arenakit.model.lora.LoraConfig;
import arenakit.model.lora.PeftAdapter;
import arenakit.util.Engines;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad model files, one row each (docs/faults.md lists the same cases): adapter_config.json, the adapter's tensors,
 * safetensors headers, a checkpoint's index and config.json. Each must be an error naming the file and the key or
 * tensor, both when loading and from the header-only check the setup check runs before the first step; never a
 * model that loads with something missing or coerced.
 */
class ModelFilesFaultsTest {
    private static final Gemma2Config CONFIG = TinyCheckpoints.testConfig(256);
    private static final String Q1 = "base_model.model.model.layers.1.self_attn.q_proj";

    @TempDir
    static Path tmp;
    static Path base;
    static Path adapter;
    private static int count;

    @BeforeAll
    static void files() throws Exception {
        base = TinyCheckpoints.write(tmp.resolve("base"), CONFIG, DType.F32, 1, 11);
        adapter = tmp.resolve("good-adapter");
        try (DecoderClassifier model = DecoderClassifier.load(base, CheckpointLoadingTest.options()
                .lora(LoraConfig.of(4, 8, 0)).freshHead(true))) {
            LoraAdapterTest.perturb(model, 5);
            model.saveAdapter(adapter);
        }
    }

    // ------------------------------------------------------------------ editing files

    private static Path copy(Path dir, String name) throws IOException {
        Path to = tmp.resolve(name);
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    private static Consumer<Path> config(Consumer<ObjectNode> edit) {
        return dir -> {
            try {
                Path f = dir.resolve(PeftAdapter.CONFIG_FILE);
                ObjectNode n = (ObjectNode) Json.MAPPER.readTree(f.toFile());
                edit.accept(n);
                Files.writeString(f, Json.MAPPER.writeValueAsString(n));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    private static Consumer<Path> configText(String from, String to) {
        return dir -> {
            try {
                Path f = dir.resolve(PeftAdapter.CONFIG_FILE);
                String text = Files.readString(f);
                assertTrue(text.contains(from), "adapter_config.json has no " + from);
                Files.writeString(f, text.replace(from, to));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /** Rewrites the adapter's tensors (loaded as floats) after {@code edit}, with a fresh, valid header. */
    private static Consumer<Path> tensors(Consumer<Map<String, SafetensorsWriter.Tensor>> edit) {
        return dir -> {
            try {
                Path f = dir.resolve(PeftAdapter.WEIGHTS_FILE);
                Map<String, SafetensorsWriter.Tensor> all = new LinkedHashMap<>();
                SafetensorsFile file = SafetensorsFile.open(f);
                try (NDManager m = Engines.newManager()) {
                    for (var e : file.entries().values()) {
                        all.put(e.name(), SafetensorsWriter.Tensor.of(e.name(), e.shape(),
                                file.load(e.name(), m, DataType.FLOAT32, true).toFloatArray()));
                    }
                }
                edit.accept(all);
                SafetensorsWriter.write(f, DType.F32, new ArrayList<>(all.values()), Map.of("format", "pt"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /** Rewrites the JSON header of a safetensors file as {@code edit} says, keeping its data bytes. */
    static void header(Path file, Consumer<ObjectNode> edit) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long len = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode h = (ObjectNode) Json.MAPPER.readTree(Arrays.copyOfRange(all, 8, 8 + (int) len));
        edit.accept(h);
        byte[] json = Json.MAPPER.writeValueAsBytes(h);
        rawHeader(file, json, Arrays.copyOfRange(all, 8 + (int) len, all.length));
    }

    static void rawHeader(Path file, byte[] json, byte[] data) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(data);
        Files.write(file, out.array());
    }

    private static Consumer<Path> weightsHeader(Consumer<ObjectNode> edit) {
        return dir -> {
            try {
                header(dir.resolve(PeftAdapter.WEIGHTS_FILE), edit);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    private static Consumer<Path> weightsBytes(java.util.function.UnaryOperator<byte[]> edit) {
        return dir -> {
            try {
                Path f = dir.resolve(PeftAdapter.WEIGHTS_FILE);
                Files.write(f, edit.apply(Files.readAllBytes(f)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    private static ObjectNode entry(ObjectNode h, String name) {
        return (ObjectNode) h.get(name);
    }

    private static String first(ObjectNode h) {
        var it = h.fieldNames();
        String n = it.next();
        return n.equals("__metadata__") ? it.next() : n;
    }

    // ------------------------------------------------------------------ the adapter cases

    static Stream<Arguments> adapterCases() {
        String cfg = PeftAdapter.CONFIG_FILE + ": ";
        String st = PeftAdapter.WEIGHTS_FILE;
        return Stream.of(
                // adapter_config.json: typed, no coercion
                row("a word for lora_alpha", configText("\"lora_alpha\" : 8", "\"lora_alpha\" : \"thirty-two\""),
                        cfg + "lora_alpha must be a number, got \"thirty-two\""),
                row("a quoted rank", configText("\"r\" : 4", "\"r\" : \"4\""), cfg + "r must be an integer, got \"4\""),
                row("a fractional rank", configText("\"r\" : 4", "\"r\" : 4.5"), cfg + "r must be an integer, got 4.5"),
                row("a number for target_modules", config(n -> n.put("target_modules", 5)),
                        cfg + "target_modules must be a list of module names or a regular expression, got 5"),
                row("a number among target_modules", config(n -> n.putArray("target_modules").add("q_proj").add(7)),
                        cfg + "target_modules[1] must be a string, got 7"),
                row("a string for a flag", config(n -> n.put("use_rslora", "yes")),
                        cfg + "use_rslora must be true or false, got \"yes\""),
                row("a quoted layer index", config(n -> n.put("layers_to_transform", "0")),
                        cfg + "layers_to_transform must be an integer, got \"0\""),
                row("no rank", config(n -> n.remove("r")), cfg + "missing field r"),
                row("no peft_type", config(n -> n.remove("peft_type")), cfg + "missing field peft_type"),
                row("no target_modules", config(n -> n.remove("target_modules")), cfg + "missing field target_modules"),
                row("an unknown key", config(n -> n.put("lora_alfa", 16)), cfg + "unknown field [lora_alfa]"),
                row("another PEFT method", config(n -> n.put("peft_type", "IA3")), cfg + "peft_type 'IA3' is not supported"),
                row("DoRA", config(n -> n.put("use_dora", true)), cfg + "use_dora = true is not supported"),
                row("trained biases", config(n -> n.put("bias", "all")), cfg + "bias = \"all\" is not supported"),
                row("a rank pattern", config(n -> n.putObject("rank_pattern").put("q_proj", 8)),
                        cfg + "rank_pattern = {\"q_proj\":8} is not supported (one r and lora_alpha for all modules)"),
                row("a PiSSA adapter saved without conversion", config(n -> n.put("init_lora_weights", "pissa_niter_4")),
                        cfg + "init_lora_weights 'pissa_niter_4': this init changes the base weights"),
                row("another module saved whole", config(n -> n.putArray("modules_to_save").add("score").add("lm_head")),
                        cfg + "modules_to_save lists 'lm_head': only the head (score) is supported"),
                row("a JSON syntax error", configText("\"r\" : 4,", "\"r\" : 4,,"), cfg.substring(0, cfg.length() - 2)
                        + ": not valid JSON at line"),
                // the tensors must be what the config implies
                row("a missing lora_B", tensors(t -> t.remove(Q1 + ".lora_B.weight")),
                        st + " is not the adapter", "missing " + Q1 + ".lora_B.weight (its lora_A is there)"),
                row("a targeted module without its tensors", tensors(t -> {
                    t.remove(Q1 + ".lora_A.weight");
                    t.remove(Q1 + ".lora_B.weight");
                }), st + " does not fit the model", "missing " + Q1 + ".lora_A.weight and " + Q1 + ".lora_B.weight "
                        + "(target_modules [q_proj"),
                row("LoRA on a module target_modules leaves out", config(n -> n.putArray("target_modules")
                        .add("k_proj").add("v_proj").add("o_proj").add("gate_proj").add("up_proj").add("down_proj")),
                        "tensor base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight is on "
                                + "model.layers.0.self_attn.q_proj, which target_modules"),
                row("an unexpected tensor", tensors(t -> t.put("base_model.model.model.norm.weight",
                        SafetensorsWriter.Tensor.of("base_model.model.model.norm.weight", new long[] {64}, new float[64]))),
                        "unexpected tensor base_model.model.model.norm.weight [64] (neither a LoRA matrix nor the "
                                + "score head)"),
                row("an adapter name left in the keys", tensors(t -> {
                    SafetensorsWriter.Tensor a = t.remove(Q1 + ".lora_A.weight");
                    t.put(Q1 + ".lora_A.default.weight", SafetensorsWriter.Tensor.of(Q1 + ".lora_A.default.weight",
                            a.shape(), new float[(int) a.numel()]));
                }), "unexpected tensor " + Q1 + ".lora_A.default.weight", "the adapter name is not stripped"),
                row("A of another rank than r", configText("\"r\" : 4", "\"r\" : 3"),
                        "has shape [4, 64], expected [3, in_features] (r = 3 in adapter_config.json)"),
                row("a LoRA tensor that fits no projection", tensors(t -> {
                    SafetensorsWriter.Tensor a = t.remove(Q1 + ".lora_A.weight");
                    t.put(Q1 + ".lora_A.weight", SafetensorsWriter.Tensor.of(Q1 + ".lora_A.weight",
                            new long[] {4, 32}, new float[128]));
                }), st + " does not fit the model", "tensor " + Q1 + ".lora_A.weight has shape [4, 32], expected "
                        + "[4, 64]"),
                row("a declared head that is not in the file", tensors(t -> t.remove("base_model.model.score.weight")),
                        "modules_to_save lists 'score', but there is no base_model.model.score.* tensor: the adapter "
                                + "is incomplete"),
                row("no head at all", Stream.<Consumer<Path>>of(tensors(t -> t.remove("base_model.model.score.weight")),
                        config(n -> n.putNull("modules_to_save"))).reduce(Consumer::andThen).orElseThrow(),
                        "carries no trained head", "\"base_head\": true on the model reference, --base-head"),
                row("a head PEFT would ignore", config(n -> {
                    n.putNull("modules_to_save");
                    n.put("task_type", "CAUSAL_LM");
                }), "head tensors [weight] under base_model.model.score. that adapter_config.json does not declare",
                        "PEFT would ignore them"),
                row("a head of another size", tensors(t -> t.put("base_model.model.score.weight",
                        SafetensorsWriter.Tensor.of("base_model.model.score.weight", new long[] {2, 64}, new float[128]))),
                        st + " does not fit the model: tensor base_model.model.score.weight has shape [2, 64], expected "
                                + "[3, 64]"),
                // safetensors: the header must fit the file
                row("a weights file cut short", weightsBytes(b -> Arrays.copyOf(b, b.length / 2)),
                        st + ": tensor ", "fall outside the data section", "the file is cut short"),
                row("a weights file cut inside its header", weightsBytes(b -> Arrays.copyOf(b, 100)),
                        st + ": the file is cut short: its header needs"),
                row("not a safetensors file", weightsBytes(b -> "this is a pickle, not safetensors".getBytes(
                        StandardCharsets.US_ASCII)), st + ": not a safetensors file"),
                row("bytes after the last tensor", weightsBytes(b -> Arrays.copyOf(b, b.length + 16)),
                        st + ": the data section has", "16 bytes after the last tensor"),
                row("an unknown dtype", weightsHeader(h -> entry(h, first(h)).put("dtype", "Q4")),
                        st + ": tensor ", "unknown dtype 'Q4'"),
                row("an int8 tensor", weightsHeader(h -> entry(h, first(h)).put("dtype", "I8")),
                        st + ": tensor ", "dtype I8 is not supported"),
                row("a shape that does not match the bytes", weightsHeader(h -> entry(h, first(h)).putArray("shape")
                        .add(4).add(65)), "needs 1040 bytes but data_offsets span 1024"),
                row("overlapping tensors", weightsHeader(h -> {
                    var it = h.fieldNames();
                    List<String> names = new ArrayList<>();
                    it.forEachRemaining(names::add);
                    names.remove("__metadata__");
                    ObjectNode a = entry(h, names.get(0));
                    ObjectNode b = entry(h, names.get(1));
                    long begin = b.get("data_offsets").get(0).asLong();
                    long end = b.get("data_offsets").get(1).asLong();
                    assertEquals(a.get("data_offsets").get(1).asLong(), begin, "laid out one after the other");
                    b.putArray("data_offsets").add(begin - 8).add(end - 8);
                }), "overlaps tensor"),
                row("offsets past the end", weightsHeader(h -> entry(h, first(h)).putArray("data_offsets").add(0)
                        .add(1L << 40)), "fall outside the data section"),
                row("a quoted shape", weightsHeader(h -> entry(h, first(h)).put("shape", "[4, 64]")),
                        "shape must be a list of integers, got \"[4, 64]\""),
                row("an unknown key in a header entry", weightsHeader(h -> entry(h, first(h)).put("offset", 0)),
                        "unknown key 'offset' in its header entry"),
                row("metadata that is not a string", weightsHeader(h -> ((ObjectNode) h.get("__metadata__"))
                        .put("format", 1)), "__metadata__.format must be a string, got 1"),
                row("a header that is not JSON", weightsBytes(b -> {
                    byte[] c = b.clone();
                    c[8] = 'x';
                    return c;
                }), st + ": the safetensors header is not valid JSON"));
    }

    private static Arguments row(String name, Consumer<Path> mutate, String... expected) {
        return Arguments.of(name, mutate, List.of(expected));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("adapterCases")
    void aBadAdapterIsAClearErrorWhenLoadedAndWhenChecked(String name, Consumer<Path> mutate, List<String> expected)
            throws Exception {
        Path dir = copy(adapter, "case" + (++count));
        mutate.accept(dir);
        Exception load = assertThrows(Exception.class, () -> {
            try (DecoderClassifier m = DecoderClassifier.load(base, CheckpointLoadingTest.options().adapter(dir, true))) {
                m.numLabels();
            }
        });
        Exception check = assertThrows(Exception.class, () -> DecoderClassifier.checkAdapter(dir,
                CONFIG.withNumLabels(3), null, false, true));
        for (Exception e : List.of(load, check)) {
            assertTrue(e instanceof IOException || e instanceof IllegalArgumentException, e.toString());
            String m = e.getMessage();
            assertTrue(m.contains(dir.toString()), "names the file: " + m);
            for (String want : expected) {
                assertTrue(m.contains(want), "expected '" + want + "' in:\n" + m);
            }
            assertFalse(m.contains("REDACTED"), m);
        }
    }

    /** An adapter without a head predicts only when the base's head is asked for, and then with exactly that head. */
    @Test
    void anAdapterWithoutAHeadUsesTheBasesHeadOnlyWhenAskedFor() throws Exception {
        Path dir = copy(adapter, "headless");
        tensors(t -> t.remove("base_model.model.score.weight")).andThen(config(n -> n.putNull("modules_to_save")))
                .accept(dir);
        IOException e = assertThrows(IOException.class, () -> DecoderClassifier.load(base, CheckpointLoadingTest
                .options().adapter(dir, true)));
        assertTrue(e.getMessage().contains("so it would predict with the base checkpoint's head or a fresh random one"),
                e.getMessage());
        float[] withBase;
        try (DecoderClassifier m = DecoderClassifier.load(base, CheckpointLoadingTest.options().adapter(dir, true)
                .baseHead(true))) {
            withBase = LoraAdapterTest.logits(m);
        }
        float[] reference;
        try (DecoderClassifier plain = DecoderClassifier.load(base, CheckpointLoadingTest.options())) {
            plain.loadAdapter(dir, true, true); // keep the checkpoint's head
            reference = LoraAdapterTest.logits(plain);
            IOException again = assertThrows(IOException.class, () -> plain.loadAdapter(dir, true));
            assertTrue(again.getMessage().contains("carries no trained head"), again.getMessage());
        }
        LoraAdapterTest.assertSame(reference, withBase, 1e-6);
        DecoderClassifier.checkAdapter(dir, CONFIG.withNumLabels(3), null, true, true);
        IOException noBaseHead = assertThrows(IOException.class, () -> DecoderClassifier.checkAdapter(dir,
                CONFIG.withNumLabels(3), null, true, false));
        assertTrue(noBaseHead.getMessage().contains("the base model has no score.* tensors"), noBaseHead.getMessage());
        // the good adapter still loads, and a base head request does not replace its own
        try (DecoderClassifier m = DecoderClassifier.load(base, CheckpointLoadingTest.options().adapter(adapter, true)
                .baseHead(true))) {
            assertFalse(Arrays.equals(withBase, LoraAdapterTest.logits(m)), "its own trained head");
        }
    }

    // ------------------------------------------------------------------ checkpoints

    static Stream<Arguments> checkpointCases() {
        return Stream.of(
                ckpt("a weight_map entry that is not a file name", sharded(index -> ((ObjectNode) index.get("weight_map"))
                        .put("model.norm.weight", 5)), "model.safetensors.index.json: weight_map.model.norm.weight must "
                        + "be a shard file name (a string), got 5"),
                ckpt("an index without a weight_map", sharded(index -> index.remove("weight_map")),
                        "model.safetensors.index.json: missing field weight_map"),
                ckpt("an index naming a file outside the folder", sharded(index -> ((ObjectNode) index.get("weight_map"))
                        .put("model.norm.weight", "../model-00001-of-00002.safetensors")), "names "
                        + "'../model-00001-of-00002.safetensors', not a .safetensors file in"),
                ckpt("a single file and shards side by side", dir -> {
                    sharded(index -> { }).accept(dir);
                    try {
                        Files.writeString(dir.resolve(HfCheckpoint.SINGLE), "");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, "has both model.safetensors and model.safetensors.index.json"),
                ckpt("a quantized checkpoint", configJson("\"model_type\"", "\"quantization_config\": {\"bits\": 4}, "
                        + "\"model_type\""), "config.json: quantization_config is set: quantized checkpoints"),
                ckpt("null for a string setting", configJson("\"hidden_activation\" : \"gelu_pytorch_tanh\"",
                        "\"hidden_activation\" : null, \"hidden_act\" : null"),
                        "config.json: hidden_act must be a string, got null"),
                ckpt("a config.json syntax error", configJson("\"model_type\"", ", \"model_type\""),
                        "config.json: not valid JSON at line"),
                ckpt("a checkpoint cut short", dir -> {
                    try {
                        Path f = dir.resolve(HfCheckpoint.SINGLE);
                        Files.write(f, Arrays.copyOf(Files.readAllBytes(f), (int) (Files.size(f) / 3)));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, "model.safetensors: tensor ", "the file is cut short"));
    }

    private static Arguments ckpt(String name, Consumer<Path> mutate, String... expected) {
        return Arguments.of(name, mutate, List.of(expected));
    }

    /** The checkpoint re-written as 2 shards with an index, the index edited. */
    private static Consumer<Path> sharded(Consumer<ObjectNode> edit) {
        return dir -> {
            try {
                try (DecoderClassifier m = DecoderClassifier.load(dir, CheckpointLoadingTest.options())) {
                    m.saveCheckpoint(dir, DType.F32, 2);
                }
                Path index = dir.resolve(HfCheckpoint.INDEX);
                ObjectNode n = (ObjectNode) Json.MAPPER.readTree(index.toFile());
                edit.accept(n);
                Files.writeString(index, Json.MAPPER.writeValueAsString(n));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    private static Consumer<Path> configJson(String from, String to) {
        return dir -> {
            try {
                Path f = dir.resolve(HfCheckpoint.CONFIG);
                String text = Files.readString(f);
                assertTrue(text.contains(from), "config.json has no " + from + ":\n" + text);
                Files.writeString(f, text.replace(from, to));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpointCases")
    void aBadCheckpointIsAClearErrorWhenLoadedAndWhenChecked(String name, Consumer<Path> mutate, List<String> expected)
            throws Exception {
        Path dir = copy(base, "ckpt" + (++count));
        mutate.accept(dir);
        Exception load = assertThrows(Exception.class, () -> DecoderClassifier.load(dir, CheckpointLoadingTest.options())
                .close());
        Exception check = assertThrows(Exception.class, () -> DecoderClassifier.checkFiles(dir, s -> { }));
        for (Exception e : List.of(load, check)) {
            assertTrue(e instanceof IOException || e instanceof IllegalArgumentException, e.toString());
            String m = e.getMessage();
            assertTrue(m.contains(dir.toString()), "names the file: " + m);
            for (String want : expected) {
                assertTrue(m.contains(want), "expected '" + want + "' in:\n" + m);
            }
        }
    }

    @Test
    void theGoodFilesLoad() throws Exception {
        DecoderClassifier.checkFiles(base, s -> { });
        DecoderClassifier.checkAdapter(adapter, CONFIG.withNumLabels(3), ClassifierHead.Kind.SCORE, false, false);
        try (DecoderClassifier m = DecoderClassifier.load(base, CheckpointLoadingTest.options().adapter(adapter, true))) {
            assertEquals(ClassifierHead.Kind.SCORE, m.head().kind());
        }
    }
}
