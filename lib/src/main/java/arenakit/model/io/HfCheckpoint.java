package arenakit.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.util.Json;
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
import java.util.function.Function;

/**
 * A Hugging Face model directory: {@code config.json} plus either {@code model.safetensors} or shards listed in
 * {@code model.safetensors.index.json}. Only headers are read when opening; tensors are mapped when loaded. What
 * config.json means is the model family's business ({@code arenakit.model.family.Families}); this class only
 * checks that it is there.
 */
public final class HfCheckpoint {
    public static final String CONFIG = "config.json";
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final Map<String, SafetensorsFile> fileOf;

    private HfCheckpoint(Path dir, Map<String, SafetensorsFile> fileOf) {
        this.dir = dir;
        this.fileOf = fileOf;
    }

    /** Opens a model directory; errors name the missing or inconsistent file. */
    public static HfCheckpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is not a directory");
        }
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new IOException(dir.resolve(CONFIG) + " not found (is " + dir + " a Hugging Face model directory?)");
        }
        Map<String, SafetensorsFile> fileOf = new TreeMap<>();
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index) && Files.isRegularFile(dir.resolve(SINGLE))) {
            throw new IOException(dir + " has both " + SINGLE + " and " + INDEX + " (shards): transformers would read "
                    + SINGLE + "; remove the layout that is stale");
        }
        if (Files.isRegularFile(index)) {
            ConfigJson root = ConfigJson.of(ConfigJson.parse(index));
            ConfigJson weightMap;
            try {
                weightMap = root.object("weight_map");
                root.object("metadata"); // an object when present (total_size is informative only)
            } catch (IllegalArgumentException e) {
                throw new IOException(index + ": " + e.getMessage(), e);
            }
            if (weightMap == null) {
                throw new IOException(index + ": missing field weight_map (tensor name -> shard file)");
            }
            List<String> unknown = root.keysOtherThan(Set.of("metadata", "weight_map"));
            if (!unknown.isEmpty()) {
                throw new IOException(index + ": unknown field " + unknown + " (an index has metadata and weight_map)");
            }
            Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
            for (var it = weightMap.node().fields(); it.hasNext(); ) {
                var f = it.next();
                if (!f.getValue().isTextual() || f.getValue().textValue().isEmpty()) {
                    throw new IOException(index + ": weight_map." + f.getKey() + " must be a shard file name (a "
                            + "string), got " + f.getValue());
                }
                String shardName = f.getValue().textValue();
                SafetensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    Path p = dir.resolve(shardName).normalize();
                    if (!p.getParent().equals(dir.normalize()) || !shardName.endsWith(".safetensors")) {
                        throw new IOException(index + ": weight_map." + f.getKey() + " names '" + shardName
                                + "', not a .safetensors file in " + dir);
                    }
                    if (!Files.isRegularFile(p)) {
                        throw new IOException(index + " lists " + f.getKey() + " in " + shardName
                                + ", which does not exist");
                    }
                    shard = SafetensorsFile.open(p);
                    shards.put(shardName, shard);
                }
                if (!shard.entries().containsKey(f.getKey())) {
                    throw new IOException(index + " lists " + f.getKey() + " in " + shardName
                            + ", but that file has no such tensor");
                }
                fileOf.put(f.getKey(), shard);
            }
            for (SafetensorsFile shard : shards.values()) {
                for (String name : shard.entries().keySet()) {
                    SafetensorsFile listed = fileOf.get(name);
                    if (listed == null) {
                        throw new IOException(shard.path() + " holds " + name + ", which " + INDEX + " does not list");
                    }
                    if (listed != shard) {
                        throw new IOException(name + " is in both " + shard.path().getFileName() + " and "
                                + listed.path().getFileName() + " (" + INDEX + " lists the latter)");
                    }
                }
            }
        } else if (Files.isRegularFile(dir.resolve(SINGLE))) {
            SafetensorsFile single = SafetensorsFile.open(dir.resolve(SINGLE));
            single.entries().keySet().forEach(n -> fileOf.put(n, single));
        } else {
            throw new IOException(dir + " has neither " + SINGLE + " nor " + INDEX);
        }
        return new HfCheckpoint(dir, Collections.unmodifiableMap(fileOf));
    }

    /**
     * Writes a model directory in transformers' layout: config.json plus {@code model.safetensors}, or
     * {@code shards} files {@code model-0000i-of-0000n.safetensors} with their index when {@code shards > 1}.
     * Files of the other layout left from an earlier write are removed, so the directory reads back as written.
     *
     * @param config the config.json to write, given the {@code torch_dtype} name of {@code dtype}
     */
    public static void write(Path dir, Function<String, ObjectNode> config, SafetensorsFile.DType dtype, int shards,
            List<SafetensorsWriter.Tensor> tensors) throws IOException {
        Files.createDirectories(dir);
        Json.write(dir.resolve(CONFIG), config.apply(torchDtype(dtype)));
        Map<String, String> meta = Map.of("format", "pt");
        if (shards <= 1) {
            SafetensorsWriter.write(dir.resolve(SINGLE), dtype, tensors, meta);
            Files.deleteIfExists(dir.resolve(INDEX));
            return;
        }
        long total = 0;
        for (SafetensorsWriter.Tensor t : tensors) {
            total += t.numel() * dtype.bytes();
        }
        List<List<SafetensorsWriter.Tensor>> groups = new ArrayList<>();
        long perShard = (total + shards - 1) / shards;
        long filled = 0;
        for (SafetensorsWriter.Tensor t : tensors) {
            if (groups.isEmpty() || (filled >= perShard * groups.size() && groups.size() < shards)) {
                groups.add(new ArrayList<>());
            }
            groups.get(groups.size() - 1).add(t);
            filled += t.numel() * dtype.bytes();
        }
        var index = Json.MAPPER.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        var weightMap = index.putObject("weight_map");
        for (int i = 0; i < groups.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, groups.size());
            SafetensorsWriter.write(dir.resolve(name), dtype, groups.get(i), meta);
            groups.get(i).forEach(t -> weightMap.put(t.name(), name));
        }
        Json.write(dir.resolve(INDEX), index);
        Files.deleteIfExists(dir.resolve(SINGLE));
    }

    /** transformers' name of a file dtype ({@code torch_dtype} in config.json). */
    public static String torchDtype(SafetensorsFile.DType dtype) {
        return switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        };
    }

    public Path dir() {
        return dir;
    }

    public Path configFile() {
        return dir.resolve(CONFIG);
    }

    /** All tensor names, sorted. */
    public Set<String> names() {
        return fileOf.keySet();
    }

    public boolean has(String name) {
        return fileOf.containsKey(name);
    }

    public SafetensorsFile.Entry entry(String name) {
        SafetensorsFile f = fileOf.get(name);
        return f == null ? null : f.entries().get(name);
    }

    /** Loads one tensor (see {@link SafetensorsFile#load}). */
    public NDArray load(String name, NDManager manager, DataType dtype, boolean owned) throws IOException {
        SafetensorsFile f = fileOf.get(name);
        if (f == null) {
            throw new IOException(dir + ": no tensor named " + name);
        }
        return f.load(name, manager, dtype, owned);
    }

    /**
     * Checks names and shapes: every {@code required} tensor present with its shape, {@code optional} ones
     * well-shaped when present, nothing else except {@code ignored}. All problems are reported in one message.
     */
    public void check(Map<String, long[]> required, Map<String, long[]> optional, Set<String> ignored)
            throws IOException {
        List<String> problems = new ArrayList<>();
        required.forEach((name, shape) -> {
            SafetensorsFile.Entry e = entry(name);
            if (e == null) {
                problems.add("missing tensor " + name + " (expected shape " + Arrays.toString(shape) + ")");
            } else if (!Arrays.equals(e.shape(), shape)) {
                problems.add(shapeProblem(name, shape, e));
            }
        });
        optional.forEach((name, shape) -> {
            SafetensorsFile.Entry e = entry(name);
            if (e != null && !Arrays.equals(e.shape(), shape)) {
                problems.add(shapeProblem(name, shape, e));
            }
        });
        for (String name : names()) {
            if (!required.containsKey(name) && !optional.containsKey(name) && !ignored.contains(name)) {
                problems.add("unexpected tensor " + name + " " + Arrays.toString(entry(name).shape()) + " in "
                        + fileOf.get(name).path().getFileName());
            }
        }
        if (!problems.isEmpty()) {
            throw new IOException(dir + " does not match its config.json (" + problems.size() + " problem"
                    + (problems.size() == 1 ? "" : "s") + "):\n  " + String.join("\n  ", problems));
        }
    }

    private String shapeProblem(String name, long[] expected, SafetensorsFile.Entry e) {
        return "tensor " + name + " in " + fileOf.get(name).path().getFileName() + " has shape "
                + Arrays.toString(e.shape()) + ", expected " + Arrays.toString(expected);
    }
}
