package arenakit.cli;

import picocli.CommandLine.Command;

/**
 * Every command under one entry point, for runs without JBang: the Kaggle offline bundle's {@code arena-kit}
 * launcher ({@code java -cp 'jars/*' arenakit.cli.ArenaKit submit ...}). The jbang scripts call the same commands.
 */
@Command(name = "arena-kit", mixinStandardHelpOptions = true,
        description = "LMSYS Chatbot Arena preference prediction: data, EDA, training, pseudo-labels, submission.",
        subcommands = {
            PipelineCommand.class, TrainCommand.class, PseudoLabelsCommand.class, SubmitCommand.class,
            EdaCommand.class, ValidateCommand.class, GenerateSampleCommand.class, ParityCommand.class,
            MemoryPlanCommand.class, DataBenchCommand.class, ModelBenchCommand.class, TrainBenchCommand.class,
            TinyCheckpointCommand.class, AverageAdaptersCommand.class
        })
public final class ArenaKit implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new ArenaKit(), args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
