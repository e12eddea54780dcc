package arenakit.infer;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A SHA-256 over what determines a result, to key resumable state by it (prediction chunks): the same inputs give
 * the same hex string, any change another one. Parts are length-prefixed, so ("ab", "c") and ("a", "bc") differ.
 *
 * <p>Files up to {@link #FULL_HASH_LIMIT} are hashed whole (configs, tokenizers, adapters of small models); larger
 * ones (a 9B checkpoint's shards) by their size, their first and last MiB (a safetensors header lists every
 * tensor's name, dtype, shape and offset) and 16 blocks of 64 KiB spread evenly: a different fine-tune of the same
 * shapes changes the bytes everywhere, so it changes the samples, and reading 3 MiB per shard keeps a start on
 * Kaggle's disks in seconds. File times are left out (a copy, e.g. a Kaggle dataset, keeps the fingerprint).
 */
public final class Fingerprint {
    static final long FULL_HASH_LIMIT = 64L << 20;
    private static final int EDGE = 1 << 20;
    private static final int BLOCK = 64 << 10;
    private static final int BLOCKS = 16;
    private final MessageDigest digest;

    public Fingerprint() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Fingerprint add(String part) {
        byte[] b = (part == null ? "\u0000null" : part).getBytes(StandardCharsets.UTF_8);
        digest.update(ByteBuffer.allocate(4).putInt(b.length).array());
        digest.update(b);
        return this;
    }

    public Fingerprint add(long value) {
        return add(Long.toString(value));
    }

    public Fingerprint add(int[] ids) {
        ByteBuffer buf = ByteBuffer.allocate(4 * (ids.length + 1)).putInt(ids.length);
        for (int id : ids) {
            buf.putInt(id);
        }
        digest.update(buf.array());
        return this;
    }

    /** A file or every file under a folder (relative names in sorted order, sizes and contents). */
    public Fingerprint addFiles(Path path) throws IOException {
        if (Files.isRegularFile(path)) {
            return addFile(path.getFileName().toString(), path);
        }
        if (!Files.isDirectory(path)) {
            throw new IOException(path + " does not exist (it is part of a model this stage predicts with)");
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(path)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
            addFile(path.relativize(f).toString(), f);
        }
        return this;
    }

    private Fingerprint addFile(String name, Path file) throws IOException {
        long size = Files.size(file);
        add(name).add(size);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (size <= FULL_HASH_LIMIT) {
                read(ch, 0, size);
            } else {
                read(ch, 0, EDGE);
                read(ch, size - EDGE, EDGE);
                long step = (size - BLOCK) / (BLOCKS - 1);
                for (int i = 0; i < BLOCKS; i++) {
                    read(ch, i * step, BLOCK);
                }
            }
        }
        return this;
    }

    private void read(FileChannel ch, long from, long length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        long pos = from;
        long end = from + length;
        while (pos < end) {
            buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
            int n = ch.read(buf, pos);
            if (n < 0) {
                break;
            }
            buf.flip();
            digest.update(buf);
            pos += n;
        }
    }

    /** The hex digest (the object is spent afterwards). */
    public String hex() {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** A row's key: its id and the text a model reads (prompts and responses of every turn, nulls kept apart). */
    public static String row(Conversation c) {
        Fingerprint f = new Fingerprint().add(c.id()).add(c.turns().size());
        for (Turn t : c.turns()) {
            f.add(t.prompt()).add(t.responseA()).add(t.responseB());
        }
        return f.hex().substring(0, 24);
    }
}
