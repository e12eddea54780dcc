package arenakit.cli;

import arenakit.util.ArenaHome;
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

    /** Runs a command; errors print as one clear message (the stack trace only with -Darena.debug=true). */
    static int execute(Object command, String... args) {
        ArenaHome.staleInstallWarning().ifPresent(System.err::println);
        CommandLine cli = new CommandLine(command);
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            if (Boolean.getBoolean("arena.debug")) {
                e.printStackTrace();
            }
            line.getErr().println("error: " + message(e));
            return 1;
        });
        return cli.execute(args);
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        for (Throwable c = e.getCause(); (m == null || m.isBlank()) && c != null; c = c.getCause()) {
            m = c.getMessage();
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
