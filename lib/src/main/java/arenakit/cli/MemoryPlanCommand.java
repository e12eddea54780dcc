package arenakit.cli;

import ai.djl.ndarray.types.DataType;
import arenakit.model.MemoryPlan;
import arenakit.model.Placement;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.quant.Quantization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code memory-plan MODEL}: bytes of weights per device and activations per micro-batch for a model directory of
 * any supported family (its config.json) or a preset ({@code gemma-2-9b}, {@code gemma-2-2b}, {@code llama-3-8b},
 * {@code llama-3.1-8b}, {@code qwen2.5-7b}, {@code qwen2.5-14b}), without loading anything.
 */
@Command(name = "memory-plan", mixinStandardHelpOptions = true,
        description = "Print weights per device and activations per micro-batch for a model's config or a preset.")
public final class MemoryPlanCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "A model directory with config.json (gemma2, llama or "
            + "qwen2), or a preset: gemma-2-9b, gemma-2-2b, llama-3-8b, llama-3.1-8b, qwen2.5-7b, qwen2.5-14b.")
    String model;

    @Option(names = "--dtype", defaultValue = "fp16", description = "fp16 or fp32 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--devices", defaultValue = "gpu0,gpu1",
            description = "Devices in order, optionally with the first layer of the next stage: cpu, gpu0, "
                    + "gpu0:21,gpu1 (default: ${DEFAULT-VALUE}).")
    String devices;

    @Option(names = "--tokens", defaultValue = "16384", description = "Tokens per micro-batch (default: ${DEFAULT-VALUE}).")
    long tokens;

    @Option(names = "--max-length", defaultValue = "4096", description = "Padded sequence length (default: ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--lora-rank", defaultValue = "0", description = "Add a LoRA training estimate for this r (default: none).")
    int loraRank;

    @Option(names = "--quantize", defaultValue = "none", paramLabel = "int8|none",
            description = "How the layer projections are stored: int8 (1 byte per weight + a scale per row) or none "
                    + "(default: ${DEFAULT-VALUE}).")
    String quantize;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new MemoryPlanCommand(), args));
    }

    @Override
    public Integer call() throws IOException {
        Path dir = Path.of(model);
        DecoderConfig config = Files.isDirectory(dir) ? Families.read(dir.resolve(HfCheckpoint.CONFIG)).withNumLabels(3)
                : Families.preset(model);
        DataType type = switch (dtype.toLowerCase(java.util.Locale.ROOT)) {
            case "fp16", "float16" -> DataType.FLOAT16;
            case "fp32", "float32" -> DataType.FLOAT32;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--dtype must be fp16 or fp32");
        };
        Quantization quant;
        try {
            quant = Quantization.parse(quantize, "--quantize");
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Placement placement = Placement.parse(devices);
        MemoryPlan plan = new MemoryPlan(config, type, placement.stages(config.numHiddenLayers()), tokens, maxLength,
                loraRank, quant);
        spec.commandLine().getOut().print(plan);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
