package arenakit.cli;

import arenakit.util.Logging;
import picocli.CommandLine.Option;

/**
 * {@code --verbose}, on every command (a picocli mixin that {@link Cli#execute} adds to each one): the libraries'
 * info lines (DJL's engine and thread set-up, native libraries unpacked) and an error's stack trace. Read it
 * anywhere through {@link Logging#isVerbose()}, which is also true for {@code ARENA_LOG=info} (or debug, trace).
 */
final class VerboseOption {
    @Option(names = "--verbose", order = 100,
            description = "show more: the libraries' info log lines (DJL, PyTorch, tokenizers) and the stack trace of "
                    + "an error (like ARENA_LOG=info; ARENA_LOG=debug shows even more)")
    void verbose(boolean on) {
        if (on) {
            Logging.verbose();
        }
    }
}
