package arenakit.util;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How much the libraries under arena-kit (DJL, PyTorch, the tokenizers) log: quiet by default, more on request.
 *
 * <p>The level comes from {@code -Darena.log=LEVEL} or the environment variable {@code ARENA_LOG} (error, warn,
 * info, debug, trace; default warn), and every command's {@code --verbose} raises it to info ({@link #verbose()}).
 * It is applied to slf4j-simple, the logging backend that the jbang scripts, the notebooks and the Kaggle bundle
 * ship, through its system properties; properties the user set on the command line are left alone (with another
 * slf4j backend, configure that backend instead). The properties must be set before the first logger exists, so
 * {@link #configure()} runs first in every command and before DJL loads anything ({@link Engines}).
 *
 * <p>One warning is silenced on machines without an NVIDIA GPU: DJL's "Failed to detect GPU count: CUDA driver version
 * is insufficient" ({@code ai.djl.util.cuda.CudaUtils}), which a CUDA runtime library without a driver prints there
 * on every start. Where an NVIDIA device exists, that warning means a broken driver and stays visible; at debug level
 * it is never silenced.
 */
public final class Logging {
    /** Log levels, least detailed first. */
    public enum Level { ERROR, WARN, INFO, DEBUG, TRACE }

    public static final String PROPERTY = "arena.log";
    public static final String ENV = "ARENA_LOG";
    static final String SIMPLE = "org.slf4j.simpleLogger.";
    static final String DEFAULT_LEVEL = SIMPLE + "defaultLogLevel";
    static final String CUDA_UTILS = SIMPLE + "log.ai.djl.util.cuda.CudaUtils";

    private static Level level;
    private static boolean userSetDefault;
    private static boolean userSetCuda;

    private Logging() {}

    /** Applies the configured level (once; later calls only re-apply it). Call before anything logs. */
    public static synchronized void configure() {
        if (level == null) {
            userSetDefault = System.getProperty(DEFAULT_LEVEL) != null;
            userSetCuda = System.getProperty(CUDA_UTILS) != null;
            level = configured();
            if (System.getProperty(SIMPLE + "showThreadName") == null) {
                System.setProperty(SIMPLE + "showThreadName", "false"); // "[Thread-5]" says nothing to a user
            }
        }
        apply();
    }

    /**
     * A new command starts at the configured level again: a {@code --verbose} of an earlier command run in the same
     * JVM (tests, a notebook) must not make this one verbose.
     */
    public static synchronized void startCommand() {
        configure();
        level = configured();
        apply();
    }

    /** {@code --verbose}: at least info (DJL's start-up lines, stack traces of errors). */
    public static synchronized void verbose() {
        configure();
        if (level.compareTo(Level.INFO) < 0) {
            level = Level.INFO;
        }
        apply();
    }

    /** The level in effect. */
    public static synchronized Level level() {
        configure();
        return level;
    }

    /** Whether more than warnings was asked for (--verbose, or ARENA_LOG=info/debug/trace): show stack traces too. */
    public static boolean isVerbose() {
        return level().compareTo(Level.INFO) >= 0;
    }

    /** A level name (case-insensitive); an unknown name is an error that lists the valid ones. */
    public static Level parse(String name, String source) {
        try {
            return Level.valueOf(name.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + "=" + name + " is not a log level: use error, warn, info, "
                    + "debug or trace", e);
        }
    }

    private static Level configured() {
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) {
            return parse(prop, "-D" + PROPERTY);
        }
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return parse(env, ENV);
        }
        return Level.WARN;
    }

    private static void apply() {
        String name = level.name().toLowerCase(Locale.ROOT);
        if (!userSetDefault) {
            System.setProperty(DEFAULT_LEVEL, name);
        }
        if (!userSetCuda) {
            if (level.compareTo(Level.DEBUG) < 0 && !nvidiaGpuPresent()) {
                System.setProperty(CUDA_UTILS, "error");
            } else {
                System.clearProperty(CUDA_UTILS);
            }
        }
    }

    /**
     * Whether this machine has an NVIDIA GPU that CUDA could use: its device nodes or driver on Linux; never on
     * macOS; assumed on other systems (the warning then stays). {@code CUDA_VISIBLE_DEVICES} set to nothing or -1
     * hides every GPU.
     */
    public static boolean nvidiaGpuPresent() {
        String visible = System.getenv("CUDA_VISIBLE_DEVICES");
        if (visible != null && (visible.isBlank() || visible.strip().equals("-1"))) {
            return false;
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.contains("mac")) {
            return false;
        }
        if (os.contains("linux")) {
            return Files.exists(Path.of("/dev/nvidiactl")) || Files.exists(Path.of("/dev/nvidia0"))
                    || Files.isDirectory(Path.of("/proc/driver/nvidia"));
        }
        return true;
    }
}
