package arenakit.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One writer per output folder: who holds it, stale locks, another machine's lock, kill leftovers. */
class OutputLockTest {
    @TempDir
    Path dir;

    @Test
    void aSecondRunInAnotherProcessStopsAtOnceAndSaysWhoHoldsTheFolder() throws Exception {
        Path out = dir.resolve("out");
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LockHolder.class.getName(), out.toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null && !line.equals("locked")) {
                // JVM noise (JAVA_TOOL_OPTIONS)
            }
            assertEquals("locked", line);
            long start = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> OutputLock.acquire(out, "second", s -> {}));
            assertTrue((System.nanoTime() - start) / 1e9 < 5, "it does not wait");
            assertTrue(e.getMessage().contains(out + " is in use by another run: pid " + holder.pid() + " on host "
                    + OutputLock.host() + " since "), e.getMessage());
            assertTrue(e.getMessage().contains("(test holder)"), e.getMessage());

            holder.destroyForcibly(); // kill -9: the holder's details stay in the file
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
            List<String> log = new ArrayList<>();
            try (OutputLock lock = OutputLock.acquire(out, "third", log::add)) {
                assertEquals(1, log.size(), log.toString());
                assertTrue(log.get(0).startsWith("reclaimed the lock of an earlier run that is no longer running (pid "
                        + holder.pid()), log.get(0));
                assertEquals(ProcessHandle.current().pid(), OutputLock.holder(out).orElseThrow().pid());
            }
            assertTrue(OutputLock.holder(out).isEmpty(), "released: the lock file is emptied");
        } finally {
            holder.destroyForcibly();
        }
    }

    @Test
    void theSameFolderTwiceInOneProcessIsRefused() throws Exception {
        try (OutputLock first = OutputLock.acquire(dir, "first", s -> {})) {
            IOException e = assertThrows(IOException.class, () -> OutputLock.acquire(dir, "second", s -> {}));
            assertTrue(e.getMessage().contains("is in use by another run in this process"), e.getMessage());
        }
        OutputLock.acquire(dir, "again", s -> {}).close(); // free after close
    }

    @Test
    void aLockOfAnotherMachineIsNotTakenOver() throws Exception {
        Files.writeString(dir.resolve(OutputLock.FILE), "{\"pid\": 12, \"host\": \"gpu-box-7\", \"started\": "
                + "\"2025-01-31T10:15:00Z\", \"command\": \"pipeline\"}\n");
        IOException e = assertThrows(IOException.class, () -> OutputLock.acquire(dir, "here", s -> {}));
        assertTrue(e.getMessage().contains("names a run on another machine (pid 12 on host gpu-box-7 since "
                + "2025-01-31T10:15:00Z (pipeline))"), e.getMessage());
        assertTrue(e.getMessage().contains("If that run is over, delete " + dir.resolve(OutputLock.FILE)),
                e.getMessage());
    }

    @Test
    void aStaleLockOfADeadProcessIsReclaimedWithALogLine() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(dir.resolve(OutputLock.FILE), "{\"pid\": " + gone.pid() + ", \"host\": \""
                + OutputLock.host() + "\", \"started\": \"2025-01-31T10:15:00Z\", \"command\": \"train\"}\n");
        List<String> log = new ArrayList<>();
        OutputLock.acquire(dir, "now", log::add).close();
        assertEquals(List.of("reclaimed the lock of an earlier run that is no longer running (pid " + gone.pid()
                + " on host " + OutputLock.host() + " since 2025-01-31T10:15:00Z (train)): "
                + dir.resolve(OutputLock.FILE)), log);
    }

    /** What kill -9 leaves: AtomicFiles temp files and a half-written checkpoint folder; the next start removes them. */
    @Test
    void killLeftoversAreRemovedAtTheNextStart() throws Exception {
        Path stage = Files.createDirectories(dir.resolve("stage1"));
        Path tmp = Files.writeString(stage.resolve(".summary.json.8412.tmp"), "{\"half");
        Path step = Files.createDirectories(stage.resolve("checkpoints").resolve(".step-000040.1234"));
        Files.writeString(step.resolve("trainable.ndlist"), "partial");
        Path keep = Files.writeString(stage.resolve("metrics.json"), "{}");
        Path keepDot = Files.writeString(stage.resolve(".gitignore"), "*");
        List<String> log = new ArrayList<>();
        OutputLock.acquire(dir, "resume", log::add).close();
        assertFalse(Files.exists(tmp));
        assertFalse(Files.exists(step));
        assertTrue(Files.exists(keep) && Files.exists(keepDot));
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).startsWith("removed 2 leftover(s) of an interrupted run: "), log.get(0));
    }
}
