package arenakit.cli;

import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.Pipeline;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options every stage command shares (a picocli mixin): which setup, and the output folder of its stages.
 * Their order (below picocli's default -1) lists them first in --help.
 */
final class SetupOptions {
    @Option(names = "--config", defaultValue = "tiny", paramLabel = "FOLDER|NAME", order = -3,
            description = "config folder, or a bundled setup: tiny, smoke, gemma2-9b, llama3-8b "
                    + "(default: ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--out", defaultValue = "out/pipeline", paramLabel = "DIR", order = -2,
            description = "output folder shared by the stages (default: ${DEFAULT-VALUE})")
    Path out;

    /** Reads and validates the setup; log lines go to stdout. */
    Pipeline open() {
        return Pipeline.open(ConfigFolder.of(config), out, Cli.log());
    }
}
