package arenakit.kernel;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.kernel.KernelConnectionProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts the kernel for Jupyter: {@code java -jar arena-kit-kernel.jar <connection-file>} (the kernelspec's argv;
 * Jupyter replaces {@code {connection_file}}). The session (JShell's imports, IJava's runtime API) is the same as
 * IJava's; see {@link ArenaKernel}.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1 || !Files.isRegularFile(Path.of(args[0]))) {
            System.err.println("usage: java -jar arena-kit-kernel.jar <jupyter connection file>");
            System.exit(2);
        }
        // basekernel logs every socket loop start and stop at INFO into the Jupyter server's log
        Logger.getLogger("").setLevel(Level.WARNING);
        quietLibraries();
        KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(Path.of(args[0])));
        JupyterConnection connection = new JupyterConnection(props);
        ArenaKernel kernel = new ArenaKernel();
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        // threads a notebook started (pools, timers) must not keep a closed kernel alive
        System.exit(0);
    }

    /**
     * If a notebook adds slf4j-simple (DJL logs through slf4j), it shows warnings, not DJL's INFO chatter, unless
     * {@code ARENA_LOG} (or {@code -Darena.log}) asks for another level: error, warn, info, debug, trace. The
     * library's arenakit.util.Logging applies the same setting (and its GPU-less rule) when notebook code calls it.
     * The names are assembled at run time because shading rewrites "org.slf4j..." string constants.
     */
    static void quietLibraries() {
        String prefix = String.join(".", "org", "slf4j", "simpleLogger") + ".";
        String level = System.getProperty("arena.log", System.getenv().getOrDefault("ARENA_LOG", "warn"));
        if (!level.strip().toLowerCase(java.util.Locale.ROOT).matches("error|warn|info|debug|trace")) {
            System.err.println("ARENA_LOG=" + level + " is not a log level (error, warn, info, debug, trace): "
                    + "using warn");
            level = "warn";
        }
        if (System.getProperty(prefix + "defaultLogLevel") == null) {
            System.setProperty(prefix + "defaultLogLevel", level.strip().toLowerCase(java.util.Locale.ROOT));
        }
        if (System.getProperty(prefix + "showThreadName") == null) {
            System.setProperty(prefix + "showThreadName", "false");
        }
    }
}
