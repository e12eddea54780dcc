package arenakit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTest {
    record Point(int x, int y) {}

    @TempDir
    Path dir;

    @Test
    void writesAndReadsBack() throws IOException {
        Path file = dir.resolve("sub").resolve("p.json");
        Json.write(file, new Point(1, 2));
        assertEquals(new Point(1, 2), Json.read(file, Point.class));
        assertTrue(Files.readString(file).contains("\n"), "pretty output");
    }

    @Test
    void badContentNamesTheFile() throws IOException {
        Path typo = Files.writeString(dir.resolve("typo.json"), "{\n  \"x\": 1,\n  \"z\": 2\n}\n");
        IOException e = assertThrows(IOException.class, () -> Json.read(typo, Point.class));
        assertEquals(typo + ": unknown field 'z' (known: x, y)\n" + typo + ": missing field 'y' (an integer)",
                e.getMessage());

        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"x\": 1,");
        IOException b = assertThrows(IOException.class, () -> Json.read(broken, Point.class));
        assertTrue(b.getMessage().startsWith(broken + ": line 1 column "), b.getMessage());
        assertTrue(!b.getMessage().contains("REDACTED"), b.getMessage());
    }
}
