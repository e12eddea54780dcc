package arenakit.util;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The project's one Jackson mapper (pretty output; a duplicate key or trailing text is an error) and the strict
 * reader of every JSON file the project binds to records: {@link #read} / {@link #parse} check the tree against the
 * record types first ({@link StrictJson}: unknown, missing and mistyped keys, all listed at once), then bind it.
 */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private Json() {}

    /**
     * A JSON file that cannot be used: each problem names the key path and what was expected; the message starts
     * every line with the file (never Jackson's "Source: REDACTED").
     */
    public static final class Invalid extends IOException {
        private static final long serialVersionUID = 1L;
        private final String source;
        private final List<String> problems;

        public Invalid(String source, List<String> problems, Throwable cause) {
            super(problems.stream().map(p -> source + ": " + p).collect(Collectors.joining("\n")), cause);
            this.source = source;
            this.problems = List.copyOf(problems);
        }

        /** The file (or resource) the problems are in. */
        public String source() {
            return source;
        }

        /** The problems, without the file. */
        public List<String> problems() {
            return problems;
        }
    }

    /** Reads a JSON file strictly into {@code type} (see {@link #parse}). */
    public static <T> T read(Path file, Class<T> type) throws IOException {
        return parse(file.toString(), Files.readAllBytes(file), type, null);
    }

    /**
     * Parses JSON content strictly into {@code type}: malformed JSON names the line and column; then every unknown,
     * missing, mistyped or null-where-not-allowed key is listed ({@link StrictJson#check}); then the records'
     * own checks run (the first failing one is reported with its key path). Absent keys with a documented default
     * are filled in and, when {@code defaulted} is not null, listed there.
     *
     * @param source the file name for messages
     */
    public static <T> T parse(String source, byte[] content, Class<T> type, List<StrictJson.Defaulted> defaulted)
            throws Invalid {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(content);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new Invalid(source, List.of((at == null ? "" : "line " + at.getLineNr() + " column "
                    + at.getColumnNr() + ": ") + withoutSource(e.getOriginalMessage())), e);
        } catch (IOException e) {
            throw new Invalid(source, List.of(String.valueOf(e.getMessage())), e);
        }
        if (tree == null || tree.isMissingNode()) {
            throw new Invalid(source, List.of("the file is empty, expected a JSON object"), null);
        }
        List<String> problems = StrictJson.check(tree, type, "", defaulted);
        if (!problems.isEmpty()) {
            throw new Invalid(source, problems, null);
        }
        try {
            return MAPPER.treeToValue(tree, type);
        } catch (JsonMappingException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            String what = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
            String field = path(e);
            throw new Invalid(source, List.of((field.isEmpty() ? "" : "at '" + field + "': ") + what), e);
        } catch (JsonProcessingException e) {
            throw new Invalid(source, List.of(e.getOriginalMessage()), e);
        }
    }

    /**
     * Where two JSON values differ, as {@code path: old -> new} lines (object keys in order, integral numbers
     * equal whatever their spelling): what a "written under a different config" message shows.
     */
    public static List<String> differences(JsonNode before, JsonNode after) {
        List<String> out = new java.util.ArrayList<>();
        diff(canonical(before), canonical(after), "", out);
        return out;
    }

    private static JsonNode canonical(JsonNode n) {
        try {
            return MAPPER.readTree(Fingerprint.canonicalJson(n == null ? MAPPER.nullNode() : n));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void diff(JsonNode a, JsonNode b, String path, List<String> out) {
        if (a.equals(b)) {
            return;
        }
        if (a.isObject() && b.isObject()) {
            java.util.TreeSet<String> keys = new java.util.TreeSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                JsonNode x = a.has(k) ? a.get(k) : com.fasterxml.jackson.databind.node.MissingNode.getInstance();
                JsonNode y = b.has(k) ? b.get(k) : com.fasterxml.jackson.databind.node.MissingNode.getInstance();
                diff(x, y, path.isEmpty() ? k : path + "." + k, out);
            }
            return;
        }
        out.add((path.isEmpty() ? "<root>" : path) + ": " + shown(a) + " -> " + shown(b));
    }

    private static String shown(JsonNode n) {
        if (n.isMissingNode()) {
            return "(absent)";
        }
        String s = n.toString();
        return s.length() > 50 ? s.substring(0, 47) + "..." : s;
    }

    /** Jackson's message without its "[Source: REDACTED ...]" parts (the file is named by the caller). */
    static String withoutSource(String message) {
        return message == null ? ""
                : message.replaceAll("\\s*\\(for (root|Array|Object) starting at \\[Source: [^]]*\\]\\)", "")
                        .replaceAll("\\s*\\[Source: [^]]*\\]", "");
    }

    /** The key path of a binding error, e.g. {@code model.lora.r} or {@code stages[2]}. */
    static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    /** Pretty JSON, written atomically. */
    public static void write(Path file, Object value) throws IOException {
        // AtomicFiles closes the stream itself, after the write succeeded
        AtomicFiles.write(file, out -> MAPPER.writer().without(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
                .writeValue(out, value));
    }
}
