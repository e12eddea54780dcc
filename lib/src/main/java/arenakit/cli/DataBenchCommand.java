package arenakit.cli;

import arenakit.data.Conversation;
import arenakit.data.DataSet;
import arenakit.data.KaggleCsv;
import arenakit.data.SampleGenerator;
import arenakit.text.PromptEncoder;
import arenakit.text.Tokenizer;
import arenakit.util.ArenaHome;
import arenakit.util.Folders;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench-data}: the data layer's benchmark (docs/benchmarks.md). Generates a competition-sized train.csv, then
 * times parse + validate, and format + tokenize of every row with the batch API and with one call per row.
 */
@Command(name = "bench-data", mixinStandardHelpOptions = true,
        description = "Time parse+validate and format+tokenize on a generated competition-sized train.csv.")
public final class DataBenchCommand implements Callable<Integer> {

    @Option(names = "--rows", description = "Rows to generate (default ${DEFAULT-VALUE}, Kaggle's train.csv).")
    int rows = 57_477;

    @Option(names = "--response-words", description = "Typical good-response length in words (default "
            + "${DEFAULT-VALUE}: about the real data's median response).")
    int responseWords = 200;

    @Option(names = "--dir", description = "Where to write the generated file (default: a temp folder, deleted).")
    Path dir;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the Gemma one from environment/setup.sh).")
    Path tokenizer;

    @Option(names = "--format", description = "Prompt format (default ${DEFAULT-VALUE}).")
    String format = "pab";

    @Option(names = "--truncation", description = "Truncation policy (default ${DEFAULT-VALUE}).")
    String truncation = "proportional";

    @Option(names = "--max-length", description = "Token budget (default ${DEFAULT-VALUE}).")
    int maxLength = 3072;

    @Option(names = "--rows-per-call", description = "Rows per native batch call in the batch run (default "
            + "${DEFAULT-VALUE}).")
    int rowsPerCall = PromptEncoder.ROWS_PER_CALL;

    @Option(names = "--repeats", description = "Parse+validate repeats; the fastest is reported (default "
            + "${DEFAULT-VALUE}).")
    int repeats = 3;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new DataBenchCommand(), args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        boolean temp = dir == null;
        Path folder = temp ? Files.createTempDirectory("bench-data") : dir;
        try {
            long t0 = System.nanoTime();
            SampleGenerator.SampleFiles files = SampleGenerator.write(folder, SampleGenerator.Options.defaults()
                    .withRows(rows, 0, 0, 0).withResponseWords(responseWords));
            out.printf("generate      %,d rows, %.1f MB: %.1f s%n", rows, Files.size(files.train()) / 1e6,
                    seconds(t0));
            out.flush();

            DataSet data = null;
            double best = Double.MAX_VALUE;
            for (int r = 0; r < repeats; r++) {
                long t = System.nanoTime();
                data = KaggleCsv.readTrain(files.train());
                best = Math.min(best, seconds(t));
            }
            out.printf("parse+validate %,d rows: %.2f s (best of %d)%n", data.size(), best, repeats);
            out.flush();

            List<Conversation> conversations = data.rows();
            try (Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : ArenaHome.gemmaTokenizer())) {
                PromptEncoder enc = PromptEncoder.of(tok, format, truncation, maxLength);
                long t = System.nanoTime();
                List<int[]> batch = enc.encodeAll(conversations, rowsPerCall);
                double batchSeconds = seconds(t);
                t = System.nanoTime();
                long perRowTokens = 0;
                for (int[] ids : enc.encodeAll(conversations, 1)) {
                    perRowTokens += ids.length;
                }
                double perRowSeconds = seconds(t);
                int[] lengths = batch.stream().mapToInt(a -> a.length).sorted().toArray();
                long tokens = Arrays.stream(lengths).asLongStream().sum();
                if (tokens != perRowTokens) {
                    throw new IllegalStateException("batch and per-row encodings differ");
                }
                out.printf("format+tokenize (%s, %s, max %d) batch API (%d rows per call): %.1f s, one call per "
                        + "row: %.1f s%n", format, truncation, enc.maxLength(), rowsPerCall, batchSeconds,
                        perRowSeconds);
                out.printf("tokens per input: p50 %d, p95 %d, max %d; %,d in total%n", lengths[lengths.length / 2],
                        lengths[(int) (lengths.length * 0.95)], lengths[lengths.length - 1], tokens);
            }
            return 0;
        } finally {
            if (temp) {
                Folders.deleteTree(folder);
            }
            out.flush();
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
