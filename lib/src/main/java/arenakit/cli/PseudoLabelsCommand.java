package arenakit.cli;

import arenakit.pipeline.Pipeline;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The pseudo-label stage of a setup. */
@Command(name = "pseudo-labels", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the trained stage(s) named in <config>/pseudo_labels.json over the unlabeled pairs and "
                + "writes <out>/pseudo_labels/pseudo_labels.csv (id, 3 probabilities, 3 logits), chunk by chunk: an "
                + "interrupted run reuses every row already predicted with the same model files and settings."})
public final class PseudoLabelsCommand implements Callable<Integer> {
    @Mixin
    SetupOptions setup;

    @Option(names = "--stage", defaultValue = "pseudo_labels", description = "stage name (default: ${DEFAULT-VALUE})")
    String stage;

    @Mixin
    InferenceOptions inferenceOptions;

    @Override
    public Integer call() throws Exception {
        inferenceOptions.check();
        try (Pipeline pipeline = setup.open()) {
            inferenceOptions.applyTo(pipeline);
            pipeline.runStage(stage, 0);
        }
        return 0;
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new PseudoLabelsCommand(), args));
    }
}
