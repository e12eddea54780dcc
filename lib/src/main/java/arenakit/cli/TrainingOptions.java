package arenakit.cli;

import arenakit.pipeline.Pipeline;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Where and how the training stages compute (a picocli mixin of train.java and pipeline.java; each option also has
 * a {@code --train-} spelling, the one pipeline.java's help and docs use beside its inference stages). Each replaces
 * its {@code train.*} / {@code loader.max_tokens} setting in every training stage; none is part of a stage's
 * fingerprint except the token budget.
 */
final class TrainingOptions {
    @Option(names = {"--devices", "--train-devices"}, split = ",", paramLabel = "DEVICE",
            description = "train on these devices: cpu, gpu0, gpu0,gpu1 (default: each stage's train.devices)")
    List<String> devices;

    @Option(names = {"--mode", "--train-mode"}, paramLabel = "MODE", description = "single, pipeline or "
            + "data_parallel (default: the stage's train.mode, or as --devices counts: single for one, pipeline for "
            + "more)")
    String mode;

    @Option(names = "--gradient-checkpointing", negatable = true, description = "activation checkpointing on "
            + "(--no-gradient-checkpointing: off; default: each stage's train.gradient_checkpointing)")
    Boolean checkpointing;

    @Option(names = {"--max-tokens", "--train-max-tokens"}, paramLabel = "N", description = "padded tokens per "
            + "training micro-batch (default: each stage's loader.max_tokens)")
    Integer maxTokens;

    @Option(names = {"--device-memory", "--train-device-memory"}, paramLabel = "GIB", description = "memory of each "
            + "device for the memory check (default: each stage's train.device_memory_gib, else what the device "
            + "reports)")
    Double deviceMemoryGib;

    void apply(Pipeline p) {
        p.overrideTraining(devices, mode, checkpointing, maxTokens, deviceMemoryGib);
    }
}
