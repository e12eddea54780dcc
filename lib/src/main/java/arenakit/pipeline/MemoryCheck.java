package arenakit.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import arenakit.infer.InferenceConfig;
import arenakit.infer.WeightedModel;
import arenakit.model.ActivationMemory;
import arenakit.model.MemoryPlan;
import arenakit.model.Placement;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.quant.Quantization;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.TrainConfig;
import arenakit.util.ProcessMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The memory check before a stage loads any weight: per device, the weights, the trainable state (LoRA A/B or
 * every weight, with their gradients and AdamW's moments) and the activations of the stage's worst micro-batch
 * ({@link ActivationMemory}: its token budget in sequences of its max length, with or without activation
 * checkpointing) against what the device has. A device's memory is CUDA's free memory on a GPU and the machine's
 * available memory for the CPU (several "cpu" devices share it), or the stage's {@code device_memory_gib} (or
 * {@code --device-memory}) to plan for another machine; of it the plan keeps {@link #GPU_HEADROOM} (at least
 * {@link #GPU_HEADROOM_MIN} bytes) of a GPU free for the CUDA context, cuBLAS workspaces and the caching allocator's
 * fragmentation, and {@link #CPU_HEADROOM} of the CPU's for the blocks glibc keeps in its arenas after they are
 * freed (docs/benchmarks.md: resident memory creeps 13-29% above what is live over passes) and the JVM.
 *
 * <p>A stage that does not fit is reported with its numbers and the settings that would make it fit; models of an
 * ensemble run one after another, so each is checked on its own.
 */
final class MemoryCheck {
    static final double GPU_HEADROOM = 0.10;
    static final long GPU_HEADROOM_MIN = 1L << 30;
    static final double CPU_HEADROOM = 0.25;
    private static final long GIB = 1L << 30;

    private MemoryCheck() {}

    /** Where each device's memory comes from. */
    interface Capacities {
        /**
         * The memory of {@code device} ({@code configuredGib}: the stage's value of {@code field}, or null); null
         * when unknown.
         */
        Capacity of(Device device, Double configuredGib, String field);
    }

    /** A device's memory and where the number comes from ("CUDA free memory", "train.device_memory_gib", ...). */
    record Capacity(long bytes, String source) {
        long usable(boolean gpu) {
            long keep = gpu ? Math.max(GPU_HEADROOM_MIN, (long) (bytes * GPU_HEADROOM)) : (long) (bytes * CPU_HEADROOM);
            return Math.max(0, bytes - keep);
        }
    }

    /**
     * As a run sees its devices: measured; a configured size replaces the measurement on the CPU and bounds it on a
     * GPU (a plan never counts on memory the device does not have free).
     */
    static Capacities measured() {
        return (device, gib, field) -> {
            Capacity here = measure(device);
            if (gib == null) {
                return here;
            }
            long configured = (long) (gib * GIB);
            if (device.isGpu() && here != null && here.bytes() < configured) {
                return here;
            }
            return new Capacity(configured, field);
        };
    }

    /**
     * As {@code memory-plan} plans: {@code flagGib} ({@code --device-memory}) for every device, else the stage's
     * configured size, else the device's measured memory when it is here; null (unknown) otherwise.
     */
    static Capacities planned(Double flagGib) {
        return (device, gib, field) -> {
            if (flagGib != null) {
                return new Capacity((long) (flagGib * GIB), "--device-memory");
            }
            if (gib != null) {
                return new Capacity((long) (gib * GIB), field);
            }
            return measure(device);
        };
    }

    /** CUDA's free memory of a GPU that is here, the machine's available memory for the CPU; null otherwise. */
    static Capacity measure(Device device) {
        if (!device.isGpu()) {
            long free = ProcessMemory.available();
            return free < 0 ? null : new Capacity(free, "available memory of this machine");
        }
        try {
            if (device.getDeviceId() >= ai.djl.util.cuda.CudaUtils.getGpuCount()) {
                return null;
            }
            java.lang.management.MemoryUsage m = ai.djl.util.cuda.CudaUtils.getGpuMemory(device);
            return new Capacity(m.getMax() - m.getCommitted(), "CUDA free memory of " + m.getMax() / GIB + " GiB");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return null;
        }
    }

    /** One device's share of a stage. */
    record Share(String device, String layers, long weights, long state, long activations) {
        long total() {
            return weights + state + activations;
        }
    }

    /** A stage's (or one model's) plan: the shares, each physical device against its memory, and the fixes. */
    record Report(String title, List<Share> shares, Map<String, Capacity> capacity, Map<String, Long> need,
            List<String> fixes) {
        boolean fits() {
            for (Map.Entry<String, Long> e : need.entrySet()) {
                Capacity c = capacity.get(e.getKey());
                if (c == null || e.getValue() > c.usable(e.getKey().startsWith("gpu"))) {
                    return false;
                }
            }
            return true;
        }

        boolean unknown() {
            return need.keySet().stream().anyMatch(d -> capacity.get(d) == null);
        }

        /** The table memory-plan prints. */
        String table() {
            StringBuilder b = new StringBuilder(title).append('\n');
            b.append(String.format(Locale.ROOT, "  %-8s %-10s %11s %11s %12s %11s%n", "device", "layers", "weights",
                    "trainable", "activations", "total"));
            for (Share s : shares) {
                b.append(String.format(Locale.ROOT, "  %-8s %-10s %11s %11s %12s %11s%n", s.device(), s.layers(),
                        gib(s.weights()), gib(s.state()), gib(s.activations()), gib(s.total())));
            }
            for (Map.Entry<String, Long> e : need.entrySet()) {
                Capacity c = capacity.get(e.getKey());
                boolean gpu = e.getKey().startsWith("gpu");
                b.append(String.format(Locale.ROOT, "  %s: needs %s, %s%n", e.getKey(), gib(e.getValue()), c == null
                        ? "memory unknown (no such device here: give --device-memory GIB or device_memory_gib)"
                        : "usable " + gib(c.usable(gpu)) + " of " + gib(c.bytes()) + " (" + c.source() + ", "
                                + (gpu ? "10% kept free" : "25% kept free") + ")" + (e.getValue() <= c.usable(gpu)
                                ? ": fits" : ": DOES NOT FIT")));
            }
            if (!fits() && !fixes.isEmpty()) {
                b.append("  settings that fit: ").append(String.join("; or ", fixes)).append('\n');
            }
            return b.toString();
        }

        /** The one-paragraph problem of a stage that does not fit. */
        String problem() {
            List<String> over = new ArrayList<>();
            for (Map.Entry<String, Long> e : need.entrySet()) {
                Capacity c = capacity.get(e.getKey());
                boolean gpu = e.getKey().startsWith("gpu");
                if (c != null && e.getValue() > c.usable(gpu)) {
                    Share s = shares.stream().filter(x -> device(x.device()).equals(e.getKey())).findFirst()
                            .orElseThrow();
                    over.add(e.getKey() + " needs " + gib(e.getValue()) + " (weights " + gib(s.weights())
                            + ", trainable " + gib(s.state()) + ", activations " + gib(s.activations()) + ") but has "
                            + gib(c.usable(gpu)) + " usable of " + gib(c.bytes()) + " (" + c.source() + ")");
                }
            }
            return title + ": does not fit: " + String.join("; ", over) + (fixes.isEmpty() ? ""
                    : ". Settings that fit: " + String.join("; or ", fixes));
        }
    }

    /** The physical device a share is on ("cpu" for every CPU entry: they share the machine's memory). */
    static String device(String name) {
        Device d = Placement.device(name);
        return d.isGpu() ? "gpu" + d.getDeviceId() : "cpu";
    }

    // ------------------------------------------------------------------------------------ training stages

    /** The trainable settings of a training stage that change its memory. */
    private record Train(DecoderConfig config, DataType dtype, List<String> devices, String mode, Integer split,
            long tokens, int maxLength, TrainConfig.Lora lora, boolean checkpointing, Quantization quantize) {}

    /** The plan of a training stage on its devices; {@code base} its base model's config. */
    static Report train(String title, TrainConfig t, DecoderConfig base, Capacities capacities) {
        Train run = run(t, base);
        Report r = train(title, run, capacities, t.train().deviceMemoryGib());
        if (r.fits() || r.unknown()) {
            return r;
        }
        List<String> fixes = new ArrayList<>();
        if (!run.checkpointing()) {
            Train on = with(run, run.tokens(), run.maxLength(), true);
            if (train(title, on, capacities, t.train().deviceMemoryGib()).fits()) {
                fixes.add("train.gradient_checkpointing: true (needs " + gib(maxNeed(train(title, on, capacities,
                        t.train().deviceMemoryGib()))) + ")");
            }
        }
        for (boolean ckpt : run.checkpointing() ? new boolean[] {true} : new boolean[] {false, true}) {
            long tokens = largest(run.maxLength(), run.tokens(), n -> train(title, with(run, n, run.maxLength(), ckpt),
                    capacities, t.train().deviceMemoryGib()).fits());
            if (tokens > 0 && tokens < run.tokens()) {
                fixes.add("loader.max_tokens <= " + tokens + (ckpt && !run.checkpointing()
                        ? " with train.gradient_checkpointing: true" : ""));
            }
        }
        if (run.quantize() == Quantization.NONE && run.lora() != null) { // the frozen base as int8: half the weights
            Train q = with(run, run.tokens(), run.maxLength(), true, Quantization.INT8);
            String ckpt = run.checkpointing() ? "" : " and train.gradient_checkpointing: true";
            if (train(title, q, capacities, t.train().deviceMemoryGib()).fits()) {
                fixes.add("model.quantize: int8" + ckpt);
            } else {
                long tokens = largest(run.maxLength(), run.tokens(), n -> train(title, with(q, n, run.maxLength(),
                        true), capacities, t.train().deviceMemoryGib()).fits());
                if (tokens > 0) {
                    fixes.add("model.quantize: int8" + ckpt + " and loader.max_tokens <= " + tokens);
                }
            }
        }
        if (fixes.isEmpty()) {
            long length = largest(256, run.maxLength(), n -> train(title, with(run, n, (int) n, true), capacities,
                    t.train().deviceMemoryGib()).fits());
            if (length >= 256) {
                fixes.add("data.text.max_length <= " + (length / 16 * 16) + " and loader.max_tokens " + (length / 16
                        * 16) + " with train.gradient_checkpointing: true");
            }
        }
        if (fixes.isEmpty() && run.devices().size() == 1) {
            fixes.add("a device with more memory, or the layers split over two: train.devices [\"gpu(0)\", "
                    + "\"gpu(1)\"], train.mode: pipeline, with train.gradient_checkpointing: true");
        }
        return new Report(r.title(), r.shares(), r.capacity(), r.need(), fixes);
    }

    private static Train run(TrainConfig t, DecoderConfig base) {
        TrainConfig.Train tr = t.train();
        List<String> devices = tr.devices() != null ? tr.devices()
                : List.of(arenakit.util.Engines.pytorch().defaultDevice().isGpu() ? "gpu(0)" : "cpu");
        boolean gpu = Placement.device(devices.get(0)).isGpu();
        DataType dtype = Models.dtype(t.model().dtype()).orElse(gpu ? DataType.FLOAT16 : DataType.FLOAT32);
        if (t.model().lora() == null) {
            dtype = DataType.FLOAT32; // a full fine-tune trains float32 copies
        }
        return new Train(base, dtype, devices, tr.mode(), tr.splitLayer(), t.loader().maxTokens(),
                t.data().text().maxLength(), t.model().lora(), tr.gradientCheckpointing(),
                Quantization.parse(t.model().quantize(), "model.quantize"));
    }

    private static Train with(Train r, long tokens, int maxLength, boolean ckpt) {
        return with(r, tokens, maxLength, ckpt, r.quantize());
    }

    private static Train with(Train r, long tokens, int maxLength, boolean ckpt, Quantization q) {
        return new Train(r.config(), r.dtype(), r.devices(), r.mode(), r.split(), tokens, maxLength, r.lora(), ckpt, q);
    }

    /** The largest value in [lo, hi] (steps of lo / 4, at least 16) for which {@code fits} holds; 0 for none. */
    private static long largest(long lo, long hi, java.util.function.LongPredicate fits) {
        long step = Math.max(16, lo / 4);
        long best = 0;
        for (long n = lo; n <= hi; n += step) {
            if (fits.test(n)) {
                best = n;
            } else if (best > 0) {
                break;
            }
        }
        return best;
    }

    private static long maxNeed(Report r) {
        return r.need().values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private static Report train(String title, Train run, Capacities capacities, Double gib) {
        DecoderConfig c = run.config();
        List<Device> devices = run.devices().stream().map(Placement::device).toList();
        boolean dataParallel = run.mode().equals(TrainConfig.Train.DATA_PARALLEL);
        Placement placement = dataParallel || devices.size() == 1 ? Placement.single(devices.get(0))
                : run.split() == null ? Placement.split(devices.toArray(new Device[0]))
                : Placement.split(new int[] {run.split()}, devices.toArray(new Device[0]));
        List<Placement.Stage> stages = placement.stages(c.numHiddenLayers());
        MemoryPlan weights = new MemoryPlan(c, run.dtype(), stages, run.tokens(), run.maxLength(), 0, run.quantize());
        TrainConfig.Lora lora = run.lora();
        ActivationMemory act = new ActivationMemory(c, run.dtype(), run.tokens(), run.maxLength(),
                lora == null ? 0 : lora.r(), lora == null ? 0 : lora.dropout(), devices.get(0).isGpu());
        List<Share> shares = new ArrayList<>();
        int replicas = dataParallel ? devices.size() : 1;
        for (int r = 0; r < replicas; r++) {
            for (int i = 0; i < stages.size(); i++) {
                Placement.Stage s = stages.get(i);
                String name = run.devices().get(dataParallel ? r : i);
                long w = weights.weightBytes(i);
                long trainable = lora == null ? w : loraParams(c, lora, s.to() - s.from());
                // int8 projections dequantized under autograd stay until the backward: every layer's without
                // checkpointing, the recomputed layer's with it (0 unless quantized)
                w += weights.dequantizedLayerBytes() * (run.checkpointing() ? 1 : s.to() - s.from());
                if (i == stages.size() - 1) {
                    trainable += (long) c.hiddenSize() * c.hiddenSize(); // at most the MLP heads' parameters
                }
                // float32 parameter (a full fine-tune's own copy counts as its weights), gradient, AdamW's two
                // moments; data parallel: a gradient copy per micro-batch, and on the first replica their sum
                long perParam = (lora == null ? 0 : 4) + 4 + (r == 0 ? 8 : 0) + (dataParallel ? (r == 0 ? 8 : 4) : 0);
                long state = trainable * perParam;
                long activations = act.trainingPeak(s.to() - s.from(), run.checkpointing());
                shares.add(new Share(name, "[" + s.from() + ", " + s.to() + ")", w, state, activations));
            }
        }
        String what = String.format(Locale.ROOT, "%s: %s %d layers, hidden %d, %s; %s; micro-batch <= %d tokens in "
                + "sequences of %d; activation checkpointing %s; %s on %s", title, c.familyName(),
                c.numHiddenLayers(), c.hiddenSize(), run.dtype().toString().toLowerCase(Locale.ROOT)
                + (run.quantize() == Quantization.NONE ? "" : " with " + run.quantize().configName() + " projections"),
                lora == null
                ? "every weight trained" : "LoRA r=" + lora.r() + " on " + lora.targets().size() + " projections",
                act.batchTokens(), run.maxLength(), run.checkpointing() ? "on" : "off", run.mode(), run.devices());
        return report(what, shares, capacities, gib, "train.device_memory_gib");
    }

    /** LoRA parameters of {@code layers} layers (A {@code [r, in]} and B {@code [out, r]} per target). */
    static long loraParams(DecoderConfig c, TrainConfig.Lora lora, int layers) {
        long h = c.hiddenSize();
        long n = 0;
        for (String t : lora.targets()) {
            long inOut = switch (t) {
                case "q_proj", "o_proj" -> h + c.qDim();
                case "k_proj", "v_proj" -> h + c.kvDim();
                default -> h + c.intermediateSize();
            };
            n += lora.r() * inOut;
        }
        return n * layers;
    }

    private static Report report(String title, List<Share> shares, Capacities capacities, Double gib, String field) {
        Map<String, Long> need = new LinkedHashMap<>();
        Map<String, Capacity> capacity = new LinkedHashMap<>();
        for (Share s : shares) {
            String d = device(s.device());
            need.merge(d, s.total(), Long::sum);
            if (!capacity.containsKey(d)) {
                capacity.put(d, capacities.of(Placement.device(s.device()), gib, field));
            }
        }
        return new Report(title, shares, capacity, need, List.of());
    }

    // ------------------------------------------------------------------------------------ inference stages

    /** What the check needs of a model an inference stage runs. */
    record Model(String name, DecoderConfig config, String dtype, int maxLength, Quantization quantize) {}

    /** The plan of one model of an inference stage on the stage's devices. */
    static Report inference(String title, Model m, InferenceConfig inference, Capacities capacities) {
        Report r = inference(title, m, inference, inference.maxTokens(), capacities);
        if (r.fits() || r.unknown()) {
            return r;
        }
        List<String> fixes = new ArrayList<>();
        long tokens = largest(m.maxLength(), inference.maxTokens(), n -> inference(title, m, inference, n,
                capacities).fits());
        if (tokens > 0 && tokens < inference.maxTokens()) {
            fixes.add("inference.max_tokens <= " + tokens);
        }
        if (fixes.isEmpty() && inference.devices().size() == 1) {
            fixes.add("the layers split over two devices: inference.devices [\"gpu(0)\", \"gpu(1)\"], inference.mode "
                    + "pipeline");
        }
        return new Report(r.title(), r.shares(), r.capacity(), r.need(), fixes);
    }

    private static Report inference(String title, Model m, InferenceConfig inference, long tokens,
            Capacities capacities) {
        DecoderConfig c = m.config();
        List<Device> devices = inference.devices().stream().map(Placement::device).toList();
        boolean gpu = devices.get(0).isGpu();
        DataType dtype = Models.dtype(m.dtype()).orElse(gpu ? DataType.FLOAT16 : DataType.FLOAT32);
        boolean pipeline = inference.mode().equals(InferenceConfig.PIPELINE);
        Placement placement = !pipeline ? Placement.single(devices.get(0)) : inference.splitLayer() == null
                ? Placement.split(devices.toArray(new Device[0]))
                : Placement.split(new int[] {inference.splitLayer()}, devices.toArray(new Device[0]));
        List<Placement.Stage> stages = placement.stages(c.numHiddenLayers());
        MemoryPlan weights = new MemoryPlan(c, dtype, stages, tokens, m.maxLength(), 0, m.quantize());
        ActivationMemory act = new ActivationMemory(c, dtype, tokens, m.maxLength(), 0, 0, gpu);
        long handoff = pipeline ? 2 * act.batchTokens() * c.hiddenSize() * dtype.getNumOfBytes() : 0;
        List<Share> shares = new ArrayList<>();
        int replicas = inference.mode().equals(InferenceConfig.DATA_PARALLEL) ? devices.size() : 1;
        for (int r = 0; r < replicas; r++) {
            for (int i = 0; i < stages.size(); i++) {
                Placement.Stage s = stages.get(i);
                shares.add(new Share(inference.devices().get(replicas > 1 ? r : i), "[" + s.from() + ", " + s.to()
                        + ")", weights.weightBytes(i) + weights.dequantizationBytes(), 0, act.forwardPeak() + handoff));
            }
        }
        String what = String.format(Locale.ROOT, "%s, model %s: %s %d layers, hidden %d, %s; micro-batch <= %d "
                + "tokens in sequences of %d; %s on %s", title, m.name(), c.familyName(), c.numHiddenLayers(),
                c.hiddenSize(), dtype.toString().toLowerCase(Locale.ROOT) + (m.quantize() == Quantization.NONE ? ""
                        : " with " + m.quantize().configName() + " projections"), act.batchTokens(), m.maxLength(),
                inference.mode(), inference.devices());
        return report(what, shares, capacities, inference.deviceMemoryGib(), "inference.device_memory_gib");
    }

    // ------------------------------------------------------------------------------------ a setup's stages

    /**
     * The reports of a stage of {@code p}: one for a training stage, one per model of an inference stage (or
     * {@code extra}, a submission config from the command line). {@code baseConfig} gives a base model's config by
     * name (null: the default); a base or model it cannot describe is skipped (other checks report why).
     */
    static List<Report> of(Pipeline p, String stage, Object config, Capacities capacities,
            Function<String, DecoderConfig> baseConfig) {
        List<Report> out = new ArrayList<>();
        String title = "memory plan of " + stage + " (" + p.folder().where(stage + ".json") + ")";
        if (config instanceof TrainConfig t) {
            DecoderConfig base = baseConfig.apply(t.model().baseModel());
            if (base != null) {
                out.add(train(title, t, base, capacities));
            }
            return out;
        }
        List<WeightedModel> models;
        Integer maxLength;
        InferenceConfig inference;
        if (config instanceof PseudoLabelConfig pl) {
            models = pl.models();
            maxLength = pl.maxLength();
            inference = pl.inference();
        } else if (config instanceof arenakit.infer.SubmissionConfig s) {
            models = s.models();
            maxLength = s.maxLength();
            inference = s.inference();
        } else {
            return out;
        }
        for (WeightedModel w : models) {
            Model m = model(p, w, maxLength, inference, baseConfig);
            if (m != null) {
                out.add(inference(title, m, inference, capacities));
            }
        }
        return out;
    }

    /** A model an inference stage names, described from its training config and base; null when it cannot be. */
    private static Model model(Pipeline p, WeightedModel w, Integer stageMaxLength, InferenceConfig inference,
            Function<String, DecoderConfig> baseConfig) {
        TrainConfig t;
        DecoderConfig config;
        if (p.stageConfig(w.model()) instanceof TrainConfig own) {
            t = own;
            config = baseConfig.apply(own.model().baseModel());
        } else {
            Path dir = Path.of(w.model()).toAbsolutePath().normalize();
            try {
                TrainedModel tm = TrainedModel.isPeftAdapter(dir) ? null : TrainedModel.of(w.model(), dir);
                if (tm == null) {
                    return null; // a bare adapter: described by the stage it borrows its settings from, at run time
                }
                t = tm.config();
                config = tm.fullFineTune() ? read(tm.weights()) : tm.encoding() != null
                        && p.hasBaseModel(tm.encoding().baseModel()) ? baseConfig.apply(tm.encoding().baseModel())
                        : baseConfig.apply(t.model().baseModel());
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
        if (config == null) {
            return null;
        }
        int length = w.maxLength() != null ? w.maxLength() : stageMaxLength != null ? stageMaxLength
                : t.data().text().maxLength();
        return new Model(w.model(), config, t.model().dtype(), length,
                Models.quantization(t, w.quantize(), inference));
    }

    /** A model folder's config.json with 3 labels, or null when it cannot be read. */
    static DecoderConfig read(Path dir) {
        try {
            Path file = dir.resolve(HfCheckpoint.CONFIG);
            return Files.isRegularFile(file) ? Families.read(file).withNumLabels(3) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * A base model's config without loading it: its checkpoint's config.json, or for a tiny model its sizes (with
     * a vocabulary of 65,536, more than any tiny setup's); null when it cannot be read.
     */
    static DecoderConfig baseConfig(ExperimentConfig.BaseModel spec) {
        if (spec.tiny() != null) {
            ExperimentConfig.TinyModel t = spec.tiny();
            try {
                return Families.tiny(t.modelType(), 65536, t.hiddenSize(), t.intermediateSize(), t.numHiddenLayers(),
                        t.numAttentionHeads(), t.numKeyValueHeads(), t.headDim()).withNumLabels(3);
            } catch (RuntimeException e) {
                return null;
            }
        }
        return read(Path.of(spec.checkpoint()).toAbsolutePath().normalize());
    }

    static String gib(long bytes) {
        if (bytes >= GIB) {
            return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) GIB);
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
}
