package arenakit.util;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The schema check behind every JSON file the project reads into records (stage configs, pipeline.json, stage.json
 * copies, summaries, checkpoint state): the record types are the schema. Before Jackson binds a tree, {@link #check}
 * walks it next to the type and lists every problem at once, each with its key path:
 * <ul>
 *   <li>an unknown key (with the nearest known one and the list of known keys);</li>
 *   <li>a missing key, unless its record component carries {@link Default} (the documented default, filled in);</li>
 *   <li>a wrong JSON type: no coercion, so {@code "4"} or {@code 4.5} for an integer, {@code "thirty-two"} for a
 *       number, a number for a string are errors;</li>
 *   <li>{@code null} where the component is not {@link Nullable} (a null that means something, e.g. "no LoRA").</li>
 * </ul>
 * A new record field is therefore required and strictly typed until someone documents a default for it.
 */
public final class StrictJson {
    private StrictJson() {}

    /**
     * The key may be left out; the reader then fills in this JSON text ({@code "\"auto\""}, {@code "65536"},
     * {@code "[]"}, {@code "null"}). Every default must be listed in configs/README.md (a test checks it).
     */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    public @interface Default {
        String value();
    }

    /** {@code null} is a valid value of this key (its meaning is documented, e.g. "null = full fine-tuning"). */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.RECORD_COMPONENT)
    public @interface Nullable {}

    /** A key the file left out and the reader filled in from its {@link Default}. */
    public record Defaulted(String path, String value) {}

    /**
     * Checks {@code node} against {@code type}, filling the defaults of absent keys into the tree (and into
     * {@code defaulted}, when not null). Returns the problems, each starting with the quoted key path.
     */
    public static List<String> check(JsonNode node, Type type, String path, List<Defaulted> defaulted) {
        List<String> problems = new ArrayList<>();
        walk(node, type, path, problems, defaulted);
        return problems;
    }

    /** The JSON key of a record component: {@code @JsonProperty}, else the record's naming strategy. */
    public static String jsonName(RecordComponent rc) {
        JsonProperty p = rc.getAnnotation(JsonProperty.class);
        if (p != null && !p.value().isEmpty()) {
            return p.value();
        }
        JsonNaming naming = rc.getDeclaringRecord().getAnnotation(JsonNaming.class);
        if (naming != null && naming.value() == PropertyNamingStrategies.SnakeCaseStrategy.class) {
            return new PropertyNamingStrategies.SnakeCaseStrategy().translate(rc.getName());
        }
        return rc.getName();
    }

    /** The JSON keys of a record type, in declaration order, with their components. */
    public static Map<String, RecordComponent> keys(Class<?> record) {
        Map<String, RecordComponent> out = new LinkedHashMap<>();
        for (RecordComponent rc : record.getRecordComponents()) {
            out.put(jsonName(rc), rc);
        }
        return out;
    }

    private static void walk(JsonNode node, Type type, String path, List<String> problems, List<Defaulted> defaulted) {
        Class<?> raw = raw(type);
        if (raw == JsonNode.class || raw == Object.class) {
            return; // free-form: the owner checks it
        }
        if (node.isNull()) {
            problems.add(quote(path) + " is null, expected " + describe(type));
            return;
        }
        if (raw.isRecord()) {
            if (node.isTextual() && hasStringForm(raw)) {
                return; // the record's documented shorthand (e.g. a model name for {"model": name, "weight": 1})
            }
            record(node, raw, path, problems, defaulted);
        } else if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
            if (!node.isArray()) {
                problems.add(mismatch(path, type, node));
                return;
            }
            Type element = elementType(type);
            for (int i = 0; i < node.size(); i++) {
                walk(node.get(i), element, path + "[" + i + "]", problems, defaulted);
            }
        } else if (Map.class.isAssignableFrom(raw)) {
            if (!node.isObject()) {
                problems.add(mismatch(path, type, node));
                return;
            }
            Type value = type instanceof ParameterizedType p ? p.getActualTypeArguments()[1] : Object.class;
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                walk(e.getValue(), value, join(path, e.getKey()), problems, defaulted);
            }
        } else if (!scalarFits(node, raw)) {
            problems.add(mismatch(path, type, node));
        }
    }

    /** Whether a record also reads from a plain string: a static {@code @JsonCreator(mode = DELEGATING)} of String. */
    private static boolean hasStringForm(Class<?> record) {
        for (java.lang.reflect.Method m : record.getDeclaredMethods()) {
            com.fasterxml.jackson.annotation.JsonCreator c =
                    m.getAnnotation(com.fasterxml.jackson.annotation.JsonCreator.class);
            if (c != null && c.mode() == com.fasterxml.jackson.annotation.JsonCreator.Mode.DELEGATING
                    && java.lang.reflect.Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 1
                    && m.getParameterTypes()[0] == String.class) {
                return true;
            }
        }
        return false;
    }

    private static void record(JsonNode node, Class<?> raw, String path, List<String> problems,
            List<Defaulted> defaulted) {
        Map<String, RecordComponent> keys = keys(raw);
        if (!node.isObject()) {
            problems.add(mismatch(path, raw, node));
            return;
        }
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        for (String name : names) {
            if (!keys.containsKey(name)) {
                String near = nearest(name, keys.keySet());
                problems.add("unknown field " + quote(join(path, name)) + " ("
                        + (near == null ? "" : "did you mean '" + near + "'? ") + "known: "
                        + keys.keySet().stream().sorted().collect(Collectors.joining(", ")) + ")");
            }
        }
        com.fasterxml.jackson.databind.node.ObjectNode object = (com.fasterxml.jackson.databind.node.ObjectNode) node;
        for (Map.Entry<String, RecordComponent> e : keys.entrySet()) {
            RecordComponent rc = e.getValue();
            String p = join(path, e.getKey());
            JsonNode value = node.get(e.getKey());
            Default d = rc.getAnnotation(Default.class);
            if (value == null) {
                if (d == null) {
                    problems.add("missing field " + quote(p) + " (" + describe(rc.getGenericType())
                            + (rc.isAnnotationPresent(Nullable.class) ? ", or null" : "") + ")");
                } else {
                    object.set(e.getKey(), parseDefault(d, rc));
                    if (defaulted != null) {
                        defaulted.add(new Defaulted(p, d.value()));
                    }
                }
                continue;
            }
            boolean nullable = rc.isAnnotationPresent(Nullable.class) || (d != null && d.value().equals("null"));
            if (value.isNull()) {
                if (!nullable) {
                    problems.add(quote(p) + " is null, expected " + describe(rc.getGenericType()));
                }
                continue;
            }
            walk(value, rc.getGenericType(), p, problems, defaulted);
        }
    }

    private static JsonNode parseDefault(Default d, RecordComponent rc) {
        try {
            return Json.MAPPER.readTree(d.value());
        } catch (java.io.IOException ex) {
            throw new IllegalStateException("@Default of " + rc + " is not JSON: " + d.value(), ex);
        }
    }

    private static boolean scalarFits(JsonNode n, Class<?> c) {
        if (c == int.class || c == Integer.class) {
            return n.isIntegralNumber() && n.canConvertToInt();
        }
        if (c == long.class || c == Long.class) {
            return n.isIntegralNumber() && n.canConvertToLong();
        }
        if (c == short.class || c == Short.class) {
            return n.isIntegralNumber() && n.canConvertToInt() && Math.abs(n.intValue()) <= Short.MAX_VALUE;
        }
        if (c == double.class || c == Double.class || c == float.class || c == Float.class) {
            return n.isNumber();
        }
        if (c == boolean.class || c == Boolean.class) {
            return n.isBoolean();
        }
        if (c == String.class) {
            return n.isTextual();
        }
        if (c.isEnum()) {
            return n.isTextual() && Arrays.stream(c.getEnumConstants()).anyMatch(k -> k.toString().equals(n.asText()));
        }
        return true; // another class: Jackson's binding decides
    }

    /** What a value of this type looks like in JSON, for messages: "an integer", "a list of strings". */
    public static String describe(Type type) {
        Class<?> c = raw(type);
        if (c == int.class || c == Integer.class || c == long.class || c == Long.class || c == short.class
                || c == Short.class) {
            return "an integer";
        }
        if (c == double.class || c == Double.class || c == float.class || c == Float.class) {
            return "a number";
        }
        if (c == boolean.class || c == Boolean.class) {
            return "true or false";
        }
        if (c == String.class) {
            return "a string";
        }
        if (c.isEnum()) {
            return "one of " + Arrays.stream(c.getEnumConstants()).map(Object::toString)
                    .collect(Collectors.joining(", "));
        }
        if (Collection.class.isAssignableFrom(c) || c.isArray()) {
            String element = describe(elementType(type));
            return "a list of " + element.replaceFirst("^(an?|one of) ", "") + (element.startsWith("one of")
                    || element.startsWith("true") ? "" : "s");
        }
        if (c.isRecord()) {
            return "an object with " + String.join(", ", keys(c).keySet());
        }
        if (Map.class.isAssignableFrom(c)) {
            return "an object";
        }
        return "a JSON value";
    }

    private static String mismatch(String path, Type expected, JsonNode got) {
        return quote(path) + " must be " + describe(expected) + ", got " + shown(got);
    }

    /** A value as the user wrote it, with what kind of JSON value it is when that is the point. */
    private static String shown(JsonNode n) {
        String text = n.toString();
        if (text.length() > 60) {
            text = text.substring(0, 57) + "...";
        }
        if (n.isTextual()) {
            return text + " (a string)";
        }
        if (n.isArray()) {
            return text + " (a list)";
        }
        if (n.isObject()) {
            return text + " (an object)";
        }
        if (n.isNumber() && !n.isIntegralNumber()) {
            return text + " (not a whole number)";
        }
        return text;
    }

    private static String quote(String path) {
        return "'" + (path.isEmpty() ? "<root>" : path) + "'";
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static Class<?> raw(Type t) {
        if (t instanceof Class<?> c) {
            return c;
        }
        if (t instanceof ParameterizedType p) {
            return (Class<?>) p.getRawType();
        }
        if (t instanceof GenericArrayType g) {
            return java.lang.reflect.Array.newInstance(raw(g.getGenericComponentType()), 0).getClass();
        }
        return Object.class; // wildcards, type variables: unchecked
    }

    private static Type elementType(Type t) {
        if (t instanceof ParameterizedType p) {
            return p.getActualTypeArguments()[0];
        }
        if (t instanceof GenericArrayType g) {
            return g.getGenericComponentType();
        }
        Class<?> c = raw(t);
        return c.isArray() ? c.getComponentType() : Object.class;
    }

    /** The known key within edit distance 2 of {@code key} (a typo), if there is exactly one nearest. */
    static String nearest(String key, Collection<String> known) {
        String best = null;
        int bestDistance = 3;
        boolean tie = false;
        for (String k : known) {
            int d = distance(key.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
                tie = false;
            } else if (d == bestDistance) {
                tie = true;
            }
        }
        return tie ? null : best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
