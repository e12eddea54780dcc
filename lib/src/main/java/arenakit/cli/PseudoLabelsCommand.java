package arenakit.cli;

import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The pseudo-label stage of a setup. */
@Command(name = "pseudo-labels", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the trained stage(s) named in <config>/pseudo_labels.json over the unlabeled pairs and "
                + "writes <out>/pseudo_labels/pseudo_labels.csv (id, 3 probabilities, 3 logits), chunk by chunk: an "
                + "interrupted run continues with the first missing chunk."})
public final class PseudoLabelsCommand implements Callable<Integer> {
    @Option(names = "--config", defaultValue = "tiny", paramLabel = "FOLDER|NAME",
            description = "config folder, or a bundled setup: tiny, smoke, gemma2-9b (default: ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--stage", defaultValue = "pseudo_labels", description = "stage name (default: ${DEFAULT-VALUE})")
    String stage;

    @Option(names = "--out", defaultValue = "out/pipeline", paramLabel = "DIR",
            description = "output folder shared by the stages (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (Pipeline pipeline = Pipeline.open(ConfigFolder.of(config), out, Cli.log())) {
            pipeline.runStage(stage, 0);
        }
        return 0;
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new PseudoLabelsCommand(), args));
    }
}
