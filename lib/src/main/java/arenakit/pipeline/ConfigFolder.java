package arenakit.pipeline;

import arenakit.util.ArenaHome;
import arenakit.util.Json;
import arenakit.util.Errors;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A setup's folder of stage configs: a folder on disk ({@code configs/tiny}, or one of your own), or a setup
 * bundled in the library jar under {@code arenakit/configs/<name>/} (so jbang and Kaggle runs find the
 * {@link #SHIPPED} setups without a checkout).
 *
 * <p>Reading is strict: an unknown field, a wrong type or an invalid value is a {@link ConfigException} naming the
 * file and the field ({@code configs/tiny/stage1.json: unknown field 'optimizer.lrr' (known: lr, ...)}).
 */
public final class ConfigFolder {
    private static final String RESOURCE_ROOT = "arenakit/configs/";
    private final Path dir;
    private final String bundled;

    private ConfigFolder(Path dir, String bundled) {
        this.dir = dir;
        this.bundled = bundled;
    }

    /**
     * A folder path if it exists; else, inside a checkout, {@code configs/<name>} of the checkout (so an edit there
     * takes effect at once, also for jbang scripts and notebooks running the installed jar); else the bundled setup
     * of that name.
     */
    public static ConfigFolder of(String folderOrName) {
        Path p = Path.of(folderOrName);
        if (Files.isDirectory(p)) {
            return new ConfigFolder(p.toAbsolutePath().normalize(), null);
        }
        String name = p.getFileName() == null ? folderOrName : p.getFileName().toString();
        Optional<Path> checkout = ArenaHome.find().map(h -> h.resolve("configs").resolve(name))
                .filter(d -> Files.isRegularFile(d.resolve("pipeline.json")));
        if (p.getNameCount() == 1 && checkout.isPresent()) {
            return new ConfigFolder(checkout.get(), null);
        }
        if (ConfigFolder.class.getClassLoader().getResource(RESOURCE_ROOT + name + "/pipeline.json") != null) {
            return new ConfigFolder(null, name);
        }
        throw new ConfigException("no config folder '" + folderOrName + "': not a directory, and not a bundled setup "
                + "(bundled: " + String.join(", ", SHIPPED) + ")");
    }

    /** Short name for logs: the folder name or the bundled setup's name. */
    public String name() {
        return dir != null ? dir.getFileName().toString() : bundled;
    }

    /** Where a file of this setup comes from, as shown in error messages. */
    public String where(String file) {
        return dir != null ? dir.resolve(file).toString() : "bundled configs/" + bundled + "/" + file;
    }

    public boolean has(String file) {
        return dir != null ? Files.isRegularFile(dir.resolve(file))
                : ConfigFolder.class.getClassLoader().getResource(RESOURCE_ROOT + bundled + "/" + file) != null;
    }

    /** The raw text of a file (to copy a config next to a stage's outputs). */
    public String text(String file) throws IOException {
        try (InputStream in = open(file)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Reads and validates one config file (see {@link Json#parse}: every problem of the file in one message). */
    public <T> T read(String file, Class<T> type) {
        return read(file, type, null);
    }

    /** {@link #read(String, Class)}, listing the keys left to their documented defaults in {@code defaulted}. */
    public <T> T read(String file, Class<T> type, List<StrictJson.Defaulted> defaulted) {
        byte[] content;
        try (InputStream in = open(file)) {
            content = in.readAllBytes();
        } catch (IOException e) {
            throw new ConfigException(where(file) + ": " + Errors.reason(e), e);
        }
        try {
            return Json.parse(where(file), content, type, defaulted);
        } catch (Json.Invalid e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

    /** The setups the library ships. */
    public static final List<String> SHIPPED = List.of("tiny", "smoke", "gemma2-9b", "llama3-8b");

    /**
     * The setup's JSON files: {@code pipeline.json} and every stage file it lists, plus, for a folder on disk, any
     * other {@code .json} file in it (e.g. a second submission config such as gemma2-9b's
     * {@code submission_ensemble.json}), sorted.
     */
    public List<String> files() throws IOException {
        java.util.Set<String> files = new java.util.TreeSet<>();
        files.add("pipeline.json");
        JsonNode stages = Json.MAPPER.readTree(text("pipeline.json")).path("stages");
        for (JsonNode stage : stages) {
            if (!stage.asText().equals(Pipeline.EDA) && has(stage.asText() + ".json")) {
                files.add(stage.asText() + ".json");
            }
        }
        if (dir != null) {
            try (var list = Files.list(dir)) {
                list.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".json")).forEach(files::add);
            }
        }
        return List.copyOf(files);
    }

    /** Copies {@link #files} into {@code target} (created if needed), e.g. to edit a shipped setup; returns it. */
    public Path copyTo(Path target) throws IOException {
        Files.createDirectories(target);
        for (String f : files()) {
            Files.writeString(target.resolve(f), text(f));
        }
        return target;
    }

    /**
     * Log lines for settings this setup leaves to a documented default that a shipped setup sets otherwise (so a
     * copied-and-trimmed setup does not silently run differently): for each key in {@code defaulted}, the shipped
     * files of the same name and {@code kind} that set it to another value.
     */
    public List<String> defaultNotes(String file, String kind, List<StrictJson.Defaulted> defaulted) {
        List<String> notes = new java.util.ArrayList<>();
        for (StrictJson.Defaulted d : defaulted) {
            JsonNode value = parse(d.value());
            if (value.isNull()) {
                continue; // an optional part (a description, one of two alternatives), not a setting
            }
            List<String> others = new java.util.ArrayList<>();
            for (String name : SHIPPED) {
                ConfigFolder shipped;
                try {
                    shipped = ConfigFolder.of(name);
                } catch (ConfigException e) {
                    continue;
                }
                if (shipped.where(file).equals(where(file)) || !shipped.has(file)) {
                    continue;
                }
                try {
                    JsonNode tree = Json.MAPPER.readTree(shipped.text(file));
                    if (kind != null && !kind.equals(tree.path("kind").asText(null))) {
                        continue;
                    }
                    JsonNode set = tree.at("/" + d.path().replace(".", "/").replaceAll("\\[(\\d+)]", "/$1"));
                    if (!set.isMissingNode() && Json.differences(set, value).size() > 0) {
                        others.add(name + "/" + file + " sets " + set);
                    }
                } catch (IOException e) {
                    // an unreadable shipped file has nothing to compare
                }
            }
            if (!others.isEmpty()) {
                notes.add("note: " + where(file) + " leaves '" + d.path() + "' to its documented default " + d.value()
                        + ", but " + String.join(", ", others) + " (configs/README.md)");
            }
        }
        return notes;
    }

    private static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private InputStream open(String file) throws IOException {
        if (dir != null) {
            return Files.newInputStream(dir.resolve(file));
        }
        InputStream in = ConfigFolder.class.getClassLoader().getResourceAsStream(RESOURCE_ROOT + bundled + "/" + file);
        if (in == null) {
            throw new IOException("no such file in the bundled setup");
        }
        return in;
    }

}
