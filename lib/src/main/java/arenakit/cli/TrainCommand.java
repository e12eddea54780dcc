package arenakit.cli;

import arenakit.pipeline.Pipeline;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** One training stage of a setup (stage1, stage2 or stage3), resuming from its last checkpoint. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains one stage of a config folder (e.g. stage1) into <out>/<stage>/: adapter/ (PEFT), "
                + "metrics.json, summary.json. Resumes from <out>/<stage>/checkpoints/ after an interruption.",
                "The stage's inputs (embedded sample, base model, the stage it loads from) are prepared or must "
                        + "exist."})
public final class TrainCommand implements Callable<Integer> {
    @Mixin
    SetupOptions setup;

    @Mixin
    TrainingOptions training;

    @Option(names = "--stage", defaultValue = "stage1", description = "stage to train (default: ${DEFAULT-VALUE})")
    String stage;

    @Option(names = "--stop-after", defaultValue = "0", paramLabel = "STEPS",
            description = "pause after this many optimizer steps with a checkpoint (a later run resumes)")
    int stopAfter;

    @Override
    public Integer call() throws Exception {
        try (Pipeline pipeline = setup.open()) {
            training.apply(pipeline);
            pipeline.runStage(stage, stopAfter);
        }
        return 0;
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new TrainCommand(), args));
    }
}
