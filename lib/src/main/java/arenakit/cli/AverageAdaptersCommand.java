package arenakit.cli;

import arenakit.model.lora.AdapterAverage;
import arenakit.pipeline.AdapterAveraging;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code average-adapters --out DIR A B ...}: LoRA adapters of one base (folds, seeds) averaged into one. */
@Command(name = "average-adapters", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Averages LoRA adapters of one base model (folds, seeds) into one: per module the weighted "
                + "mean of the merged deltas (alpha/r) B A, factored back into a LoRA of rank --rank by truncated "
                + "SVD (exact when the rank is at least the sum of the input ranks, the default); the heads are "
                + "averaged. Prints the approximation error per module and overall; writes average.json beside the "
                + "result.",
                "Each input is a trained stage folder (stage.json + adapter/, e.g. out/stage3) or a bare PEFT adapter "
                        + "folder; when all are stage folders the result is one too (usable in models and load_from), "
                        + "else a bare PEFT adapter folder."})
public final class AverageAdaptersCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "where the averaged adapter goes")
    Path out;

    @Option(names = "--rank", paramLabel = "R",
            description = "LoRA rank of the result (default: the sum of the input ranks, which is exact)")
    Integer rank;

    @Option(names = "--weights", split = ",", paramLabel = "W",
            description = "one weight per input, e.g. 2,1,1 (normalised to sum 1; default: equal)")
    List<Double> weights;

    @Option(names = "--modules", description = "print every module's error (default: the 5 worst)")
    boolean allModules;

    @Parameters(arity = "1..*", paramLabel = "FOLDER", description = "stage folders or PEFT adapter folders")
    List<Path> inputs;

    @Override
    public Integer call() throws Exception {
        AdapterAverage.Report r = AdapterAveraging.average(inputs, weights, rank, out, Cli.log());
        List<AdapterAverage.ModuleError> modules = r.modules().stream()
                .sorted((a, b) -> Double.compare(b.relativeError(), a.relativeError()))
                .limit(allModules ? Long.MAX_VALUE : 5).toList();
        System.out.printf(Locale.ROOT, "%-56s %6s %12s %14s%n", "module", "K", "||delta||", "relative error");
        for (AdapterAverage.ModuleError m : modules) {
            System.out.printf(Locale.ROOT, "%-56s %6d %12.4g %14.2e%n", m.module(), m.inputRank(), m.norm(),
                    m.relativeError());
        }
        System.out.printf(Locale.ROOT, "overall relative error %.2e (rank %d); wrote %s%n", r.relativeError(),
                r.rank(), out.toAbsolutePath());
        return 0;
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new AverageAdaptersCommand(), args));
    }
}
