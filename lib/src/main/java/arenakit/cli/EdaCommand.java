package arenakit.cli;

import arenakit.eda.Eda;
import arenakit.eda.EdaData;
import arenakit.eda.EdaOptions;
import arenakit.eda.EdaResult;
import arenakit.eda.EdaTables;
import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.EdaStage;
import arenakit.pipeline.Pipeline;
import arenakit.text.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code eda}: the EDA as {@code eda.html} (tables and charts that open offline) and {@code eda.json} (every number).
 * Without {@code --train} it is the pipeline's EDA stage of a setup ({@code --config}, default tiny: the embedded
 * sample, with the setup's tokenizer and prompt format), so it shows what the pipeline and the 01-eda notebook show;
 * with {@code --train} it reads Kaggle's files and counts tokens with {@code --tokenizer} (default Gemma).
 */
@Command(name = "eda", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Exploratory data analysis of the competition data: class balance, ties vs identical/empty "
                + "responses, per-model win rates, position bias, length vs outcome, turns, prompt repetition and "
                + "token lengths with a recommended max length; on the embedded sample also its planted signals, "
                + "next to the same measures on real rows when there are some (ARENA_REAL_ROWS).",
                "Writes eda.html (opens offline) and eda.json (every number) into --out."})
public final class EdaCommand implements Callable<Integer> {
    private static final EdaOptions D = EdaOptions.defaults();

    @Option(names = "--train", paramLabel = "CSV",
            description = "Kaggle train.csv (default: the data of --config, as the pipeline's EDA stage reads it).")
    Path train;

    @Option(names = "--test", paramLabel = "CSV", description = "Kaggle test.csv (with --train; default: none).")
    Path test;

    @Option(names = "--config", paramLabel = "FOLDER|NAME", description = "Without --train: the setup whose data "
            + "and settings to use, as the pipeline does (default ${DEFAULT-VALUE}).")
    String config = "tiny";

    @Option(names = "--out", paramLabel = "DIR", description = "Folder for eda.html and eda.json "
            + "(default ${DEFAULT-VALUE}; without --train the setup's generated sample goes to DIR/data).")
    Path out = Path.of("out", "eda");

    @Option(names = "--max-length-coverage", paramLabel = "SHARE", description = "Share of training rows that must "
            + "fit untruncated into the recommended max length, in (0, 1] (default ${DEFAULT-VALUE}).")
    double coverage = D.maxLengthCoverage();

    @Option(names = "--format", description = "Prompt format of the model input: pab, papb or rounds "
            + "(default: the setup's first training stage's; with --train pab).")
    String format;

    @Option(names = "--top-models", paramLabel = "N", description = "Models in the win-rate table "
            + "(default ${DEFAULT-VALUE}).")
    int topModels = D.topModels();

    @Option(names = "--tokenizer", paramLabel = "JSON", description = "With --train: a tokenizer.json (default: the "
            + "Gemma tokenizer that environment/setup.sh installs).")
    Path tokenizer;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new EdaCommand(), args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        EdaResult result;
        if (train == null) {
            if (test != null || tokenizer != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--test and --tokenizer go with --train; "
                        + "without it the setup (--config " + config + ") gives the data and the tokenizer");
            }
            try (Pipeline pipeline = Pipeline.open(ConfigFolder.of(config), out, Cli.log())) {
                EdaOptions setup = EdaStage.options(pipeline);
                EdaOptions options = setup.withMaxLengthCoverage(coverage).withTopModels(topModels)
                        .withFormat(format != null ? format : setup.format());
                result = EdaStage.analyse(pipeline, options, out, Cli.log());
            }
        } else {
            EdaOptions options = D.withMaxLengthCoverage(coverage).withFormat(format != null ? format : D.format())
                    .withTopModels(topModels);
            EdaData data = EdaData.read(train, test);
            try (Tokenizer tok = tokenizer == null ? Tokenizer.gemma() : Tokenizer.load(tokenizer)) {
                result = Eda.run(data.train(), data.test(), tok, out, options);
            }
        }
        w.println(EdaTables.summary(result).printAll());
        w.println("wrote " + out.resolve(Eda.HTML_FILE).toAbsolutePath());
        w.println("wrote " + out.resolve(Eda.JSON_FILE).toAbsolutePath());
        w.flush();
        return 0;
    }
}
