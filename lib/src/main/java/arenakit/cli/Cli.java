package arenakit.cli;

import arenakit.util.ArenaHome;
import arenakit.util.BuildInfo;
import arenakit.util.Logging;
import java.io.PrintStream;
import java.util.function.Consumer;
import picocli.CommandLine;

/** What the commands share: how they run and where their log lines go. */
final class Cli {
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
     * Runs a command; errors print as one clear message (the stack trace only with --verbose, ARENA_LOG=info or
     * -Darena.debug=true). Every command gets {@code --verbose} ({@link VerboseOption}) and a {@code -V} that prints
     * the version.
     */
    static int execute(Object command, String... args) {
        try {
            Logging.configure(); // before any library logs: quiet unless --verbose or ARENA_LOG ask for more
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
            if (Logging.isVerbose() || Boolean.getBoolean("arena.debug")) {
                e.printStackTrace();
            }
            line.getErr().println("error: " + message(e));
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

    private static String message(Throwable e) {
        String m = e.getMessage();
        for (Throwable c = e.getCause(); (m == null || m.isBlank()) && c != null; c = c.getCause()) {
            m = c.getMessage();
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
