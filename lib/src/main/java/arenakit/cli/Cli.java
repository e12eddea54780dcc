package arenakit.cli;

import arenakit.util.ArenaHome;
import arenakit.util.BuildInfo;
import arenakit.util.Errors;
import arenakit.util.Logging;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.function.Consumer;
import picocli.CommandLine;

/** What the commands share: how they run and where their log lines go. */
final class Cli {
    /** Shows the stack trace of a failure (every command has it). */
    static final String VERBOSE = "--verbose";

    private Cli() {}

    /** Log lines on stdout (progress bars draw on stderr, so the two do not fight over one line). */
    static Consumer<String> log() {
        PrintStream out = System.out;
        return line -> {
            synchronized (out) {
                out.println(line);
            }
        };
    }

    /**
     * Runs a command. A failure prints as one message that keeps its cause (the file and the reason: "permission
     * denied", "No space left on device", the config key and what was expected), exit code 1; the stack trace only
     * with {@code --verbose} (or ARENA_LOG=info, or {@code -Darena.debug=true}). A failure that can only be a bug
     * says so. Every command gets {@code --verbose} ({@link VerboseOption}) and a {@code -V} that prints the version.
     */
    static int execute(Object command, String... args) {
        try {
            Logging.startCommand(); // before any library logs: quiet unless --verbose or ARENA_LOG ask for more
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        ArenaHome.staleInstallWarning().ifPresent(System.err::println);
        return commandLine(command).execute(args);
    }

    /** The command as {@link #execute} runs it: --verbose, -V and the error handler on it and its subcommands. */
    static CommandLine commandLine(Object command) {
        CommandLine cli = new CommandLine(command);
        everyCommand(cli);
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            boolean verbose = verbose(parsed);
            PrintWriter err = line.getErr();
            err.println("error: " + describe(e, verbose));
            if (verbose) {
                e.printStackTrace(err);
            } else if (!Errors.expected(e)) {
                err.println("This looks like a bug in arena-kit; please report it with the output of " + VERBOSE
                        + ".");
            }
            err.flush();
            return 1;
        });
        return cli;
    }

    /** --verbose and the version on a command and its subcommands. */
    private static void everyCommand(CommandLine cli) {
        cli.addMixin("verbose", new VerboseOption());
        cli.getCommandSpec().versionProvider(() -> new String[] {BuildInfo.get().describe(),
            "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "?") + ")"});
        cli.getSubcommands().values().forEach(Cli::everyCommand);
    }

    /**
     * The one switch the error handler reads: {@code --verbose} on the command that ran ({@link Logging#isVerbose},
     * which ARENA_LOG=info also sets), or -Darena.debug.
     */
    static boolean verbose(CommandLine.ParseResult parsed) {
        if (Logging.isVerbose()) {
            return true;
        }
        for (CommandLine.ParseResult r = parsed; r != null; r = r.subcommand()) {
            if (r.hasMatchedOption(VERBOSE) && Boolean.TRUE.equals(r.matchedOptionValue(VERBOSE, Boolean.FALSE))) {
                return true;
            }
        }
        return Boolean.getBoolean("arena.debug");
    }

    /** The message a user reads: with its file and reason; PyTorch's multi-line dumps cut to their first line. */
    static String describe(Throwable e, boolean verbose) {
        Throwable root = Errors.unwrap(e);
        String m = Errors.message(root);
        if (!verbose && isEngineError(root) && m.contains("\n")) {
            m = m.substring(0, m.indexOf('\n')).trim() + " (PyTorch's full message: " + VERBOSE + ")";
        }
        if (!Errors.expected(root)) {
            StackTraceElement[] at = root.getStackTrace();
            m = "internal error: " + root.getClass().getName() + (root.getMessage() == null ? "" : ": " + m)
                    + (at.length == 0 ? "" : " at " + at[0]);
        }
        return m;
    }

    private static boolean isEngineError(Throwable e) {
        for (Throwable c = e; c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getClass().getName().startsWith("ai.djl.engine.EngineException")) {
                return true;
            }
        }
        return false;
    }
}
