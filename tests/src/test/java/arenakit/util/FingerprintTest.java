package arenakit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FingerprintTest {
    @TempDir
    Path dir;

    record Settings(double lr, int steps, List<String> names) {}

    @Test
    void canonicalJsonIgnoresKeyOrderAndNumberSpelling() throws Exception {
        var a = Json.MAPPER.readTree("{\"b\": 65536, \"a\": [1, 2.5]}");
        var b = Json.MAPPER.readTree("{\"a\": [1.0, 2.5], \"b\": 65536.0}");
        assertEquals(Fingerprint.canonicalJson(a), Fingerprint.canonicalJson(b));
        assertEquals(Fingerprint.builder().json("c", a).build(), Fingerprint.builder().json("c", b).build());
        assertNotEquals(Fingerprint.builder().json("c", new Settings(1e-3, 4, List.of("x"))).build(),
                Fingerprint.builder().json("c", new Settings(1e-3, 5, List.of("x"))).build());
    }

    @Test
    void aFileIsItsContentNotItsNameOrTime() throws Exception {
        Path f = Files.writeString(dir.resolve("a.csv"), "id,x\n1,2\n");
        String id = Fingerprint.ofFile(f);
        Path copy = Files.copy(f, dir.resolve("b.csv"));
        Files.setLastModifiedTime(copy, FileTime.fromMillis(0));
        assertEquals(id, Fingerprint.ofFile(copy));
        Files.writeString(copy, "id,x\n1,3\n");
        assertNotEquals(id, Fingerprint.ofFile(copy));
    }

    /** Above the full-hash limit the head, the tail and evenly spread blocks are hashed, with the size. */
    @Test
    void aLargeFileIsSampled() throws Exception {
        Path big = dir.resolve("big.safetensors");
        long size = (Fingerprint.FULL_HASH_LIMIT_MIB + 8) * 1024L * 1024L;
        try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
            raf.setLength(size); // sparse: instant
        }
        String id = Fingerprint.ofFile(big);
        try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
            raf.seek(size - 10);
            raf.write(1);
        }
        String tail = Fingerprint.ofFile(big);
        assertNotEquals(id, tail);
        try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
            raf.setLength(size + 1);
        }
        assertNotEquals(tail, Fingerprint.ofFile(big));
    }

    @Test
    void differencesNameTheChangedParts() throws Exception {
        Path d = Files.createDirectories(dir.resolve("adapter"));
        Files.writeString(d.resolve("adapter_config.json"), "{}");
        Fingerprint a = Fingerprint.builder().json("config", Map.of("lr", 1)).tree("init", d).text("data", "x")
                .build();
        Fingerprint b = Fingerprint.builder().json("config", Map.of("lr", 1)).tree("init", d).text("data", "y")
                .part("extra", "00").build();
        assertEquals(List.of("data", "extra"), a.differences(b));
        assertEquals(List.of(), a.differences(Json.MAPPER.readValue(Json.MAPPER.writeValueAsString(a),
                Fingerprint.class)));
        assertEquals(64, a.digest().length());
    }
}
