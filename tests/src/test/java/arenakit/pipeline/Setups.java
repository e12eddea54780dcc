package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Copies of a shipped setup with edits, for the fault tests: each edit must find its text (no silent no-op). */
final class Setups {
    private Setups() {}

    /** One literal replacement in one file of the setup. */
    record Edit(String file, String from, String to) {}

    /** {@code setup} (a shipped name) copied into {@code dir}, with {@code edits} applied. */
    static Path copy(Path dir, String setup, Edit... edits) throws IOException {
        ConfigFolder.of(setup).copyTo(dir); // pipeline.json and every stage file (the smoke setup's llama_stage1 too)
        for (Edit e : edits) {
            Path f = dir.resolve(e.file());
            String text = Files.exists(f) ? Files.readString(f) : "";
            if (e.from().isEmpty()) {
                Files.writeString(f, e.to());
                continue;
            }
            assertTrue(text.contains(e.from()), e.file() + " has no '" + e.from() + "'");
            Files.writeString(f, text.replace(e.from(), e.to()));
        }
        return dir;
    }

    static Edit edit(String file, String from, String to) {
        return new Edit(file, from, to);
    }
}
