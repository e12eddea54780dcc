package arenakit.cli;

import arenakit.pipeline.Pipeline;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The main job: every stage of a setup, in order, skipping stages whose outputs exist. */
@Command(name = "pipeline", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the whole pipeline of a config folder: embedded sample (when the setup names no data) "
                + "-> EDA -> stage 1 -> pseudo-labels -> stage 2 -> stage 3 -> submission.csv.",
                "Stages whose summary.json exists in the output folder are skipped, so a re-run resumes."})
public final class PipelineCommand implements Callable<Integer> {
    @Mixin
    SetupOptions setup;

    @Mixin
    TrainingOptions training;

    @Option(names = "--stages", split = ",", paramLabel = "NAME",
            description = "run only these stages (comma-separated; their inputs must exist)")
    List<String> stages;

    @Override
    public Integer call() throws Exception {
        try (Pipeline pipeline = setup.open()) {
            training.apply(pipeline);
            pipeline.run(stages);
        }
        return 0;
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new PipelineCommand(), args));
    }
}
