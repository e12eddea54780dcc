package arenakit.cli;

import ai.djl.ndarray.types.DataType;
import arenakit.model.MemoryPlan;
import arenakit.model.Placement;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.Pipeline;
import arenakit.model.quant.Quantization;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code memory-plan --config SETUP --stage NAME}: the memory check a stage runs before it loads any weight, printed:
 * per device the weights, the trainable state (LoRA or every weight, with gradients and AdamW's moments) and the
 * activations of the stage's worst micro-batch against the devices' memory (measured here, the stage's
 * {@code device_memory_gib}, or {@code --device-memory}); exit code 1 when it does not fit (or the memory is unknown),
 * with the settings that would fit.
 *
 * <p>{@code memory-plan MODEL}: bytes of weights per device and activations per micro-batch for a model directory
 * of any supported family (its config.json) or a preset ({@code gemma-2-9b}, {@code gemma-2-2b}, {@code llama-3-8b},
 * {@code llama-3.1-8b}, {@code qwen2.5-7b}, {@code qwen2.5-14b}), without loading anything.
 */
@Command(name = "memory-plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Print a stage's memory plan on its devices (--config SETUP --stage NAME; exit 1 when it does "
                + "not fit), or the weights and activations of a model's config or a preset (MODEL)."})
public final class MemoryPlanCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "A model directory with config.json "
            + "(gemma2, llama or qwen2), or a preset: gemma-2-9b, gemma-2-2b, llama-3-8b, llama-3.1-8b, qwen2.5-7b, "
            + "qwen2.5-14b (without --config).")
    String model;

    @Option(names = "--config", paramLabel = "FOLDER|NAME", description = "a setup (a config folder or a bundled "
            + "name: tiny, smoke, gemma2-9b): plan its --stage")
    String config;

    @Option(names = "--stage", paramLabel = "NAME", description = "the stage of --config to plan (a training, "
            + "pseudo-label or submission stage)")
    String stage;

    @Option(names = "--device-memory", paramLabel = "GIB", description = "plan for devices of this many GiB each "
            + "(default: the stage's device_memory_gib, else what the devices here report)")
    Double deviceMemory;

    @Option(names = "--checkpoint", paramLabel = "DIR|PRESET", description = "the base model to plan with instead of "
            + "the setup's (a folder with config.json, or a preset such as gemma-2-9b): for a setup whose checkpoint "
            + "is on another machine")
    String checkpoint;

    @Option(names = "--mode", paramLabel = "MODE", description = "with --config: single, pipeline or data_parallel "
            + "(default: as configured, or as --devices counts)")
    String mode;

    @Option(names = "--out", defaultValue = "out/pipeline", paramLabel = "DIR",
            description = "with --config: the output folder (finished stages referenced by path are read there)")
    Path out;

    @Option(names = "--dtype", defaultValue = "fp16", description = "fp16 or fp32 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--devices",
            description = "Devices in order, optionally with the first layer of the next stage: cpu, gpu0, "
                    + "gpu0:21,gpu1 (default: gpu0,gpu1; with --config the stage's own).")
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

    private int stagePlan() throws IOException {
        if (stage == null || model != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--config needs --stage NAME (and no MODEL)");
        }
        if (deviceMemory != null && !(deviceMemory > 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--device-memory must be a positive number "
                    + "of GiB, got " + deviceMemory);
        }
        PrintWriter w = spec.commandLine().getOut();
        try (Pipeline p = Pipeline.open(ConfigFolder.of(config), out, line -> { })) {
            if (devices != null || mode != null) {
                List<String> names = devices == null ? null : List.of(devices.split(","));
                p.overrideStageDevices(stage, names == null ? null : names.stream().map(String::trim).toList(), mode);
            }
            Pipeline.StageMemory plan = p.memoryPlan(stage, deviceMemory, checkpoint);
            w.print(plan.text());
            w.println(plan.fits() ? "MEMORY PLAN OK: " + stage + " fits its devices"
                    : !plan.known() ? "MEMORY UNKNOWN: give --device-memory GIB to plan for devices that are not here"
                    : "MEMORY PLAN FAILED: " + stage + " does not fit its devices");
            w.flush();
            return plan.fits() ? 0 : 1;
        }
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new MemoryPlanCommand(), args));
    }

    @Override
    public Integer call() throws IOException {
        if (config != null) {
            return stagePlan();
        }
        if (model == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give MODEL, or --config SETUP --stage NAME");
        }
        if (devices == null) {
            devices = "gpu0,gpu1";
        }
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
