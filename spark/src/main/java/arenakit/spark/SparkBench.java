package arenakit.spark;

import arenakit.data.Conversation;
import arenakit.data.PreferencePairs;
import arenakit.infer.Predictions;
import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.Pipeline;
import arenakit.pipeline.PseudoLabelPredictor;
import arenakit.util.Folders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The Spark job against the single-process stage on the same rows, interleaved round by round (the machine may be
 * shared: each round runs every contender once, so a busy spell hits them alike): the setup's preference pairs
 * repeated to {@code --pairs} rows with new ids, stage 1 trained once if it is not there yet.
 */
@Command(name = "bench-spark", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Pseudo-label throughput: the single-process stage vs the Spark job in local mode, same rows.")
public final class SparkBench implements Callable<Integer> {
    @Option(names = "--config", defaultValue = "tiny", description = "setup (default: ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--out", defaultValue = "out/bench-spark", description = "outputs (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--pairs", defaultValue = "4000", description = "rows to label (default: ${DEFAULT-VALUE})")
    int pairs;

    @Option(names = "--masters", defaultValue = "local[1],local[2]", split = ",",
            description = "Spark masters to compare (default: ${DEFAULT-VALUE})")
    List<String> masters;

    @Option(names = "--rounds", defaultValue = "2", description = "rounds (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--partition-tokens", defaultValue = "200000", description = "tokens per task "
            + "(default: ${DEFAULT-VALUE})")
    long partitionTokens;

    @Override
    public Integer call() throws Exception {
        ConfigFolder folder = ConfigFolder.of(config);
        Path input = out.resolve("bench-pairs.csv");
        List<Conversation> rows = new ArrayList<>();
        long tokens = 0;
        try (Pipeline p = Pipeline.open(folder, out, s -> {})) {
            p.runStage("stage1", 0);
            try (PseudoLabelPredictor stage = PseudoLabelPredictor.open(p, "pseudo_labels")) {
                List<Conversation> base = PreferencePairs.read(stage.unlabeledFiles().get(0)).rows();
                List<Conversation> copies = new ArrayList<>();
                for (int i = 0; copies.size() < pairs; i++) {
                    Conversation c = base.get(i % base.size());
                    copies.add(new Conversation(c.id() + "-" + (i / base.size()), null, null, c.turns(), null, 0));
                }
                PreferencePairs.write(input, copies);
                for (Conversation c : PreferencePairs.read(input).rows()) {
                    Conversation u = PseudoLabelPredictor.unlabeled(c);
                    rows.add(u);
                    tokens += stage.tokens(u) * (stage.config().inference().tta() ? 2L : 1L);
                }
                System.out.printf(Locale.ROOT, "%s: %,d rows, %,d input tokens (TTA copies included), models %s, %s%n",
                        folder.name(), rows.size(), tokens, stage.config().models(), load());
            }
        }
        List<String> lines = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            // single process: the stage's prediction, every model, on the stage's devices
            long t0 = System.nanoTime();
            try (Pipeline p = Pipeline.open(folder, out, s -> {});
                    PseudoLabelPredictor stage = PseudoLabelPredictor.open(p, "pseudo_labels")) {
                for (String model : stage.models()) {
                    Predictions ignored = stage.predict(model, rows, null);
                }
            }
            double single = (System.nanoTime() - t0) / 1e9;
            lines.add(row(round, "single process", single, 0, rows.size(), tokens, Double.NaN));
            System.out.println(lines.get(lines.size() - 1));
            for (String master : masters) {
                long s0 = System.nanoTime();
                SparkSession spark = SparkSessions.start(master, Map.of());
                double startup = (System.nanoTime() - s0) / 1e9;
                try {
                    Path output = out.resolve("bench-labels-" + round + "-" + master.replaceAll("[^a-z0-9]", ""));
                    Folders.deleteTree(output);
                    Folders.deleteTree(Path.of(output + ".work"));
                    SparkPseudoLabels.Result r = SparkPseudoLabels.run(spark, new SparkPseudoLabels.Job(folder, out,
                            "pseudo_labels", List.of(input.toString()), output.toString(), "parquet", null,
                            partitionTokens, null), s -> {});
                    double perTask = r.passes().values().stream().mapToDouble(SparkPseudoLabels.Pass::tokensPerTaskSecond)
                            .average().orElse(0);
                    lines.add(row(round, "spark " + master + " (" + r.partitions() + " partitions)", r.seconds(),
                            startup, r.rows(), tokens, perTask));
                    System.out.println(lines.get(lines.size() - 1));
                } finally {
                    spark.stop();
                }
            }
        }
        System.out.println();
        System.out.println("| round | run | wall (s) | session start (s) | rows/s | tokens/s | tokens/s per task slot |");
        System.out.println("|---|---|---|---|---|---|---|");
        lines.forEach(System.out::println);
        System.out.println("load after: " + load());
        return 0;
    }

    private static String row(int round, String what, double seconds, double startup, long rows, long tokens,
            double perTask) {
        return String.format(Locale.ROOT, "| %d | %s | %.1f | %s | %,.0f | %,.0f | %s |", round, what, seconds,
                startup > 0 ? String.format(Locale.ROOT, "%.1f", startup) : "-", rows / seconds, tokens / seconds,
                Double.isNaN(perTask) ? "-" : String.format(Locale.ROOT, "%,.0f", perTask));
    }

    private static String load() {
        try {
            return "load " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "load ?";
        }
    }

    public static void main(String... args) {
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:arenakit/spark/log4j2-cli.properties");
        }
        System.exit(new CommandLine(new SparkBench()).execute(args));
    }
}
