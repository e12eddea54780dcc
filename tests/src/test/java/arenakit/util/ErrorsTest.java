package arenakit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Messages keep their file and reason: permission denied, no space left, read-only file systems. */
class ErrorsTest {
    @TempDir
    Path dir;

    @Test
    void fileSystemErrorsNameTheFileAndTheReason() {
        assertEquals("/data/train.csv: permission denied",
                Errors.message(new AccessDeniedException("/data/train.csv")));
        assertEquals("/out/x: No space left on device",
                Errors.message(new FileSystemException("/out/x", null, "No space left on device")));
        assertEquals("/data/train.csv: permission denied", Errors.message(new UncheckedIOException(
                new AccessDeniedException("/data/train.csv"))));
        assertEquals("/data/train.csv: permission denied", Errors.message(new ExecutionException(
                new AccessDeniedException("/data/train.csv"))));
        // a message that lost the reason gets it back from its cause
        assertEquals("cannot read the train file (/data/train.csv: permission denied)", Errors.message(
                new IOException("cannot read the train file", new AccessDeniedException("/data/train.csv"))));
        assertTrue(Errors.expected(new AccessDeniedException("x")));
        assertFalse(Errors.expected(new NullPointerException()));
        assertEquals("NullPointerException", Errors.message(new NullPointerException()));
    }

    /** A stream write's error has no path of its own; AtomicFiles names the target (simulated no-space). */
    @Test
    void aFailedAtomicWriteNamesItsTargetAndLeavesNoTempFile() throws Exception {
        Path target = dir.resolve("submission.csv");
        FileSystemException e = assertThrows(FileSystemException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[10]);
            throw new IOException("No space left on device");
        }));
        assertEquals(target + ": No space left on device", Errors.message(e));
        assertEquals(List.of(), list(dir), "no temp file left");
    }

    /** The real thing: a 1 MiB tmpfs (needs root and mount; skipped elsewhere). */
    @Test
    void noSpaceLeftOnARealDeviceNamesTheFile() throws Exception {
        Path mnt = Files.createDirectories(dir.resolve("tiny-disk"));
        assumeTrue(mount(mnt, "size=1m"), "cannot mount a tmpfs here (not root?)");
        try {
            Path target = mnt.resolve("checkpoint.bin");
            IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target,
                    out -> out.write(new byte[4 << 20])));
            assertEquals(target + ": No space left on device", Errors.message(e));
            assertEquals(List.of(), list(mnt), "the temp file is removed");
        } finally {
            umount(mnt);
        }
    }

    /** A folder that cannot be written: a read-only mount as root, a chmod'ed folder otherwise. */
    @Test
    void aReadOnlyFolderNamesTheFileAndTheReason() throws Exception {
        Path ro = Files.createDirectories(dir.resolve("read-only"));
        boolean mounted = mount(ro, "ro,size=1m");
        if (!mounted) {
            assumeTrue(!"root".equals(System.getProperty("user.name")), "root ignores permissions");
            ro.toFile().setWritable(false, false);
        }
        try {
            Path target = ro.resolve("stage.json");
            IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(target, "{}"));
            String m = Errors.message(e);
            assertTrue(m.startsWith(ro.toString()), m);
            assertTrue(m.endsWith("Read-only file system") || m.endsWith("permission denied"), m);
        } finally {
            if (mounted) {
                umount(ro);
            } else {
                ro.toFile().setWritable(true, false);
            }
        }
    }

    private static List<Path> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }

    static boolean mount(Path at, String options) {
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", at.toString())
                    .redirectErrorStream(true).start();
            return p.waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    static void umount(Path at) throws Exception {
        new ProcessBuilder("umount", at.toString()).redirectErrorStream(true).start().waitFor();
    }
}
