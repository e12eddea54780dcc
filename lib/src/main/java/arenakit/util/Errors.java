package arenakit.util;

import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.ReadOnlyFileSystemException;
import java.util.Locale;

/**
 * Error messages that keep their cause. The JDK's file errors carry the path and the reason in separate fields
 * ({@code AccessDeniedException.getMessage()} is the bare path), so printing {@code getMessage()} loses "permission
 * denied"; these helpers put the file and the reason back together, and say when a failure is a bug rather than bad
 * input.
 */
public final class Errors {
    private Errors() {}

    /** An exception whose message fully explains a problem of the input or environment (no stack trace needed). */
    public interface Explained {}

    /**
     * The failure inside the wrappers that only say "it failed elsewhere": {@link UncheckedIOException}, and the
     * wrappers of work done on other threads ({@code ExecutionException}, {@code CompletionException}).
     */
    public static Throwable unwrap(Throwable e) {
        while (e.getCause() != null && e.getCause() != e && (e instanceof UncheckedIOException
                || e instanceof java.util.concurrent.ExecutionException
                || e instanceof java.util.concurrent.CompletionException
                || e instanceof java.lang.reflect.InvocationTargetException)) {
            e = e.getCause();
        }
        return e;
    }

    /** The reason of a failure in words ("permission denied", "No space left on device"), without its file. */
    public static String reason(Throwable e) {
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            return reason(u.getCause());
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "it already exists";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "the folder is not empty";
        }
        if (e instanceof NotDirectoryException) {
            return "not a folder";
        }
        if (e instanceof ReadOnlyFileSystemException) {
            return "read-only file system";
        }
        if (e instanceof FileSystemException fs) {
            return fs.getReason() != null ? fs.getReason() : "file system error";
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /**
     * What a user should read: the message with its file and reason. File-system errors become
     * {@code <file>: <reason>}; a message that leaves out the reason of a file-system cause gets it appended; an
     * exception without a message shows its type (and its cause's message).
     */
    public static String message(Throwable e) {
        e = unwrap(e);
        if (e instanceof FileSystemException fs) {
            String file = fs.getFile();
            return (file == null ? "" : file + (fs.getOtherFile() == null ? "" : " -> " + fs.getOtherFile()) + ": ")
                    + reason(fs);
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            Throwable c = e.getCause();
            return e.getClass().getSimpleName() + (c == null || c == e ? "" : ": " + message(c));
        }
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c instanceof FileSystemException) {
                String inner = message(c);
                String why = reason(c).toLowerCase(Locale.ROOT);
                if (!m.toLowerCase(Locale.ROOT).contains(why)) {
                    return m + " (" + inner + ")";
                }
                break;
            }
        }
        return m;
    }

    /**
     * True when a failure is bad input or a faulty environment the message explains (config, data, file and
     * device errors), false for what can only be a bug (a NullPointerException, an index out of bounds, ...).
     */
    public static boolean expected(Throwable e) {
        e = unwrap(e);
        return e instanceof Explained || e instanceof java.io.IOException || e instanceof UncheckedIOException
                || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof UnsupportedOperationException
                || e.getClass().getName().startsWith("ai.djl.engine.EngineException");
    }
}
