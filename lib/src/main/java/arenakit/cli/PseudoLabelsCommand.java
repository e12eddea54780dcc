package arenakit.cli;

import arenakit.infer.TimeBudget;
import arenakit.pipeline.Pipeline;
import java.nio.file.Path;
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

    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "base model folder (HF layout) [pipeline.json base_model.checkpoint]")
    Path checkpoint;

    @Option(names = "--time-budget", paramLabel = "DURATION",
            description = "wall-clock budget of the stage, loading included: 8h30m, 90m, 90s, or off; past the "
                    + "projection it drops TTA, then the lowest-weight models, then shortens max_length; pairs not "
                    + "labeled by the hard limit are left out and listed [inference.time_budget]")
    String timeBudget;

    @Override
    public Integer call() throws Exception {
        if (timeBudget != null) {
            TimeBudget.parse(timeBudget);
        }
        try (Pipeline pipeline = setup.open()) {
            if (checkpoint != null) {
                pipeline.overrideBaseCheckpoint(checkpoint);
            }
            if (timeBudget != null) {
                pipeline.overrideTimeBudget(timeBudget);
            }
            pipeline.runStage(stage, 0);
        }
        return 0;
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new PseudoLabelsCommand(), args));
    }
}
