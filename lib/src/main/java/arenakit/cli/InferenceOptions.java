package arenakit.cli;

import arenakit.infer.TimeBudget;
import arenakit.model.quant.Quantization;
import arenakit.pipeline.Pipeline;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Options of the commands that predict with a stage's ensemble (submit, pseudo-labels), a picocli mixin: the base
 * model's folder, the time budget and the quantization, each replacing a config field.
 */
final class InferenceOptions {
    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "base model folder (HF layout) [pipeline.json base_model.checkpoint]")
    Path checkpoint;

    @Option(names = "--time-budget", paramLabel = "DURATION",
            description = "wall-clock budget of the run, loading included: 8h30m, 90m, 90s, or off; when the "
                    + "projected finish passes it, the rows still to do lose swap TTA, then the lowest-weight "
                    + "models, then max_length; at the hard limit a submission gives the rows left the class prior, "
                    + "pseudo-labels leave them out [inference.time_budget]")
    String timeBudget;

    @Option(names = "--quantize", paramLabel = "int8|none",
            description = "store every model's decoder projections as int8 (per output row, about half the weight "
                    + "memory of fp16, e.g. one gemma-2-9b per 16 GB T4) or as loaded (none) [inference.quantize, "
                    + "models[].quantize]")
    String quantize;

    /** Checks the values (before anything loads) and applies them to the opened setup. */
    void applyTo(Pipeline pipeline) {
        if (checkpoint != null) {
            pipeline.overrideBaseCheckpoint(checkpoint);
        }
        if (timeBudget != null) {
            pipeline.overrideTimeBudget(timeBudget);
        }
        if (quantize != null) {
            pipeline.overrideQuantize(quantize);
        }
    }

    /** A malformed budget fails before the setup is opened. */
    void check() {
        if (timeBudget != null) {
            TimeBudget.parse(timeBudget);
        }
        if (quantize != null) {
            Quantization.parse(quantize, "--quantize");
        }
    }
}
