package arenakit.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The competition's turn cells: a JSON array with one string (or {@code null}) per turn, e.g.
 * {@code ["Hi","Tell me more"]}. Parsing is strict (anything but an array of strings and nulls is an error) and
 * writing reproduces the Kaggle files byte for byte: no spaces, every non-ASCII character as a lowercase
 * {@code \}{@code uXXXX} escape (surrogate pairs as two escapes) and {@code /} escaped as {@code \/}.
 */
public final class JsonCells {
    /** Longest string accepted in one cell (characters); Jackson's default of 20M is too close to real outliers. */
    static final int MAX_STRING_LENGTH = 512 * 1024 * 1024;

    private static final JsonFactory FACTORY = new JsonFactoryBuilder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(MAX_STRING_LENGTH).build())
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
            .characterEscapes(new KaggleEscapes())
            .build();

    private JsonCells() {}

    /** What parsing a cell found, besides the values. */
    public record Parsed(List<String> values, int loneSurrogates) {}

    /**
     * Parses a cell. Lone surrogates are replaced by U+FFFD and counted (the caller reports them as repairs).
     *
     * @throws IllegalArgumentException with a short description of what is wrong (the caller adds the location)
     */
    public static Parsed parse(String cell) {
        List<String> values = new ArrayList<>();
        int repaired = 0;
        try (JsonParser p = FACTORY.createParser(cell)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_ARRAY) {
                throw new IllegalArgumentException("expected a JSON array of strings, found "
                        + (t == null ? "nothing" : describe(t)) + " (cell starts with " + preview(cell) + ")");
            }
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == JsonToken.VALUE_NULL) {
                    values.add(null);
                } else if (t == JsonToken.VALUE_STRING) {
                    String s = p.getText();
                    int lone = countLoneSurrogates(s);
                    if (lone > 0) {
                        s = replaceLoneSurrogates(s);
                        repaired += lone;
                    }
                    values.add(s);
                } else {
                    throw new IllegalArgumentException("element " + (values.size() + 1) + " is " + describe(t)
                            + ", expected a string or null");
                }
            }
            if ((t = p.nextToken()) != null) {
                throw new IllegalArgumentException("text after the closing ']': " + describe(t));
            }
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("malformed JSON: " + e.getOriginalMessage()
                    + " at char " + e.getLocation().getCharOffset(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (values.isEmpty()) {
            throw new IllegalArgumentException("empty JSON array (a conversation has at least one turn)");
        }
        return new Parsed(values, repaired);
    }

    /** Writes values as a cell in the exact Kaggle encoding; {@code null} elements become {@code null}. */
    public static String write(List<String> values) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartArray();
            for (String v : values) {
                if (v == null) {
                    g.writeNull();
                } else {
                    g.writeString(v);
                }
            }
            g.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Number of surrogate chars in {@code s} that are not part of a valid high-low pair. */
    public static int countLoneSurrogates(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                n++;
            }
        }
        return n;
    }

    /** {@code s} with every lone surrogate replaced by U+FFFD (valid pairs kept). */
    public static String replaceLoneSurrogates(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else {
                sb.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return sb.toString();
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "a nested array";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_STRING -> "a string";
            case VALUE_NULL -> "null";
            default -> t.asString() == null ? t.name() : "'" + t.asString() + "'";
        };
    }

    private static String preview(String cell) {
        String s = cell.length() > 20 ? cell.substring(0, 20) + "..." : cell;
        return "'" + s.replace("\n", "\\n") + "'";
    }

    /** Jackson's standard escapes plus {@code \/}, as in the competition files. */
    private static final class KaggleEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private static final SerializableString SLASH = new SerializedString("\\/");
        private final int[] ascii;

        KaggleEscapes() {
            ascii = standardAsciiEscapesForJSON();
            ascii['/'] = ESCAPE_CUSTOM;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return ch == '/' ? SLASH : null;
        }
    }
}
