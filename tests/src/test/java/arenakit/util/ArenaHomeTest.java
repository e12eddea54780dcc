package arenakit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warning a script prints when the installed library is older than the checkout it runs in, and what a missing
 * cache file's message says to do.
 */
class ArenaHomeTest {
    @TempDir
    Path tmp;

    @Test
    void warnsOnlyWhenLibrarySourcesChangedAfterTheInstalledJarWasBuilt() throws Exception {
        Path home = tmp.resolve("checkout");
        Path source = home.resolve("lib/src/main/java/arenakit/X.java");
        Path config = home.resolve("configs/tiny/stage1.json");
        Files.createDirectories(source.getParent());
        Files.createDirectories(config.getParent());
        Files.writeString(source, "class X {}");
        Files.writeString(config, "{}");
        Path jar = Files.createDirectories(tmp.resolve("m2")).resolve("arena-kit-lib.jar");
        Files.writeString(jar, "jar");
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        Files.setLastModifiedTime(source, FileTime.from(t));
        Files.setLastModifiedTime(config, FileTime.from(t));
        Files.setLastModifiedTime(jar, FileTime.from(t.plusSeconds(60)));
        assertEquals(Optional.empty(), ArenaHome.staleInstallWarning(home, jar));

        // configs are read from the checkout itself, so editing one does not make the jar stale
        Files.setLastModifiedTime(config, FileTime.from(t.plusSeconds(120)));
        assertEquals(Optional.empty(), ArenaHome.staleInstallWarning(home, jar));

        Files.setLastModifiedTime(source, FileTime.from(t.plusSeconds(120)));
        Optional<String> warning = ArenaHome.staleInstallWarning(home, jar);
        assertTrue(warning.isPresent() && warning.get().contains("X.java")
                && warning.get().contains("bash environment/setup.sh"), warning.toString());

        // setup.sh found the install current after that edit (same content): its stamp is newer
        Path stamp = Files.createDirectories(home.resolve(".cache")).resolve("mvn-install.stamp");
        Files.writeString(stamp, "sum");
        Files.setLastModifiedTime(stamp, FileTime.from(t.plusSeconds(180)));
        assertEquals(Optional.empty(), ArenaHome.staleInstallWarning(home, jar));

        // Classes built inside the checkout (mvn, tests) are never stale; nor is a bundle without sources.
        Path built = home.resolve("lib/target/arena-kit-lib.jar");
        Files.createDirectories(built.getParent());
        Files.writeString(built, "jar");
        Files.setLastModifiedTime(built, FileTime.from(t));
        assertEquals(Optional.empty(), ArenaHome.staleInstallWarning(home, built));
        assertEquals(Optional.empty(), ArenaHome.staleInstallWarning(tmp.resolve("bundle"), jar));
    }

    @Test
    void aMissingCacheFileSaysWhatToRunOrWhatToSet() {
        Path file = tmp.resolve("somewhere/.cache/tokenizers/gemma/tokenizer.json");
        String found = ArenaHome.missing("the Gemma tokenizer", file, Optional.of(tmp.resolve("checkout")));
        assertTrue(found.contains("run bash " + tmp.resolve("checkout/environment/setup.sh")), found);
        String none = ArenaHome.missing("the Gemma tokenizer", file, Optional.empty());
        assertTrue(none.contains("set ARENA_KIT_HOME (or -Darena.home) to your arena-kit checkout")
                && none.contains("no arena-kit checkout was found"), none);
    }
}
