package arenakit.spark;

import arenakit.pipeline.ConfigFolder;
import arenakit.train.SparkConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The Spark job from the command line: local mode by default, or inside spark-submit on a cluster. */
@Command(name = "spark-pseudo-labels", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Soft labels for unlabeled pairs (or test rows) with the pseudo-label stage of a setup, as a "
                + "Spark job: rows partitioned by length, one model per task slot (or the GPU Spark assigned), "
                + "resumable per partition. Writes id, winner_model_a, winner_model_b, winner_tie, logit_a, logit_b, "
                + "logit_tie as Parquet or CSV.",
            "'spark-pseudo-labels pipeline [pipeline options]' runs the pipeline command instead, with Spark on the "
                + "classpath (for setups whose pseudo_labels.json sets \"spark\")."})
public final class SparkPseudoLabelsCommand implements Callable<Integer> {
    @Option(names = "--config", defaultValue = "tiny", paramLabel = "FOLDER|NAME",
            description = "config folder, or a bundled setup: tiny, smoke, gemma2-9b (default: ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--out", defaultValue = "out/pipeline", paramLabel = "DIR",
            description = "the setup's stage outputs (trained models, base model, tokenizer), seen by every node "
                    + "(default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--stage", defaultValue = "pseudo_labels", description = "stage name (default: ${DEFAULT-VALUE})")
    String stage;

    @Option(names = "--input", paramLabel = "PATH", description = "CSV / Parquet file, folder or glob on any Hadoop "
            + "path (repeatable; default: the setup's data.unlabeled)")
    List<String> inputs = List.of();

    @Option(names = "--output", paramLabel = "PATH",
            description = "where the labels go (default: <out>/<stage>/spark-labels)")
    String output;

    @Option(names = "--format", defaultValue = "parquet", description = "parquet or csv (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--work", paramLabel = "PATH", description = "resumable partial results (default: <output>.work)")
    String work;

    @Option(names = "--partition-tokens", defaultValue = "" + SparkConfig.DEFAULT_PARTITION_TOKENS, paramLabel = "N",
            description = "input tokens per task, TTA copies included (default: ${DEFAULT-VALUE})")
    long partitionTokens;

    @Option(names = "--device", paramLabel = "DEVICE", description = "every task's device(s), e.g. cpu or gpu(0) "
            + "(default: the GPU Spark assigned to the task, else the stage's CPU devices)")
    String device;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else "
            + "local[2])")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "a Spark setting (repeatable)")
    Map<String, String> conf = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        boolean owned = !SparkSessions.running();
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("spark.ui.showConsoleProgress", "true");
        settings.putAll(conf);
        SparkSession spark = SparkSessions.start(master, settings);
        try {
            String target = output != null ? output
                    : out.toAbsolutePath().resolve(stage).resolve("spark-labels").toUri().toString();
            SparkPseudoLabels.Result r = SparkPseudoLabels.run(spark, new SparkPseudoLabels.Job(ConfigFolder.of(config),
                    out, stage, inputs, target, format, work, partitionTokens, device), SparkPseudoLabelsCommand::log);
            r.passes().forEach((model, p) -> log(String.format(java.util.Locale.ROOT,
                    "%s: %.0f tokens/s per task slot over %d predicted partition(s)", model, p.tokensPerTaskSecond(),
                    p.predicted())));
        } finally {
            if (owned) {
                spark.stop();
            }
        }
        return 0;
    }

    private static void log(String line) {
        synchronized (System.out) {
            System.out.println(line);
        }
    }

    public static void main(String... args) {
        // before any Spark class: Spark's INFO start-up lines would bury the job's own (a cluster's config wins)
        if (System.getProperty("log4j2.configurationFile") == null && System.getProperty("spark.master") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:arenakit/spark/log4j2-cli.properties");
        }
        if (args.length > 0 && args[0].equals("pipeline")) {
            arenakit.cli.PipelineCommand.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        CommandLine cli = new CommandLine(new SparkPseudoLabelsCommand());
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            if (Boolean.getBoolean("arena.debug")) {
                e.printStackTrace();
            }
            String m = e.getMessage();
            for (Throwable c = e.getCause(); (m == null || m.isBlank()) && c != null; c = c.getCause()) {
                m = c.getMessage();
            }
            line.getErr().println("error: " + (m == null ? e.getClass().getSimpleName() : m));
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
