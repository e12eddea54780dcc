package arenakit.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory as Linux reports it ({@code /proc/self/status}), its peak reset on request, and
 * the machine's available memory: what the memory benchmarks measure and what the memory check plans a CPU
 * "device" against.
 *
 * <p>glibc keeps freed blocks below its (dynamic, up to 32 MiB) mmap threshold in its arenas, so after a pass
 * resident memory stays above what is live. {@link #exact} makes every allocation above 64 KiB its own mapping,
 * returned when freed, and gives back what the arenas hold, so that resident memory then tracks live memory (what
 * {@code MALLOC_MMAP_THRESHOLD_=65536} does from the start, about 15% slower on a CPU training step).
 */
public final class ProcessMemory {
    private ProcessMemory() {}

    private static final Path STATUS = Path.of("/proc/self/status");

    /** Resident set size in bytes, or -1 where /proc is not there. */
    public static long resident() {
        return status("VmRSS:");
    }

    /** Peak resident set size since the start or the last {@link #resetPeak}, in bytes (-1: unknown). */
    public static long peak() {
        return status("VmHWM:");
    }

    /** Resets {@link #peak} to the current resident size (Linux: {@code echo 5 > /proc/self/clear_refs}). */
    public static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Memory the machine can give without swapping ({@code MemAvailable}), in bytes; -1 when unknown. */
    public static long available() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return parseKb(line);
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getFreeMemorySize();
        }
        return -1;
    }

    /**
     * From now on glibc maps every allocation above 64 KiB on its own and unmaps it when freed, and it returns what
     * its arenas hold now: resident memory then tracks live memory. Returns false off glibc.
     */
    public static boolean exact() {
        try {
            com.sun.jna.NativeLibrary c = com.sun.jna.NativeLibrary.getInstance("c");
            c.getFunction("mallopt").invokeInt(new Object[] {-3, 65536}); // M_MMAP_THRESHOLD
            c.getFunction("malloc_trim").invokeInt(new Object[] {0});
            return true;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    private static long status(String key) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(key)) {
                    return parseKb(line);
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return -1;
    }

    private static long parseKb(String line) {
        String[] parts = line.trim().split("\\s+");
        return Long.parseLong(parts[1]) * 1024;
    }
}
