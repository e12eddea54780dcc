package arenakit.cli;

import arenakit.data.KaggleCsv;
import arenakit.data.PreferencePairs;
import arenakit.data.SampleGenerator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code generate-sample}: writes synthetic competition files ({@link SampleGenerator}) into a folder and prints
 * a summary of each.
 */
@Command(name = "generate-sample", mixinStandardHelpOptions = true,
        description = "Write synthetic train.csv, test.csv, sample_submission.csv, solution.csv, lmsys-33k.csv and "
                + "preference.csv with planted, learnable preference signals.")
public final class GenerateSampleCommand implements Callable<Integer> {
    private static final SampleGenerator.Options D = SampleGenerator.Options.defaults();

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write into.")
    Path out;

    @Option(names = "--train", description = "train.csv rows (default ${DEFAULT-VALUE}).")
    int train = D.trainRows();

    @Option(names = "--test", description = "test.csv rows (default ${DEFAULT-VALUE}).")
    int test = D.testRows();

    @Option(names = "--external", description = "lmsys-33k.csv rows (default ${DEFAULT-VALUE}).")
    int external = D.externalRows();

    @Option(names = "--preference", description = "preference.csv rows (default ${DEFAULT-VALUE}).")
    int preference = D.preferenceRows();

    @Option(names = "--seed", description = "Random seed (default ${DEFAULT-VALUE}).")
    long seed = D.seed();

    @Option(names = "--signal", description = "Probability a label follows the planted evidence, 0..1 "
            + "(default ${DEFAULT-VALUE}).")
    double signal = D.signal();

    @Option(names = "--marker-rate", description = "Share of sentences with a good/bad marker phrase, 0..1 "
            + "(default ${DEFAULT-VALUE}).")
    double markerRate = D.markerRate();

    @Option(names = "--response-words", description = "Typical good-response length in words "
            + "(default ${DEFAULT-VALUE}).")
    int responseWords = D.responseWords();

    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "Any other option of SampleGenerator.Options "
            + "by name, e.g. --set multiTurnShare=0.3 --set escapeShare=0.2.")
    java.util.Map<String, String> set = new java.util.LinkedHashMap<>();

    @Option(names = "--quiet", description = "Print only the folder.")
    boolean quiet;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new GenerateSampleCommand(), args));
    }

    @Override
    public Integer call() throws Exception {
        SampleGenerator.Options options = D.withRows(train, test, external, preference).withSeed(seed)
                .withSignal(signal, markerRate).withResponseWords(responseWords).with(set);
        SampleGenerator.SampleFiles files = SampleGenerator.write(out, options);
        PrintWriter w = spec.commandLine().getOut();
        w.println("wrote " + out.toAbsolutePath());
        if (!quiet) {
            for (Path p : new Path[] {files.train(), files.test(), files.external()}) {
                w.print(KaggleCsv.read(p).summary().toText());
                w.println();
            }
            w.print(PreferencePairs.read(files.preference()).summary().toText());
        }
        w.flush();
        return 0;
    }
}
