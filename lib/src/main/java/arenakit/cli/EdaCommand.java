package arenakit.cli;

import arenakit.data.KaggleCsv;
import arenakit.data.SampleGenerator;
import arenakit.eda.Eda;
import arenakit.eda.EdaData;
import arenakit.eda.EdaOptions;
import arenakit.eda.EdaResult;
import arenakit.eda.EdaTables;
import arenakit.text.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code eda}: the EDA of a Kaggle train.csv (and optionally test.csv) as {@code eda.html} (tables and charts that
 * open offline) and {@code eda.json} (every number). Without {@code --train} it runs on the embedded sample
 * ({@link SampleGenerator}), so it works on a fresh machine.
 */
@Command(name = "eda", mixinStandardHelpOptions = true,
        description = {"Exploratory data analysis of the competition data: class balance, ties vs identical/empty "
                + "responses, per-model win rates, position bias, length vs outcome, turns, prompt repetition and "
                + "Gemma token lengths with a recommended max length.",
                "Writes eda.html (opens offline) and eda.json (every number) into --out."})
public final class EdaCommand implements Callable<Integer> {
    private static final EdaOptions D = EdaOptions.defaults();

    @Option(names = "--train", paramLabel = "CSV",
            description = "Kaggle train.csv (default: the embedded sample, generated in memory).")
    Path train;

    @Option(names = "--test", paramLabel = "CSV",
            description = "Kaggle test.csv (default: none; the sample's test rows when --train is not given).")
    Path test;

    @Option(names = "--out", paramLabel = "DIR", description = "Folder for eda.html and eda.json "
            + "(default ${DEFAULT-VALUE}).")
    Path out = Path.of("out", "eda");

    @Option(names = "--max-length-coverage", paramLabel = "SHARE", description = "Share of training rows that must "
            + "fit untruncated into the recommended max length, in (0, 1] (default ${DEFAULT-VALUE}).")
    double coverage = D.maxLengthCoverage();

    @Option(names = "--format", description = "Prompt format of the model input: pab, papb or rounds "
            + "(default ${DEFAULT-VALUE}).")
    String format = D.format();

    @Option(names = "--top-models", paramLabel = "N", description = "Models in the win-rate table "
            + "(default ${DEFAULT-VALUE}).")
    int topModels = D.topModels();

    @Option(names = "--tokenizer", paramLabel = "JSON", description = "A tokenizer.json (default: the Gemma "
            + "tokenizer that environment/setup.sh installs).")
    Path tokenizer;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new EdaCommand(), args));
    }

    @Override
    public Integer call() throws Exception {
        EdaOptions options = D.withMaxLengthCoverage(coverage).withFormat(format).withTopModels(topModels);
        PrintWriter w = spec.commandLine().getOut();
        EdaData data = train != null ? EdaData.read(train, test) : EdaData.sample(SampleGenerator.Options.defaults());
        if (train == null) {
            w.println("no --train given: using the embedded sample (" + data.train().size() + " train rows, "
                    + data.test().size() + " test rows)");
            if (test != null) {
                data = new EdaData(data.train(), KaggleCsv.readTest(test).rows());
            }
        }
        w.flush();
        EdaResult result;
        try (Tokenizer tok = tokenizer == null ? Tokenizer.gemma() : Tokenizer.load(tokenizer)) {
            result = Eda.run(data.train(), data.test(), tok, out, options);
        }
        w.println(EdaTables.summary(result).printAll());
        w.println("wrote " + out.resolve(Eda.HTML_FILE).toAbsolutePath());
        w.println("wrote " + out.resolve(Eda.JSON_FILE).toAbsolutePath());
        w.flush();
        return 0;
    }
}
