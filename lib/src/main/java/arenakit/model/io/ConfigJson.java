package arenakit.model.io;

import arenakit.util.Json;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed, strict reads of a JSON object such as a config.json, with Python's types: an integer must be a JSON
 * integer ({@code 4}, not {@code 4.5}, {@code 4.0} or {@code "4"}), a number any JSON number, a flag a JSON boolean.
 * A key of the wrong type is an {@link IllegalArgumentException} naming the key, what was expected and what was
 * found; absent keys take the caller's default. Keys of a nested object are named with their path
 * ({@code rope_scaling.factor}). The keys read are recorded ({@link #keysRead()}), so a reader can say which it
 * uses; keys nobody reads are ignored.
 */
public final class ConfigJson {
    private final JsonNode root;
    private final String prefix;
    private final Set<String> read;

    private ConfigJson(JsonNode root, String prefix, Set<String> read) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException((prefix.isEmpty() ? "the top level" : prefix.substring(0,
                    prefix.length() - 1)) + " must be a JSON object, got " + describe(root));
        }
        this.root = root;
        this.prefix = prefix;
        this.read = read;
    }

    /** Over a parsed object. */
    public static ConfigJson of(JsonNode root) {
        return new ConfigJson(root, "", new TreeSet<>());
    }

    /**
     * Parses {@code file}; a missing file or invalid JSON (a syntax error, a duplicate key, text after the value) is
     * an IOException naming it, with the line and column (never Jackson's "Source: REDACTED").
     */
    public static JsonNode parse(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " not found");
        }
        byte[] content = Files.readAllBytes(file);
        try {
            JsonNode n = Json.MAPPER.readTree(content);
            if (n == null || n.isMissingNode()) {
                throw new IOException(file + ": not valid JSON: the file is empty");
            }
            return n;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new IOException(file + ": not valid JSON" + (at == null ? "" : " at line " + at.getLineNr()
                    + " column " + at.getColumnNr()) + ": " + e.getOriginalMessage(), e);
        }
    }

    /** The underlying tree. */
    public JsonNode node() {
        return root;
    }

    /** Whether {@code key} is present with a value other than null. */
    public boolean has(String key) {
        read.add(prefix + key);
        return root.hasNonNull(key);
    }

    /** Whether {@code key} is present at all (null included). */
    public boolean present(String key) {
        read.add(prefix + key);
        return root.has(key);
    }

    /** An integer that must be there. */
    public int requiredInt(String key) {
        if (!has(key)) {
            throw new IllegalArgumentException("missing field " + prefix + key);
        }
        return integer(key, root.get(key));
    }

    /** An integer; {@code fallback} when absent; null is an error. */
    public int intOr(String key, int fallback) {
        if (!present(key)) {
            return fallback;
        }
        return integer(key, root.get(key));
    }

    /** An integer or null; {@code fallback} when absent. */
    public Integer nullableInt(String key, Integer fallback) {
        if (!present(key)) {
            return fallback;
        }
        return root.get(key).isNull() ? null : integer(key, root.get(key));
    }

    /** A number; {@code fallback} when absent; null is an error. */
    public double doubleOr(String key, double fallback) {
        if (!present(key)) {
            return fallback;
        }
        return number(key, root.get(key));
    }

    /** A number or null; {@code fallback} when absent. */
    public Double nullableDouble(String key, Double fallback) {
        if (!present(key)) {
            return fallback;
        }
        return root.get(key).isNull() ? null : number(key, root.get(key));
    }

    /** A flag; {@code fallback} when absent; null is an error. */
    public boolean boolOr(String key, boolean fallback) {
        if (!present(key)) {
            return fallback;
        }
        JsonNode n = root.get(key);
        if (!n.isBoolean()) {
            throw wrongType(key, "true or false", n);
        }
        return n.booleanValue();
    }

    /** A string or null; {@code fallback} when absent. */
    public String nullableString(String key, String fallback) {
        if (!present(key)) {
            return fallback;
        }
        JsonNode n = root.get(key);
        if (n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw wrongType(key, "a string or null", n);
        }
        return n.textValue();
    }

    /** A string; {@code fallback} when absent; null is an error. */
    public String stringOr(String key, String fallback) {
        if (!present(key)) {
            return fallback;
        }
        JsonNode n = root.get(key);
        if (!n.isTextual()) {
            throw wrongType(key, "a string", n);
        }
        return n.textValue();
    }

    /** An integer, a list of integers, or null (as {@code eos_token_id}); {@code fallback} when absent. */
    public List<Integer> intOrIntList(String key, List<Integer> fallback) {
        if (!present(key)) {
            return fallback;
        }
        JsonNode n = root.get(key);
        if (n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            return List.of(integer(key, n));
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            out.add(integer(key + "[" + i + "]", n.get(i)));
        }
        return Collections.unmodifiableList(out);
    }

    /** A list of strings, or null when absent or null. */
    public List<String> stringList(String key) {
        if (!has(key)) {
            return null;
        }
        JsonNode n = root.get(key);
        if (!n.isArray()) {
            throw wrongType(key, "a list of strings", n);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isTextual()) {
                throw wrongType(key + "[" + i + "]", "a string", n.get(i));
            }
            out.add(n.get(i).textValue());
        }
        return Collections.unmodifiableList(out);
    }

    /** A nested object, or null when absent or null. */
    public ConfigJson object(String key) {
        if (!has(key)) {
            return null;
        }
        JsonNode n = root.get(key);
        if (!n.isObject()) {
            throw wrongType(key, "an object", n);
        }
        return new ConfigJson(n, prefix + key + ".", read);
    }

    /** The keys of this object that are not in {@code known}, in file order. */
    public List<String> keysOtherThan(Set<String> known) {
        List<String> out = new ArrayList<>();
        root.fieldNames().forEachRemaining(k -> {
            if (!known.contains(k)) {
                out.add(prefix + k);
            }
        });
        return out;
    }

    /** Every key read so far (nested ones with their path), sorted. */
    public Set<String> keysRead() {
        return Collections.unmodifiableSet(read);
    }

    /** An error about {@code key} of this object (its path included). */
    public IllegalArgumentException error(String key, String message) {
        return new IllegalArgumentException(prefix + key + " " + message);
    }

    private int integer(String key, JsonNode n) {
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw wrongType(key, "an integer", n);
        }
        return n.intValue();
    }

    private double number(String key, JsonNode n) {
        if (!n.isNumber()) {
            throw wrongType(key, "a number", n);
        }
        return n.doubleValue();
    }

    /** An error saying that {@code key} must be {@code expected} and what it is. */
    public IllegalArgumentException wrongType(String key, String expected, JsonNode found) {
        return new IllegalArgumentException(prefix + key + " must be " + expected + ", got " + describe(found));
    }

    /** A value as written ({@code "four"}, {@code 4.5}, {@code null}). */
    public static String describe(JsonNode n) {
        return n == null ? "nothing" : n.toString();
    }
}
