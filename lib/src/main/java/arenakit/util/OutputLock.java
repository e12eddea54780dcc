package arenakit.util;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One writer per output folder. A run takes {@code <out>/.arena-kit.lock} for its whole duration: an OS file lock
 * (released by the kernel however the process ends) plus the holder's pid, host, start time and command as JSON
 * inside, so a second run into the same folder stops at once and says who holds it:
 * <pre>{"pid": 4242, "host": "gpu-box", "started": "2025-01-31T10:15:00Z", "command": "pipeline --config tiny"}</pre>
 * A lock file with a holder whose pid no longer runs on this host (a run killed with -9) is reclaimed with a log
 * line. The file stays in the folder, emptied, when its holder ends normally (deleting it would let two later runs
 * lock two different files). Taking the lock also removes what killed runs leave behind: {@link AtomicFiles}' temp
 * files ({@code .<name>.<random>.tmp}) and unfinished checkpoint folders ({@code checkpoints/.step-*}).
 */
public final class OutputLock implements AutoCloseable {
    public static final String FILE = ".arena-kit.lock";
    /** Folders this process holds (a second Pipeline in the same JVM must not write into one either). */
    private static final Map<Path, String> HELD = new ConcurrentHashMap<>();

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    /** Who holds a lock, as written in the lock file. */
    public record Holder(long pid, String host, String started, String command) {
        @Override
        public String toString() {
            return "pid " + pid + " on host " + host + " since " + started + (command == null || command.isBlank()
                    ? "" : " (" + command + ")");
        }
    }

    @Override
    public String toString() {
        return "pid " + ProcessHandle.current().pid() + ", " + dir;
    }

    private OutputLock(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code dir} (created if needed) or fails at once with an {@link IOException} naming the
     * holder; then removes kill leftovers, logging what it removed.
     *
     * @param command what this run is, for the message a second run prints
     */
    public static OutputLock acquire(Path dir, String command, Consumer<String> log) throws IOException {
        Path folder = dir.toAbsolutePath().normalize();
        Files.createDirectories(folder);
        Path file = folder.resolve(FILE);
        String mine = HELD.get(folder);
        if (mine != null) {
            throw new IOException(folder + " is in use by another run in this process (" + mine + "); one run "
                    + "per output folder: wait for it to finish or choose another --out");
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        OutputLock held;
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            Optional<Holder> previous = read(ch);
            if (lock == null) {
                throw new IOException(folder + " is in use by another run: " + previous.map(Holder::toString)
                        .orElse("a process that has not written its details yet") + ". One run per output folder: "
                        + "wait for it to finish, or choose another --out");
            }
            held = new OutputLock(folder, ch, lock);
            Holder me = new Holder(ProcessHandle.current().pid(), host(),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), command);
            if (previous.isPresent()) {
                Holder old = previous.get();
                if (!old.host().equals(me.host())) {
                    throw new IOException(file + " names a run on another machine (" + old + "), which this machine "
                            + "cannot check. If that run is over, delete " + file + "; else choose another --out");
                }
                if (runningJava(old.pid())) { // a file system whose locks do nothing: trust the pid
                    throw new IOException(folder + " is in use by another run: " + old + ", which is still running."
                            + " One run per output folder: wait for it to finish, or choose another --out");
                }
                log.accept("reclaimed the lock of an earlier run that is no longer running (" + old + "): " + file);
            }
            write(ch, me);
        } catch (IOException | RuntimeException e) {
            ch.close(); // releases the lock too
            throw e;
        }
        HELD.put(folder, held.toString());
        try {
            removeLeftovers(folder, log);
        } catch (IOException | RuntimeException e) {
            held.close();
            throw e;
        }
        return held;
    }

    private static boolean runningJava(long pid) {
        if (pid <= 0 || pid == ProcessHandle.current().pid()) {
            return false;
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .flatMap(h -> h.info().command()).map(c -> c.endsWith("java")).orElse(false);
    }

    /** The current holder of {@code dir}'s lock file, if one is written there (a running or a killed run). */
    public static Optional<Holder> holder(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ch);
        }
    }

    private static Optional<Holder> read(FileChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(ch.size(), 64 * 1024));
        ch.read(buf, 0);
        String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).trim();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            JsonNode n = Json.MAPPER.readTree(text);
            return Optional.of(new Holder(n.path("pid").asLong(-1), n.path("host").asText("?"),
                    n.path("started").asText("?"), n.path("command").asText("")));
        } catch (IOException e) {
            return Optional.of(new Holder(-1, "?", "?", "unreadable lock file"));
        }
    }

    private static void write(FileChannel ch, Holder h) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", h.pid());
        m.put("host", h.host());
        m.put("started", h.started());
        m.put("command", h.command());
        byte[] bytes = (Json.MAPPER.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(bytes), 0);
        ch.force(true);
    }

    /** This machine's name: $HOSTNAME, /etc/hostname, or what the resolver says. */
    static String host() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            Path etc = Path.of("/etc/hostname");
            if (Files.isRegularFile(etc)) {
                String s = Files.readString(etc).trim();
                if (!s.isEmpty()) {
                    return s;
                }
            }
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /**
     * Removes {@link AtomicFiles} temp files and unfinished checkpoint folders ({@code .step-*} under a
     * {@code checkpoints} folder) under {@code dir}: while the lock is held no other run writes there, so they can
     * only be what a killed run left.
     */
    static List<Path> removeLeftovers(Path dir, Consumer<String> log) throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(p -> !p.equals(dir)).forEach(p -> {
                String name = p.getFileName().toString();
                boolean stepDir = name.startsWith(".step-") && p.getParent().getFileName() != null
                        && p.getParent().getFileName().toString().equals("checkpoints") && Files.isDirectory(p);
                if (stepDir || (AtomicFiles.isTemp(name) && Files.isRegularFile(p))) {
                    found.add(p);
                }
            });
        }
        for (Path p : found) {
            Folders.deleteTree(p);
        }
        if (!found.isEmpty()) {
            log.accept("removed " + found.size() + " leftover(s) of an interrupted run: " + found.stream()
                    .map(p -> dir.relativize(p).toString()).limit(5).toList() + (found.size() > 5 ? " ..." : ""));
        }
        return found;
    }

    /** The folder this lock holds. */
    public Path dir() {
        return dir;
    }

    /** Releases the lock and empties the lock file (it stays: see the class comment). */
    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                channel.truncate(0);
                lock.release();
            }
        } finally {
            HELD.remove(dir);
            channel.close();
        }
    }
}
