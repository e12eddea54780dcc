package arenakit.util;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes that either fully happen or not at all: write a sibling temp file, then rename over the target.
 * Used for checkpoints, submissions and reports so an interrupted job never leaves a half-written file that a
 * resume (or Kaggle) would read.
 */
public final class AtomicFiles {
    private static final String TEMP_INFIX = ".";
    private static final String TEMP_SUFFIX = ".tmp";

    private AtomicFiles() {}

    /** Something that writes the content to a stream. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} through a sibling temp file ({@code .<name>.<random>.tmp}, removed on failure; a killed
     * run's leftovers are removed by the next run, see {@link OutputLock}). A failure of the file system ("No
     * space left on device", permission denied) is reported as a {@link FileSystemException} naming the target.
     */
    public static void write(Path target, Writer writer) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + TEMP_INFIX, TEMP_SUFFIX);
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                writer.write(out);
            } catch (FileSystemException e) {
                throw e;
            } catch (IOException e) {
                // a stream's write error has no path: "No space left on device"
                FileSystemException named = new FileSystemException(target.toString(), null, e.getMessage());
                named.initCause(e);
                throw named;
            }
            // createTempFile makes owner-only files; results are meant to be read by others (Kaggle, a team)
            if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Copies {@code source} to {@code target} atomically (a reader sees the old file or the whole new one). */
    public static void copy(Path source, Path target) throws IOException {
        write(target, out -> Files.copy(source, out));
    }

    /** Whether a file name is one of this class's temp files (a leftover when no write is running). */
    public static boolean isTemp(String fileName) {
        return fileName.startsWith(".") && fileName.endsWith(TEMP_SUFFIX) && fileName.contains(TEMP_INFIX);
    }

    public static void writeString(Path target, String text) throws IOException {
        write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }
}
