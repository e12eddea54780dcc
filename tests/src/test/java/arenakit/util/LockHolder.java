package arenakit.util;

import java.nio.file.Path;

/** A second process for the lock tests: takes an output folder's lock, says so, and holds it until stdin closes. */
public final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        try (OutputLock lock = OutputLock.acquire(Path.of(args[0]), "test holder", s -> {})) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold until the test closes our stdin (or kills us)
            }
        }
    }
}
