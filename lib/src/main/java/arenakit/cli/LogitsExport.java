package arenakit.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.lora.PeftAdapter;
import arenakit.util.Engines;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The project's logits for a model folder's inputs, without and with adapters, as JSON ({@code parity --export}):
 * what {@code environment/interop/check_transformers_peft.py} compares with transformers + PEFT. Each case runs
 * alone in float32 on the CPU; the inputs are the fixture's ({@code expected.json}) or, for a folder without one
 * (a tiny base model), fixed pseudo-random ids.
 */
final class LogitsExport {
    static final String FORMAT = "arena-kit logits 1";
    private static final int[] LENGTHS = {5, 17, 40, 96};

    private LogitsExport() {}

    static void write(Path dir, List<Path> adapters, Path file, Consumer<String> log) throws IOException {
        Path model = dir.toAbsolutePath().normalize();
        Path home = file.toAbsolutePath().normalize().getParent();
        DecoderConfig config = Families.read(model.resolve(HfCheckpoint.CONFIG));
        List<int[]> cases = inputs(model, config);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("format", FORMAT);
        root.put("model", where(model, home));
        root.put("model_name", model.getFileName().toString());
        root.put("model_type", config.modelType());
        root.put("num_labels", 3);
        root.put("dtype", "float32");
        ArrayNode ids = root.putArray("cases");
        cases.forEach(c -> {
            ArrayNode a = ids.addArray();
            for (int id : c) {
                a.add(id);
            }
        });
        boolean baseHasHead = HfCheckpoint.open(model).names().stream().anyMatch(n -> n.startsWith("score."));
        if (baseHasHead) {
            root.set("base_logits", logits(model, options(log), cases));
        } else {
            root.putNull("base_logits"); // a fresh random head would compare nothing
        }
        ArrayNode list = root.putArray("adapters");
        for (Path a : adapters) {
            Path adapter = a.toAbsolutePath().normalize();
            boolean head = PeftAdapter.read(adapter).hasHead();
            ObjectNode entry = list.addObject();
            entry.put("name", adapter.getFileName().toString().equals("adapter") && adapter.getParent() != null
                    ? adapter.getParent().getFileName() + "/adapter" : adapter.getFileName().toString());
            entry.put("path", where(adapter, home));
            entry.put("base_head", !head); // PEFT then predicts with the base's score, as this does
            try (DecoderClassifier m = DecoderClassifier.load(model, options(log).adapter(adapter, true)
                    .baseHead(!head))) {
                entry.put("head", m.head().kind().name());
                entry.put("hidden_size", config.hiddenSize());
                entry.set("logits", logits(m, cases));
            }
        }
        Files.createDirectories(home);
        Json.write(file, root);
        log.accept("wrote the logits of " + cases.size() + " inputs (base" + (baseHasHead ? "" : ": no score head, "
                + "skipped") + ", " + adapters.size() + " adapter(s)) to " + file);
    }

    /** A path relative to the export's folder when inside it (a bundle that travels), else absolute. */
    private static String where(Path p, Path home) {
        return p.startsWith(home) ? home.relativize(p).toString() : p.toString();
    }

    private static DecoderClassifier.Options options(Consumer<String> log) {
        return DecoderClassifier.Options.defaults().placement(Placement.single(Device.cpu())).dtype(DataType.FLOAT32)
                .log(log);
    }

    private static ArrayNode logits(Path model, DecoderClassifier.Options o, List<int[]> cases) throws IOException {
        try (DecoderClassifier m = DecoderClassifier.load(model, o)) {
            return logits(m, cases);
        }
    }

    private static ArrayNode logits(DecoderClassifier m, List<int[]> cases) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        try (NDManager scope = Engines.newManager()) {
            for (int[] c : cases) {
                ArrayNode row = out.addArray();
                for (float v : m.logits(scope, List.of(c), false).toFloatArray()) {
                    row.add(v);
                }
            }
        }
        return out;
    }

    /** The fixture's input ids, else fixed pseudo-random ones (within the vocabulary and the position limit). */
    private static List<int[]> inputs(Path model, DecoderConfig config) throws IOException {
        Path expected = model.resolve("expected.json");
        List<int[]> out = new ArrayList<>();
        if (Files.isRegularFile(expected)) {
            for (JsonNode c : Json.MAPPER.readTree(expected.toFile()).path("cases")) {
                int[] a = new int[c.path("input_ids").size()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = c.get("input_ids").get(i).intValue();
                }
                out.add(a);
            }
        }
        if (out.isEmpty()) {
            SplittableRandom random = new SplittableRandom(20240521);
            for (int length : LENGTHS) {
                int[] a = new int[Math.min(length, config.maxPositionEmbeddings())];
                for (int i = 0; i < a.length; i++) { // never the pad token: transformers finds the last token by it
                    do {
                        a[i] = 1 + random.nextInt(config.vocabSize() - 1);
                    } while (config.padTokenId() != null && a[i] == config.padTokenId());
                }
                out.add(a);
            }
        }
        return out;
    }
}
