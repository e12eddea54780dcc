package arenakit.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.family.Decoder;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.family.WeightSource;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.lora.LinearWeight;
import arenakit.model.lora.LoraLinear;
import arenakit.model.lora.MergeOnLoad;
import arenakit.model.lora.PeftAdapter;
import arenakit.model.quant.Int8Weight;
import arenakit.model.quant.Quantization;
import arenakit.util.Engines;
import arenakit.util.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Builds a {@link DecoderClassifier} from a Hugging Face directory: the family from config.json, the head layout
 * from the adapter or checkpoint (or the options), one check of every tensor name and shape, then the decoder's
 * weights stage by stage onto their devices, the head, the adapters.
 */
final class ClassifierLoader {
    private static final long PRINT_PLAN_ABOVE = 1L << 30;
    private static final long PROGRESS_ABOVE = 256L << 20;
    private static final String HEAD_PREFIX = DecoderClassifier.HEAD + ".";

    private ClassifierLoader() {}

    static DecoderClassifier load(Path dir, DecoderClassifier.Options o) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is not a directory");
        }
        DecoderConfig config = Families.read(dir.resolve(HfCheckpoint.CONFIG)).withNumLabels(o.numLabels);
        HfCheckpoint ckpt = HfCheckpoint.open(dir);
        Placement placement = o.placement != null ? o.placement
                : Placement.single(Engines.pytorch().defaultDevice());
        List<Placement.Stage> stages = placement.stages(config.numHiddenLayers());
        DataType dtype = o.dtype != null ? o.dtype
                : stages.get(0).device().isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
        if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16) {
            throw new IllegalArgumentException("dtype must be FLOAT32 or FLOAT16 (never BFLOAT16 in DJL), not " + dtype);
        }
        if (o.fullFineTune && (dtype != DataType.FLOAT32 || o.lora != null || (o.adapter != null && !o.mergeAdapter))) {
            throw new IllegalArgumentException("full fine-tuning needs FLOAT32 and no separate or new LoRA adapters");
        }
        if (o.quantize != Quantization.NONE && o.fullFineTune) {
            throw new IllegalArgumentException(o.quantize.configName() + " weights are frozen: full fine-tuning "
                    + "cannot train them (train LoRA over the quantized base, or load it unquantized)");
        }
        PeftAdapter.Dir adapter = o.adapter == null ? null : PeftAdapter.read(o.adapter);
        if (adapter != null) {
            adapter.checkAgainst(PeftAdapter.Module.ofCheckpoint(config.tensorShapes())); // LoRA first, then the head
        }
        // a merged adapter goes into each float weight before it is quantized (rounded once, no float model copy)
        MergeOnLoad merger = adapter != null && o.mergeAdapter && o.quantize != Quantization.NONE
                ? new MergeOnLoad(adapter) : null;

        Set<String> ckptHead = headKeys(ckpt.names(), HEAD_PREFIX);
        boolean adapterHead = adapter != null && adapter.hasHead();
        if (adapter != null && !adapterHead && !o.freshHead) {
            if (!o.baseHead) {
                throw new IOException(headless(adapter));
            }
            if (ckptHead.isEmpty()) {
                throw new IOException(adapter.dir() + " carries no trained head and the base's head was asked for, "
                        + "but " + dir + " has no score.* tensors either: there is no trained head to predict with");
            }
            o.log.accept(adapter.dir() + ": no head of its own; using the score head of " + dir + " (asked for)");
        }
        boolean headFromCkpt = !adapterHead && !o.freshHead && !ckptHead.isEmpty();
        ClassifierHead.Kind kind = o.head;
        if (adapterHead) {
            kind = adapterHead(adapter, config, o.head);
        } else if (kind == null) {
            kind = !headFromCkpt ? ClassifierHead.Kind.SCORE
                    : ClassifierHead.detect(ckptHead, config.hiddenSize(), config.numLabels()).orElseThrow(() ->
                            new IllegalArgumentException("score.* tensors " + ckptHead + " fit no head layout with "
                                    + config.numLabels() + " labels; choose Options.head(...) or freshHead(true)"));
        }
        if (headFromCkpt && !ClassifierHead.detect(ckptHead, config.hiddenSize(), config.numLabels())
                .equals(Optional.of(kind))) {
            throw new IllegalArgumentException(dir + " holds score.* tensors " + ckptHead + ", not a " + kind
                    + " head with " + config.numLabels() + " labels; use Options.freshHead(true) to start one");
        }
        Map<String, long[]> headShapes = new LinkedHashMap<>();
        ClassifierHead.shapes(kind, config.hiddenSize(), config.numLabels())
                .forEach((k, v) -> headShapes.put(HEAD_PREFIX + k, v));
        ckpt.check(config.tensorShapes(), headFromCkpt ? headShapes : Map.of(), ignored(ckpt, headFromCkpt, o.log));

        MemoryPlan plan = new MemoryPlan(config, dtype, stages, o.planTokens, o.planLength,
                o.lora == null ? 0 : o.lora.r(), o.quantize);
        if (plan.totalWeightBytes() > PRINT_PLAN_ABOVE) {
            o.log.accept(plan.toString());
        }
        NDManager root = Engines.newManager();
        try {
            List<NDManager> managers = new ArrayList<>();
            for (Placement.Stage s : stages) {
                managers.add(root.newSubManager(s.device()));
            }
            Decoder decoder;
            int total = config.tensorShapes().size();
            try (Progress progress = plan.totalWeightBytes() > PROGRESS_ABOVE
                    ? Progress.start("load " + ckpt.dir().getFileName(), total, "tensor") : null) {
                decoder = config.build(new Weights(ckpt, stages, managers, dtype, o.fullFineTune, o.quantize,
                        merger, progress));
            }
            if (o.quantize != Quantization.NONE) {
                o.log.accept(quantizedNotice(decoder, o.quantize, dtype, merger, adapter));
            }
            DecoderClassifier model = new DecoderClassifier(ckpt.dir(), dtype, stages, root, managers, decoder,
                    o.fullFineTune, o.packed != null ? o.packed : !stages.get(0).device().isGpu());
            model.gradientCheckpointing(o.gradientCheckpointing);
            NDManager last = managers.get(managers.size() - 1);
            if (headFromCkpt) {
                Map<String, NDArray> params = new LinkedHashMap<>();
                for (String k : headShapes.keySet()) {
                    params.put(k.substring(HEAD_PREFIX.length()), ckpt.load(k, last, DataType.FLOAT32, true));
                }
                model.setHead(ClassifierHead.of(kind, config.hiddenSize(), config.numLabels(), params));
            } else if (!adapterHead) {
                model.setHead(ClassifierHead.fresh(kind, config.hiddenSize(), config.numLabels(),
                        config.initializerRange(), new Random(o.seed), last));
                o.log.accept(config.familyName() + " classifier: fresh " + kind + " head (" + (o.freshHead
                        ? "requested" : "no score.* tensors in " + dir) + ")");
            }
            if (adapter != null) {
                model.applyAdapter(adapter, o.mergeAdapter, kind, true, merger == null ? Set.of() : merger.merged());
            }
            if (o.lora != null) {
                model.addLora(o.lora, o.seed);
            }
            model.markTrainable();
            return model;
        } catch (IOException | RuntimeException e) {
            root.close();
            throw e;
        }
    }

    /** Why an adapter without a head is refused (the same words for a load and for the setup check). */
    static String headless(PeftAdapter.Dir a) {
        return a.dir() + " carries no trained head (" + PeftAdapter.CONFIG_FILE + "'s modules_to_save does not list "
                + "score, task_type " + a.taskType() + ", and " + PeftAdapter.WEIGHTS_FILE + " has no "
                + PeftAdapter.PREFIX + "score.* tensor), so it would predict with the base checkpoint's head or a "
                + "fresh random one. If it was trained on top of the base's own score head, ask for that head "
                + "explicitly: \"base_head\": true on the model reference, --base-head on the command line, "
                + "Options.baseHead(true)";
    }

    /**
     * The layout of an adapter's head from its tensors' names and shapes (header only), which must be {@code wanted}
     * when that is given; errors name the file and the tensor.
     */
    static ClassifierHead.Kind adapterHead(PeftAdapter.Dir a, DecoderConfig config, ClassifierHead.Kind wanted)
            throws IOException {
        Path file = a.weights().path();
        ClassifierHead.Kind kind = ClassifierHead.detect(a.head().keySet(), config.hiddenSize(), config.numLabels())
                .orElseThrow(() -> new IOException(file + ": head tensors " + PeftAdapter.PREFIX + "score."
                        + a.head().keySet() + " fit no head layout (linear: weight; mlp: 1.*, 4.*; mlp3: 0.*, 2.*, "
                        + "4.*)"));
        if (wanted != null && kind != wanted) {
            throw new IOException(file + " holds a " + kind + " head, but " + wanted + " was asked for (the stage's "
                    + "model.head)");
        }
        List<String> problems = new ArrayList<>();
        ClassifierHead.shapes(kind, config.hiddenSize(), config.numLabels()).forEach((k, shape) -> {
            long[] got = a.head().get(k).shape();
            if (!java.util.Arrays.equals(got, shape)) {
                problems.add("tensor " + PeftAdapter.PREFIX + "score." + k + " has shape " + java.util.Arrays.toString(got)
                        + ", expected " + java.util.Arrays.toString(shape) + " (hidden_size " + config.hiddenSize()
                        + ", " + config.numLabels() + " labels)");
            }
        });
        if (!problems.isEmpty()) {
            throw new IOException(file + " does not fit the model: " + String.join("; ", problems));
        }
        return kind;
    }

    /**
     * Checks a PEFT adapter against a base model's config without loading any weight, as loading it onto that base
     * would: adapter_config.json, the header, every LoRA tensor against the base's projections, and the head
     * ({@code head} is the layout wanted, null = any; {@code baseHead} allows an adapter without a head when
     * {@code baseHasHead}).
     */
    static void checkAdapter(Path adapterDir, DecoderConfig base, ClassifierHead.Kind head, boolean baseHead,
            boolean baseHasHead) throws IOException {
        PeftAdapter.Dir a = PeftAdapter.read(adapterDir);
        a.checkAgainst(PeftAdapter.Module.ofCheckpoint(base.tensorShapes()));
        if (a.hasHead()) {
            adapterHead(a, base, head);
        } else if (!baseHead) {
            throw new IOException(headless(a));
        } else if (!baseHasHead) {
            throw new IOException(a.dir() + " carries no trained head and the base's head was asked for, but the base "
                    + "model has no score.* tensors");
        }
    }

    /**
     * Checks a checkpoint folder without loading any weight: config.json (strictly), the safetensors headers, and
     * that every decoder tensor is there with the shape its config implies (the head is checked when a stage loads
     * it). Returns the config.
     */
    static DecoderConfig checkFiles(Path dir, Consumer<String> log) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is not a directory");
        }
        DecoderConfig config = Families.read(dir.resolve(HfCheckpoint.CONFIG));
        HfCheckpoint ckpt = HfCheckpoint.open(dir);
        ckpt.check(config.tensorShapes(), Map.of(), ignored(ckpt, false, log));
        return config;
    }

    /**
     * Tensors the classifier does not use: a causal LM's {@code lm_head.weight}, the checkpoint's head when a fresh
     * one is asked for, rotary buffers some old checkpoints saved, and modules outside the decoder that other task
     * classes add (a reward model's {@code regression_layer.*}, {@code gating.*}; said on the log). Everything under
     * {@code model.} must be the decoder's.
     */
    private static Set<String> ignored(HfCheckpoint ckpt, boolean headFromCkpt, Consumer<String> log) {
        Set<String> ignored = new TreeSet<>();
        List<String> noticed = new ArrayList<>();
        for (String name : ckpt.names()) {
            if (name.equals("lm_head.weight") || name.endsWith("rotary_emb.inv_freq")) {
                ignored.add(name);
            } else if (name.startsWith(HEAD_PREFIX)) {
                if (!headFromCkpt) {
                    ignored.add(name);
                }
            } else if (!name.startsWith("model.")) {
                ignored.add(name);
                noticed.add(name);
            }
        }
        if (!noticed.isEmpty()) {
            log.accept(ckpt.dir() + ": ignoring " + noticed.size() + " tensor" + (noticed.size() == 1 ? "" : "s")
                    + " outside the decoder and its score head: " + String.join(", ", noticed.subList(0,
                    Math.min(6, noticed.size()))) + (noticed.size() > 6 ? ", ..." : ""));
        }
        return ignored;
    }

    /** "int8: 14 projections quantized per output channel, 1.2 MiB (float32: 4.6 MiB); ..." */
    private static String quantizedNotice(Decoder decoder, Quantization q, DataType dtype, MergeOnLoad merger,
            PeftAdapter.Dir adapter) {
        long stored = 0;
        long dense = 0;
        List<LoraLinear> projections = decoder.projections();
        for (LoraLinear p : projections) {
            stored += p.base().bytes();
            dense += p.outFeatures() * p.inFeatures() * dtype.getNumOfBytes();
        }
        String merged = merger == null ? "" : "; " + adapter.dir() + " merged into " + merger.merged().size()
                + " of them before quantizing";
        return String.format(Locale.ROOT, "%s: %d projections quantized per output channel: %s (%s: %s)%s",
                q.configName(), projections.size(), MemoryPlan.gib(stored), dtype, MemoryPlan.gib(dense), merged);
    }

    private static Set<String> headKeys(Set<String> names, String prefix) {
        Set<String> out = new TreeSet<>();
        for (String n : names) {
            if (n.startsWith(prefix)) {
                out.add(n.substring(prefix.length()));
            }
        }
        return out;
    }

    /**
     * The checkpoint's tensors placed by stage, converted to the compute type, counted on the progress bar; with a
     * quantization the projections are read as float32 one at a time (plus a merged adapter's delta) and stored
     * quantized, so no float copy of the model exists.
     */
    private record Weights(HfCheckpoint ckpt, List<Placement.Stage> stages, List<NDManager> managers, DataType dtype,
            boolean owned, Quantization quantization, MergeOnLoad merger, Progress progress) implements WeightSource {

        @Override
        public LinearWeight linearWeight(String module, int layer) throws IOException {
            if (quantization == Quantization.NONE) {
                return WeightSource.super.linearWeight(module, layer);
            }
            String name = module + ".weight";
            NDManager stage = managers.get(stage(layer));
            try (NDManager tmp = stage.newSubManager()) {
                NDArray w = ckpt.load(name, tmp, DataType.FLOAT32, false);
                NDArray merged = merger == null ? w : merger.apply(module, layer, w);
                LinearWeight q = Int8Weight.quantize(merged, stage, dtype, ckpt.dir() + ": " + name);
                if (progress != null) {
                    progress.step();
                }
                return q;
            }
        }

        @Override
        public NDArray load(String name, int layer) throws IOException {
            NDArray a = ckpt.load(name, managers.get(stage(layer)), dtype, owned);
            if (progress != null) {
                progress.step();
            }
            return a;
        }

        @Override
        public Device device(int layer) {
            return stages.get(stage(layer)).device();
        }

        private int stage(int layer) {
            if (layer < 0) {
                return 0;
            }
            for (int s = 0; s < stages.size(); s++) {
                if (layer < stages.get(s).to()) {
                    return s;
                }
            }
            return stages.size() - 1;
        }
    }
}
