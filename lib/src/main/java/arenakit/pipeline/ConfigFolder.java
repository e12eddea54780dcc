package arenakit.pipeline;

import arenakit.util.ArenaHome;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A setup's folder of stage configs: a folder on disk ({@code configs/tiny}, or one of your own), or a setup
 * bundled in the library jar under {@code arenakit/configs/<name>/} (so jbang and Kaggle runs find {@code tiny},
 * {@code smoke} and {@code gemma2-9b} without a checkout).
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
                + "(bundled: tiny, smoke, gemma2-9b)");
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

    /** Reads and validates one config file. */
    public <T> T read(String file, Class<T> type) {
        try (InputStream in = open(file)) {
            return Json.MAPPER.readValue(in, type);
        } catch (UnrecognizedPropertyException e) {
            Collection<Object> known = e.getKnownPropertyIds();
            throw new ConfigException(where(file) + ": unknown field '" + path(e) + "'"
                    + (known == null ? "" : " (known: " + known.stream().map(Objects::toString).sorted()
                            .collect(Collectors.joining(", ")) + ")"), e);
        } catch (JsonMappingException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            String what = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
            String field = path(e);
            throw new ConfigException(where(file) + (field.isEmpty() ? "" : " at '" + field + "'") + ": " + what, e);
        } catch (IOException e) {
            throw new ConfigException(where(file) + ": " + e.getMessage(), e);
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

    private static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }
}
