package arenakit.cli;

import arenakit.model.TinyCheckpoints;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tiny-checkpoint CONFIG OUT}: a random sequence classifier of any supported family in transformers' layout,
 * for the config.json given (read as strictly as a real checkpoint's): for teaching, tests, and the PyTorch peer
 * ({@code docs/bench/decoder_peer.py make-fixture OUT}, then {@code parity.java OUT}).
 */
@Command(name = "tiny-checkpoint", mixinStandardHelpOptions = true,
        description = "Write a random checkpoint (config.json + safetensors) for a config.json of gemma2, llama or qwen2.")
public final class TinyCheckpointCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "CONFIG", description = "A config.json (model_type gemma2, llama or qwen2).")
    Path config;

    @Parameters(index = "1", paramLabel = "OUT", description = "The model directory to write.")
    Path out;

    @Option(names = "--dtype", defaultValue = "BF16", description = "F32, F16 or BF16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--shards", defaultValue = "1", description = "Safetensors files (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the values (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--num-labels", defaultValue = "3",
            description = "Classes of the score head (default: ${DEFAULT-VALUE}, A / B / tie).")
    int numLabels;

    @Option(names = "--randomize-norms-and-biases",
            description = "Draw norm weights and biases at random too (transformers starts them at constants).")
    boolean randomize;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new TinyCheckpointCommand(), args));
    }

    @Override
    public Integer call() throws IOException {
        DecoderConfig c = Families.read(config).withNumLabels(numLabels);
        SafetensorsFile.DType type = SafetensorsFile.DType.parse(dtype, "--dtype");
        if (randomize) {
            TinyCheckpoints.writeRandomized(out, c, type, shards, seed);
        } else {
            TinyCheckpoints.write(out, c, type, shards, seed);
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "%s: random %s, %d layers, hidden %d, heads %d/%d x %d, "
                + "vocabulary %d, %s%n", out, c.familyName(), c.numHiddenLayers(), c.hiddenSize(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.vocabSize(), type);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
