package arenakit.train;

import arenakit.model.quant.Quantization;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Locale;

/**
 * A training stage (stage 1, 2 or 3), read from a JSON data file such as {@code configs/tiny/stage1.json}.
 * Reading one tells the whole experiment; configs/README.md explains every field.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainConfig(String kind, @StrictJson.Default("null") String description, Model model, Data data,
        OptimizerConfig optimizer, ScheduleConfig schedule, Loader loader, Train train,
        @StrictJson.Nullable DistillConfig distill) {

    public static final String KIND = "train";

    public TrainConfig {
        require(model, "model");
        require(data, "data");
        require(optimizer, "optimizer");
        require(schedule, "schedule");
        require(loader, "loader");
        require(train, "train");
        if (data.sources().contains(Data.PSEUDO_LABELS) && distill == null) {
            throw new IllegalArgumentException("data.sources has pseudo_labels but there is no distill section");
        }
        if (distill != null && !distill.teachers().isEmpty() && !data.sources().contains(Data.TRAIN)
                && !data.sources().contains(Data.EXTERNAL)) {
            throw new IllegalArgumentException("distill.teachers teach labeled rows, but data.sources has neither "
                    + "train nor external");
        }
    }

    /** The classification heads by config name. */
    public static final List<String> HEADS = List.of("linear", "mlp", "mlp3");

    /** The projections LoRA can adapt (PEFT's module names). */
    public static final List<String> PROJECTIONS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
            "up_proj", "down_proj");

    /**
     * What is fine-tuned on top of the setup's base model.
     *
     * @param head classification head: "linear" (HF's bias-free score layer), "mlp" (2nd place: dropout, h -> h/2,
     *     GELU, -> 3) or "mlp3" (silver team's 3-layer MLP)
     * @param lora LoRA settings; null = full fine-tuning of every weight
     * @param loadFrom the stage (or adapter folder) whose trained weights this stage starts from; null = base model
     * @param dtype "auto" (float16 on GPU, float32 on CPU), "float32" or "float16"
     * @param baseModel the base model this stage fine-tunes: a name in pipeline.json's {@code base_models}; null =
     *     pipeline.json's {@code base_model}. Its tokenizer and chat template encode the stage's rows
     * @param quantize how the frozen base's projections are stored while training: "int8" (per output row, LoRA
     *     trained over it; needs {@code lora}) or "none" (null too: as loaded). Inference uses the same unless its
     *     own {@code quantize} says otherwise
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Model(String head, @StrictJson.Nullable Lora lora, @StrictJson.Nullable String loadFrom,
            String dtype, @StrictJson.Default("null") String baseModel, @StrictJson.Default("null") String quantize) {
        public Model(String head, Lora lora, String loadFrom, String dtype) {
            this(head, lora, loadFrom, dtype, null, null);
        }

        public Model(String head, Lora lora, String loadFrom, String dtype, String baseModel) {
            this(head, lora, loadFrom, dtype, baseModel, null);
        }

        public Model {
            head = head == null ? "linear" : head;
            if (!HEADS.contains(head)) {
                throw new IllegalArgumentException("model.head must be linear, mlp or mlp3, got " + head);
            }
            dtype = dtype == null ? "auto" : dtype.toLowerCase(Locale.ROOT);
            if (!List.of("auto", "float32", "float16").contains(dtype)) {
                throw new IllegalArgumentException("model.dtype must be auto, float32 or float16, got " + dtype);
            }
            quantize = Quantization.check(quantize, "model.quantize");
            if (Quantization.parse(quantize, "model.quantize") != Quantization.NONE && lora == null) {
                throw new IllegalArgumentException("model.quantize " + quantize + " needs model.lora: a quantized "
                        + "base is frozen, so full fine-tuning (lora null) cannot train it");
            }
        }
    }

    /**
     * LoRA on the named projections ({@code q_proj k_proj v_proj o_proj gate_proj up_proj down_proj}).
     *
     * @param pissa initialise A/B from the top singular vectors of the base weight (PiSSA) instead of A random,
     *     B zero
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Lora(int r, double alpha, double dropout, List<String> targets, boolean pissa) {
        public Lora {
            if (r <= 0) {
                throw new IllegalArgumentException("model.lora.r must be > 0, got " + r);
            }
            if (targets == null || targets.isEmpty()) {
                throw new IllegalArgumentException("model.lora.targets must name at least one projection");
            }
            targets = List.copyOf(targets);
            for (String t : targets) {
                if (!PROJECTIONS.contains(t)) {
                    throw new IllegalArgumentException("model.lora.targets: unknown projection '" + t + "' (known: "
                            + String.join(", ", PROJECTIONS) + ")");
                }
            }
            if (!(alpha > 0)) {
                throw new IllegalArgumentException("model.lora.alpha must be > 0, got " + alpha);
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("model.lora.dropout must be in [0, 1), got " + dropout);
            }
        }
    }

    /**
     * @param sources "train" (the labeled train file), "external" (lmsys-33k-style labeled rows) and/or
     *     "pseudo_labels" (the pseudo-label stage's soft labels, trained with distillation)
     * @param text how a conversation becomes tokens
     * @param holdout the labeled fold held out for evaluation (null = train on everything, no evaluation)
     * @param swap "none", "random" (each row swapped with p = 0.5 per epoch) or "full" (both orders of every row
     *     in the same optimizer step)
     * @param balancedOrder keep class proportions steady along the training order
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Data(List<String> sources, Text text, @StrictJson.Nullable Holdout holdout, String swap,
            boolean balancedOrder) {
        public static final String TRAIN = "train";
        public static final String EXTERNAL = "external";
        public static final String PSEUDO_LABELS = "pseudo_labels";

        public Data {
            if (sources == null || sources.isEmpty()) {
                throw new IllegalArgumentException("data.sources must name at least one of " + List.of(TRAIN, EXTERNAL,
                        PSEUDO_LABELS));
            }
            for (String s : sources) {
                if (!List.of(TRAIN, EXTERNAL, PSEUDO_LABELS).contains(s)) {
                    throw new IllegalArgumentException("data.sources: unknown source '" + s + "' (known: train, "
                            + "external, pseudo_labels)");
                }
            }
            sources = List.copyOf(sources);
            require(text, "data.text");
            swap = swap == null ? "none" : swap.toLowerCase(Locale.ROOT);
            if (!List.of("none", "random", "full").contains(swap)) {
                throw new IllegalArgumentException("data.swap must be none, random or full, got " + swap);
            }
        }
    }

    /**
     * @param format prompt format: "pab", "papb" or "rounds"
     * @param truncation how an over-long conversation is cut: "proportional" (every turn keeps a share, cuts
     *     marked "......"), "drop-start" or "longest-first"
     * @param maxLength token budget of one input (rounded down to a multiple of 16), counted with the base model's
     *     tokenizer
     * @param template chat template ("gemma", "llama3", "qwen2.5", "qwen2", "chatml"); null = the base model's
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Text(String format, String truncation, int maxLength, @StrictJson.Default("null") String template) {
        public Text(String format, String truncation, int maxLength) {
            this(format, truncation, maxLength, null);
        }

        public Text {
            require(format, "text.format");
            require(truncation, "text.truncation");
            arenakit.text.PromptFormat.forName(format); // a typo fails when the file is read, not when the stage starts
            arenakit.text.Truncation.forName(truncation);
            if (template != null) {
                arenakit.text.ChatTemplate.forName(template);
            }
            if (maxLength <= 0) {
                throw new IllegalArgumentException("text.max_length must be > 0, got " + maxLength);
            }
        }
    }

    /** Fold {@code fold} of a StratifiedGroupKFold({@code folds}) split grouped by prompt is held out. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Holdout(int folds, int fold, long seed) {
        public Holdout {
            if (folds < 2 || fold < 0 || fold >= folds) {
                throw new IllegalArgumentException("holdout needs folds >= 2 and 0 <= fold < folds, got fold " + fold
                        + " of " + folds);
            }
        }
    }

    /**
     * @param batchSize rows per optimizer step (with full swap each row contributes both orders)
     * @param maxTokens padded tokens per micro-batch; a step's rows are sorted by length and split into
     *     micro-batches whose gradients accumulate into the one step
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Loader(int batchSize, int maxTokens) {
        public Loader {
            if (batchSize <= 0 || maxTokens <= 0) {
                throw new IllegalArgumentException("loader.batch_size and loader.max_tokens must be > 0");
            }
        }
    }

    /**
     * @param maxSteps stop after this many optimizer steps (0 = run all epochs); the schedule spans the shorter
     * @param evalEvery evaluate on the holdout every N steps (0 = only at the end)
     * @param checkpointEvery write a resumable checkpoint every N steps (0 = only when stopped early)
     * @param evalTta evaluate with swap TTA (the way the submission predicts)
     * @param logEvery add the running training loss (mean over the steps since the previous line) to the history
     *     every N steps, as Hugging Face's {@code logging_steps} (0 = only at evaluations)
     * @param gradientCheckpointing activation checkpointing: the forward keeps only each decoder layer's input and
     *     the backward recomputes the layers one at a time (the same gradients for about a third more compute)
     * @param devices where the stage trains ("cpu", "gpu(0)", ...); null = the engine's default device (the first
     *     GPU when there is one, else the CPU)
     * @param mode "single" (one device), "pipeline" (the layers split over the devices in order, each micro-batch
     *     passing through them) or "data_parallel" (a replica per device, the step's micro-batches shared, the
     *     gradients summed into one update)
     * @param splitLayer pipeline mode on two devices: the first layer of the second (null = half the layers)
     * @param deviceMemoryGib memory of each device in GiB for the memory check before the stage loads anything;
     *     null = what the device reports (CUDA's free memory; the machine's available memory for the CPU). A number
     *     plans for another machine; on a GPU the smaller of it and the free memory is used
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Train(long seed, int epochs, int maxSteps, int evalEvery, int checkpointEvery, boolean evalTta,
            int logEvery,
            @StrictJson.Default("false") boolean gradientCheckpointing,
            @StrictJson.Default("null") List<String> devices,
            @StrictJson.Default("\"single\"") String mode,
            @StrictJson.Default("null") Integer splitLayer,
            @StrictJson.Default("null") Double deviceMemoryGib) {
        public static final String SINGLE = "single";
        public static final String PIPELINE = "pipeline";
        public static final String DATA_PARALLEL = "data_parallel";

        /** One device (the default one), no checkpointing, the memory as the device reports it. */
        public Train(long seed, int epochs, int maxSteps, int evalEvery, int checkpointEvery, boolean evalTta,
                int logEvery) {
            this(seed, epochs, maxSteps, evalEvery, checkpointEvery, evalTta, logEvery, false, null, SINGLE, null,
                    null);
        }

        public Train {
            if (epochs <= 0) {
                throw new IllegalArgumentException("train.epochs must be > 0, got " + epochs);
            }
            if (maxSteps < 0 || evalEvery < 0 || checkpointEvery < 0 || logEvery < 0) {
                throw new IllegalArgumentException("train.max_steps, eval_every, checkpoint_every and log_every must "
                        + "be >= 0");
            }
            mode = mode == null ? SINGLE : mode.toLowerCase(Locale.ROOT);
            if (!List.of(SINGLE, PIPELINE, DATA_PARALLEL).contains(mode)) {
                throw new IllegalArgumentException("train.mode must be single, pipeline or data_parallel, got " + mode);
            }
            if (devices != null) {
                devices = List.copyOf(devices);
                devices.forEach(arenakit.model.Placement::device); // a misspelt device fails when the file is read
            }
            int count = devices == null ? 1 : devices.size();
            if (mode.equals(SINGLE) ? count != 1 : count < 2) {
                throw new IllegalArgumentException("train.mode " + mode + " needs " + (mode.equals(SINGLE)
                        ? "one device" : "two or more devices") + " in train.devices, got " + (devices == null
                        ? "none (the default device)" : devices));
            }
            if (splitLayer != null && (!mode.equals(PIPELINE) || count != 2 || splitLayer < 1)) {
                throw new IllegalArgumentException("train.split_layer is for pipeline mode on two devices, a layer "
                        + ">= 1 (null = half the layers), got " + splitLayer + " with mode " + mode);
            }
            if (deviceMemoryGib != null && !(deviceMemoryGib > 0 && Double.isFinite(deviceMemoryGib))) {
                throw new IllegalArgumentException("train.device_memory_gib must be a positive number of GiB (null = "
                        + "what the device reports), got " + deviceMemoryGib);
            }
        }

        /** The same run on other devices: {@code mode} null follows the device count (single, else the configured
         * multi-device mode, pipeline when it was single); the split layer is kept only where it still applies. */
        public Train onDevices(List<String> names, String newMode) {
            String m = newMode != null ? newMode.toLowerCase(Locale.ROOT) : names.size() == 1 ? SINGLE
                    : mode.equals(SINGLE) ? PIPELINE : mode;
            Integer split = m.equals(PIPELINE) && names.size() == 2 ? splitLayer : null;
            return new Train(seed, epochs, maxSteps, evalEvery, checkpointEvery, evalTta, logEvery, gradientCheckpointing,
                    names, m, split, deviceMemoryGib);
        }

        public Train withGradientCheckpointing(boolean on) {
            return new Train(seed, epochs, maxSteps, evalEvery, checkpointEvery, evalTta, logEvery, on, devices, mode,
                    splitLayer, deviceMemoryGib);
        }

        public Train withDeviceMemoryGib(Double gib) {
            return new Train(seed, epochs, maxSteps, evalEvery, checkpointEvery, evalTta, logEvery, gradientCheckpointing,
                    devices, mode, splitLayer, gib);
        }

        /** Without {@code logEvery}: history lines only at evaluations. */
        public Train(long seed, int epochs, int maxSteps, int evalEvery, int checkpointEvery, boolean evalTta) {
            this(seed, epochs, maxSteps, evalEvery, checkpointEvery, evalTta, 0);
        }
    }

    /** The same stage with other train settings. */
    public TrainConfig withTrain(Train t) {
        return new TrainConfig(kind, description, model, data, optimizer, schedule, loader, t, distill);
    }

    /** The same stage with another micro-batch token budget. */
    public TrainConfig withMaxTokens(int maxTokens) {
        return new TrainConfig(kind, description, model, data, optimizer, schedule,
                new Loader(loader.batchSize(), maxTokens), train, distill);
    }

    /** The {@code train} fields that say where and how a stage computes, not what: see {@link #fingerprintJson}. */
    public static final List<String> PLACEMENT = List.of("gradient_checkpointing", "devices", "mode", "split_layer",
            "device_memory_gib");

    /**
     * The config as fingerprints see it: without the {@link #PLACEMENT} fields, so a paused stage resumes on other
     * hardware, with or without checkpointing (they change the result by float rounding at most: gradients are
     * summed in the same order on any devices), and a finished one is not redone for them.
     */
    public com.fasterxml.jackson.databind.JsonNode fingerprintJson() {
        com.fasterxml.jackson.databind.node.ObjectNode tree = arenakit.util.Json.MAPPER.valueToTree(this);
        ((com.fasterxml.jackson.databind.node.ObjectNode) tree.get("train")).remove(PLACEMENT);
        return tree;
    }

    static void require(Object value, String field) {
        if (value == null) {
            throw new IllegalArgumentException("missing field '" + field + "'");
        }
    }
}
