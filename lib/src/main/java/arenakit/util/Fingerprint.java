package arenakit.util;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What produced a piece of resumable state (a checkpoint, a chunk of predictions, a finished stage, the embedded
 * sample), as named SHA-256 parts: {@code {"config": "9f2c...", "base_model": "41ab...", "data": "07de..."}}. State
 * records the fingerprint it was made under; a resume compares it with the current one and, on a mismatch, names
 * the parts that differ ({@link #differences}) instead of silently mixing old and new.
 *
 * <p>What goes into a part:
 * <ul>
 *   <li>{@link Builder#json}: a value's canonical JSON (object keys sorted, integral numbers written as integers),
 *       so a config hashes the same however its file was formatted;</li>
 *   <li>{@link Builder#file}: a file's identity, {@link #ofFile}: its size and a SHA-256 of its whole content up to
 *       {@value #FULL_HASH_LIMIT_MIB} MiB; a larger file (multi-GB safetensors) hashes its first and last 4 MiB and
 *       {@value #SAMPLES} blocks of 64 KiB spread evenly between them. That tells a different file (other weights,
 *       another data set, a truncated copy) apart with near certainty in milliseconds; an edit of a few bytes in an
 *       unsampled region of a big file is not detected (it is an identity, not an integrity check). The
 *       modification time and the path are left out on purpose: a copied or moved file keeps its identity;</li>
 *   <li>{@link Builder#tree}: every regular file under a folder (relative names and identities);</li>
 *   <li>{@link Builder#text} / {@link #hasher}: any other content, e.g. the token ids a trainer will see.</li>
 * </ul>
 * The record serialises as {@code {"parts": {...}}} (Jackson), so it can sit inside a state file.
 */
public record Fingerprint(SortedMap<String, String> parts) {
    /** Files up to this many MiB hash their whole content. */
    public static final int FULL_HASH_LIMIT_MIB = 64;
    /** Evenly spaced 64 KiB blocks hashed between the head and tail of a larger file. */
    public static final int SAMPLES = 64;
    private static final long FULL_HASH_LIMIT = FULL_HASH_LIMIT_MIB * 1024L * 1024L;
    private static final int EDGE = 4 * 1024 * 1024;
    private static final int BLOCK = 64 * 1024;

    public Fingerprint {
        parts = new TreeMap<>(Objects.requireNonNull(parts, "parts"));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** One hash over every part (names included): a short key for file names and logs. */
    public String digest() {
        Hasher h = hasher();
        parts.forEach((k, v) -> h.text(k).text(v));
        return h.hex();
    }

    /** The names of the parts that differ between the two, including parts only one of them has; sorted. */
    public List<String> differences(Fingerprint other) {
        TreeSet<String> names = new TreeSet<>(parts.keySet());
        names.addAll(other.parts.keySet());
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (!Objects.equals(parts.get(n), other.parts.get(n))) {
                out.add(n);
            }
        }
        return out;
    }

    /** Adds parts to a copy (a later part of the same name replaces the earlier one). */
    public Fingerprint with(Fingerprint more) {
        TreeMap<String, String> all = new TreeMap<>(parts);
        all.putAll(more.parts);
        return new Fingerprint(all);
    }

    /** Builds a fingerprint part by part. */
    public static final class Builder {
        private final TreeMap<String, String> parts = new TreeMap<>();

        private Builder() {}

        /** The canonical JSON of {@code value} (a record, a map, a JsonNode, a string, a number, or null). */
        public Builder json(String name, Object value) {
            parts.put(name, hasher().text(canonicalJson(value)).hex());
            return this;
        }

        /** A file's identity ({@link #ofFile}). */
        public Builder file(String name, Path file) throws IOException {
            parts.put(name, ofFile(file));
            return this;
        }

        /** Several files' identities, in the given order, as one part. */
        public Builder files(String name, List<Path> files) throws IOException {
            Hasher h = hasher();
            for (Path f : files) {
                h.text(ofFile(f));
            }
            parts.put(name, h.hex());
            return this;
        }

        /** Every regular file under {@code dir}: relative names and identities, in name order. */
        public Builder tree(String name, Path dir) throws IOException {
            parts.put(name, ofTree(dir));
            return this;
        }

        /** A string's UTF-8 bytes. */
        public Builder text(String name, String text) {
            parts.put(name, hasher().text(text).hex());
            return this;
        }

        /** A part computed elsewhere (a {@link Hasher#hex()}, or another fingerprint's {@link #digest()}). */
        public Builder part(String name, String hash) {
            parts.put(name, Objects.requireNonNull(hash, name));
            return this;
        }

        public Fingerprint build() {
            return new Fingerprint(parts);
        }
    }

    /** Size and content hash of a file (sampled above {@value #FULL_HASH_LIMIT_MIB} MiB); see the class comment. */
    public static String ofFile(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            Hasher h = hasher();
            h.longs(size);
            if (size <= FULL_HASH_LIMIT) {
                read(ch, 0, size, h);
            } else {
                read(ch, 0, EDGE, h);
                long span = size - 2L * EDGE - BLOCK;
                for (int i = 0; i < SAMPLES; i++) {
                    read(ch, EDGE + span * i / (SAMPLES - 1), BLOCK, h);
                }
                read(ch, size - EDGE, EDGE, h);
            }
            return h.hex();
        }
    }

    /** Relative names and {@link #ofFile} identities of every regular file under {@code dir}, in name order. */
    public static String ofTree(Path dir) throws IOException {
        Hasher h = hasher();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
            h.text(dir.relativize(f).toString().replace('\\', '/')).text(ofFile(f));
        }
        return h.hex();
    }

    private static void read(FileChannel ch, long from, long length, Hasher h) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        long pos = from;
        long end = from + length;
        while (pos < end) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), end - pos));
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("file shrank while being read");
            }
            buf.flip();
            h.digest.update(buf);
            pos += n;
        }
    }

    /**
     * The canonical JSON text of a value: Jackson's tree of it with object keys sorted and integral numbers
     * written without a fraction ({@code 65536.0} and {@code 65536} are the same setting).
     */
    public static String canonicalJson(Object value) {
        JsonNode tree = value instanceof JsonNode n ? n : Json.MAPPER.valueToTree(value);
        try {
            return Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(canonical(tree));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode canonical(JsonNode n) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (n == null) {
            return f.nullNode();
        }
        if (n.isObject()) {
            ObjectNode out = f.objectNode();
            TreeMap<String, JsonNode> sorted = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                sorted.put(e.getKey(), canonical(e.getValue()));
            }
            out.setAll(sorted);
            return out;
        }
        if (n.isArray()) {
            ArrayNode out = f.arrayNode();
            n.forEach(x -> out.add(canonical(x)));
            return out;
        }
        if (n.isNumber()) {
            double d = n.doubleValue();
            if (n.isIntegralNumber() || (d == Math.rint(d) && Math.abs(d) < 1e15)) {
                return n.isBigInteger() ? n : f.numberNode(n.isIntegralNumber() ? n.longValue() : (long) d);
            }
            return f.numberNode(d);
        }
        return n;
    }

    /** A streaming SHA-256 over typed content, for parts computed from data in memory. */
    public static Hasher hasher() {
        return new Hasher();
    }

    /** SHA-256 over strings (length-prefixed, so concatenations cannot collide), ints, floats and longs. */
    public static final class Hasher {
        private final MessageDigest digest;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        private Hasher() {
            try {
                digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e); // every JDK has SHA-256
            }
        }

        public Hasher text(String s) {
            if (s == null) {
                return longs(-1);
            }
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            longs(b.length);
            digest.update(b);
            return this;
        }

        public Hasher ints(int... values) {
            longs(values.length);
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asIntBuffer().put(values);
            digest.update(b);
            return this;
        }

        public Hasher floats(float... values) {
            if (values == null) {
                return longs(-1);
            }
            longs(values.length);
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            digest.update(b);
            return this;
        }

        public Hasher longs(long... values) {
            for (long v : values) {
                scratch.clear();
                scratch.putLong(v);
                scratch.flip();
                digest.update(scratch);
            }
            return this;
        }

        /** The hash so far, as 64 hex digits (the hasher is spent afterwards). */
        public String hex() {
            return HexFormat.of().formatHex(digest.digest());
        }
    }
}
