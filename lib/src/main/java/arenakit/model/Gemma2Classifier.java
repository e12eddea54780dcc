package arenakit.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import arenakit.model.SafetensorsFile.DType;
import arenakit.util.Engines;
import arenakit.util.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * transformers' {@code Gemma2ForSequenceClassification} on DJL: a Hugging Face checkpoint in, class logits of each
 * sequence's last real token out, with LoRA / PEFT adapters, the competition's classifier heads and layer stages
 * on several devices.
 *
 * <p>Typical uses:
 * <pre>{@code
 * // inference with a PEFT adapter merged in
 * var model = Gemma2Classifier.load(dir, Options.defaults().adapter(adapterDir, true));
 * // LoRA training: A/B and the head are trainable(), the base is frozen
 * var model = Gemma2Classifier.load(dir, Options.defaults().lora(LoraConfig.of(64, 128, 0.05)));
 * // two GPUs, layers [0, 21) and [21, 42), fp16
 * var model = Gemma2Classifier.load(dir, Options.defaults().placement(Placement.split(Device.gpu(0), Device.gpu(1))));
 * }</pre>
 *
 * <p>Batches are packed or right-padded ({@link TokenBatch}); either way a sequence's logits do not depend on the
 * rest of the batch.
 * The forward pass is also available stage by stage ({@link #embed}, {@link #layers}, {@link #classify}) so
 * inference code can pipeline micro-batches over two devices on two threads. Every call allocates its result in
 * the {@code scope} manager the caller passes (and closes); intermediates are freed layer by layer.
 * {@code training = false} runs without autograd (and without dropout), on any thread.
 */
public final class Gemma2Classifier implements SequenceClassifier {

    /** Build options; fluent and mutable. */
    public static final class Options {
        private Placement placement;
        private DataType dtype;
        private int numLabels = 3;
        private ClassifierHead.Kind head;
        private boolean freshHead;
        private Path adapter;
        private boolean mergeAdapter = true;
        private LoraConfig lora;
        private Boolean packed;
        private boolean fullFineTune;
        private long seed = 42;
        private Consumer<String> log = System.err::println;
        private long planTokens = 8192;
        private int planLength = 2048;

        /** Engine's default device, FLOAT32 on CPU / FLOAT16 on GPU, 3 labels, head from the checkpoint. */
        public static Options defaults() {
            return new Options();
        }

        /** Where the layers go (default: everything on the engine's default device). */
        public Options placement(Placement p) {
            this.placement = p;
            return this;
        }

        /** FLOAT32 or FLOAT16 weights and activations (default: FLOAT32 on CPU, FLOAT16 on GPU). */
        public Options dtype(DataType t) {
            this.dtype = t;
            return this;
        }

        public Options numLabels(int n) {
            this.numLabels = n;
            return this;
        }

        /** The head layout; default: what the adapter or checkpoint holds, else {@link ClassifierHead.Kind#SCORE}. */
        public Options head(ClassifierHead.Kind kind) {
            this.head = kind;
            return this;
        }

        /** Initialise the head afresh even if the checkpoint has one. */
        public Options freshHead(boolean fresh) {
            this.freshHead = fresh;
            return this;
        }

        /** A PEFT adapter directory to apply: merged into the weights, or kept separate (and trainable). */
        public Options adapter(Path dir, boolean merge) {
            this.adapter = dir;
            this.mergeAdapter = merge;
            return this;
        }

        /** New trainable LoRA adapters (after any merged adapter). */
        public Options lora(LoraConfig config) {
            this.lora = config;
            return this;
        }

        /**
         * Batch layout of {@link #logits} and {@link #batch}: packed (no compute on padding) or right-padded.
         * Default: packed on CPU, padded on GPU (one large kernel per step instead of one per sequence).
         */
        public Options packed(boolean pack) {
            this.packed = pack;
            return this;
        }

        /** Train every weight (owned float32 copies; meant for small models on CPU). */
        public Options fullFineTune(boolean full) {
            this.fullFineTune = full;
            return this;
        }

        /** Seed of fresh heads and adapters. */
        public Options seed(long s) {
            this.seed = s;
            return this;
        }

        /** Where notices go (the memory plan of large models, fresh heads); default stderr. */
        public Options log(Consumer<String> sink) {
            this.log = sink;
            return this;
        }

        /** Micro-batch size assumed by the memory plan printed before loading a large model. */
        public Options planFor(long tokens, int maxLength) {
            this.planTokens = tokens;
            this.planLength = maxLength;
            return this;
        }
    }

    private static final String HEAD = "score.";
    private static final long PRINT_PLAN_ABOVE = 1L << 30;
    private static final long PROGRESS_ABOVE = 256L << 20;

    private final Path source;
    private final Gemma2Config config;
    private final DataType dtype;
    private final List<Placement.Stage> stages;
    private final NDManager root;
    private final List<NDManager> stageManagers;
    private final Gemma2 decoder;
    private final boolean fullFineTune;
    private final boolean packed;
    private ClassifierHead head;
    private LoraConfig lora;

    private Gemma2Classifier(Path source, Gemma2Config config, DataType dtype, List<Placement.Stage> stages,
            NDManager root, List<NDManager> stageManagers, Gemma2 decoder, boolean fullFineTune, boolean packed) {
        this.source = source;
        this.config = config;
        this.dtype = dtype;
        this.stages = List.copyOf(stages);
        this.root = root;
        this.stageManagers = List.copyOf(stageManagers);
        this.decoder = decoder;
        this.fullFineTune = fullFineTune;
        this.packed = packed;
    }

    /** Loads with default options. */
    public static Gemma2Classifier load(Path dir) throws IOException {
        return load(dir, Options.defaults());
    }

    /**
     * Loads a Hugging Face Gemma-2 directory (config.json + safetensors, single or sharded). Tensor names and
     * shapes are checked against the config first (one error listing every missing, unexpected or mis-shaped
     * tensor); bf16/f16/f32 are converted to the compute type while loading; float32 weights on CPU are
     * memory-mapped without a copy.
     */
    public static Gemma2Classifier load(Path dir, Options o) throws IOException {
        HfCheckpoint ckpt = HfCheckpoint.open(dir);
        Gemma2Config config = ckpt.config().withNumLabels(o.numLabels);
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
        PeftAdapter.Dir adapter = o.adapter == null ? null : PeftAdapter.read(o.adapter);

        Set<String> adapterHead = headKeys(adapter == null ? Set.of() : adapter.weights().entries().keySet(),
                PeftAdapter.PREFIX + HEAD);
        Set<String> ckptHead = headKeys(ckpt.names(), HEAD);
        boolean headFromCkpt = adapterHead.isEmpty() && !o.freshHead && !ckptHead.isEmpty();
        ClassifierHead.Kind kind = o.head;
        if (kind == null) {
            Set<String> evidence = !adapterHead.isEmpty() ? adapterHead : headFromCkpt ? ckptHead : Set.of();
            kind = evidence.isEmpty() ? ClassifierHead.Kind.SCORE
                    : ClassifierHead.detect(evidence, config.hiddenSize(), config.numLabels()).orElseThrow(() ->
                            new IllegalArgumentException("score.* tensors " + evidence + " fit no head layout with "
                                    + config.numLabels() + " labels; choose Options.head(...) or freshHead(true)"));
        }
        if (headFromCkpt && !ClassifierHead.detect(ckptHead, config.hiddenSize(), config.numLabels())
                .equals(java.util.Optional.of(kind))) {
            throw new IllegalArgumentException(dir + " holds score.* tensors " + ckptHead + ", not a " + kind
                    + " head with " + config.numLabels() + " labels; use Options.freshHead(true) to start one");
        }
        Map<String, long[]> headShapes = prefixed(ClassifierHead.shapes(kind, config.hiddenSize(), config.numLabels()));
        Set<String> ignored = new HashSet<>(Set.of("lm_head.weight"));
        if (!headFromCkpt) {
            ckpt.names().stream().filter(n -> n.startsWith(HEAD)).forEach(ignored::add);
        }
        ckpt.check(Gemma2.tensorShapes(config), headFromCkpt ? headShapes : Map.of(), ignored);

        MemoryPlan plan = new MemoryPlan(config, dtype, stages, o.planTokens, o.planLength,
                o.lora == null ? 0 : o.lora.r());
        if (plan.totalWeightBytes() > PRINT_PLAN_ABOVE) {
            o.log.accept(plan.toString());
        }
        NDManager root = Engines.newManager();
        try {
            List<NDManager> managers = new ArrayList<>();
            for (Placement.Stage s : stages) {
                managers.add(root.newSubManager(s.device()));
            }
            Gemma2 decoder = loadDecoder(ckpt, config, stages, managers, dtype, o.fullFineTune,
                    plan.totalWeightBytes() > PROGRESS_ABOVE);
            Gemma2Classifier model = new Gemma2Classifier(ckpt.dir(), config, dtype, stages, root, managers, decoder,
                    o.fullFineTune, o.packed != null ? o.packed : !stages.get(0).device().isGpu());
            NDManager last = managers.get(managers.size() - 1);
            if (headFromCkpt) {
                Map<String, NDArray> params = new LinkedHashMap<>();
                for (String k : headShapes.keySet()) {
                    params.put(k.substring(HEAD.length()), ckpt.load(k, last, DataType.FLOAT32, true));
                }
                model.head = ClassifierHead.of(kind, config.hiddenSize(), config.numLabels(), params);
            } else if (adapterHead.isEmpty()) {
                model.head = ClassifierHead.fresh(kind, config.hiddenSize(), config.numLabels(),
                        config.initializerRange(), new Random(o.seed), last);
                o.log.accept("Gemma-2 classifier: fresh " + kind + " head (" + (o.freshHead ? "requested"
                        : "no score.* tensors in " + dir) + ")");
            }
            if (adapter != null) {
                model.applyAdapter(adapter, o.mergeAdapter, kind);
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

    private static Set<String> headKeys(Set<String> names, String prefix) {
        Set<String> out = new TreeSet<>();
        for (String n : names) {
            if (n.startsWith(prefix)) {
                out.add(n.substring(prefix.length()));
            }
        }
        return out;
    }

    private static Map<String, long[]> prefixed(Map<String, long[]> headShapes) {
        Map<String, long[]> out = new LinkedHashMap<>();
        headShapes.forEach((k, v) -> out.put(HEAD + k, v));
        return out;
    }

    private static Gemma2 loadDecoder(HfCheckpoint ckpt, Gemma2Config config, List<Placement.Stage> stages,
            List<NDManager> managers, DataType dtype, boolean owned, boolean showProgress) throws IOException {
        int total = Gemma2.tensorShapes(config).size();
        try (Progress progress = showProgress ? Progress.start("load " + ckpt.dir().getFileName(), total) : null) {
            WeightLoader first = weightLoader(ckpt, managers.get(0), dtype, owned, progress);
            NDArray embed = first.load("model.embed_tokens");
            List<Gemma2.Layer> layers = new ArrayList<>();
            for (int s = 0; s < stages.size(); s++) {
                WeightLoader w = weightLoader(ckpt, managers.get(s), dtype, owned, progress);
                for (int i = stages.get(s).from(); i < stages.get(s).to(); i++) {
                    String p = "model.layers." + i + ".";
                    layers.add(new Gemma2.Layer(i, stages.get(s).device(), w.load(p + "input_layernorm"),
                            w.linear(p + "self_attn.q_proj", i), w.linear(p + "self_attn.k_proj", i),
                            w.linear(p + "self_attn.v_proj", i), w.linear(p + "self_attn.o_proj", i),
                            w.load(p + "post_attention_layernorm"), w.load(p + "pre_feedforward_layernorm"),
                            w.linear(p + "mlp.gate_proj", i), w.linear(p + "mlp.up_proj", i),
                            w.linear(p + "mlp.down_proj", i), w.load(p + "post_feedforward_layernorm")));
                }
            }
            NDArray norm = weightLoader(ckpt, managers.get(managers.size() - 1), dtype, owned, progress)
                    .load("model.norm");
            return new Gemma2(config, embed, layers, norm);
        }
    }

    /** Loads {@code <module>.weight} of one stage's modules, counting it on the progress bar (if any). */
    @FunctionalInterface
    private interface WeightLoader {
        NDArray load(String module) throws IOException;

        default LoraLinear linear(String module, int layer) throws IOException {
            return new LoraLinear(module, layer, load(module));
        }
    }

    private static WeightLoader weightLoader(HfCheckpoint ckpt, NDManager manager, DataType dtype, boolean owned,
            Progress progress) {
        return module -> {
            NDArray a = ckpt.load(module + ".weight", manager, dtype, owned);
            if (progress != null) {
                progress.step();
            }
            return a;
        };
    }

    // ------------------------------------------------------------------------------------------ adapters

    /** Applies a PEFT adapter directory: merged into the weights, or attached separately (and trainable). */
    public void loadAdapter(Path dir, boolean merge) throws IOException {
        applyAdapter(PeftAdapter.read(dir), merge, head == null ? null : head.kind());
        markTrainable();
    }

    private void applyAdapter(PeftAdapter.Dir a, boolean merge, ClassifierHead.Kind expectedHead) throws IOException {
        if (!merge && (fullFineTune || lora != null)) {
            throw new IllegalStateException("cannot attach " + a.dir() + " separately: "
                    + (fullFineTune ? "full fine-tuning has no adapters" : "adapters are already attached; merge first"));
        }
        LoraConfig cfg = a.config();
        SafetensorsFile weights = a.weights();
        Set<String> left = new TreeSet<>(weights.entries().keySet());
        for (Gemma2.Layer layer : decoder.layers()) {
            NDManager m = managerOf(layer.index());
            for (LoraLinear p : layer.projections()) {
                String ka = PeftAdapter.loraKey(p.path(), 'A');
                String kb = PeftAdapter.loraKey(p.path(), 'B');
                boolean targeted = cfg.targets(p.path(), layer.index());
                if (!left.contains(ka) && !left.contains(kb)) {
                    if (targeted) {
                        throw new IOException(weights.path() + ": target_modules covers " + p.path()
                                + " but there is no " + ka);
                    }
                    continue;
                }
                if (!targeted) {
                    throw new IOException(weights.path() + ": " + ka + " is not covered by target_modules "
                            + (cfg.targetRegex() != null ? cfg.targetRegex() : cfg.targets()));
                }
                checkShape(weights, ka, new long[] {cfg.r(), p.inFeatures()});
                checkShape(weights, kb, new long[] {p.outFeatures(), cfg.r()});
                p.attach(weights.load(ka, m, DataType.FLOAT32, true), weights.load(kb, m, DataType.FLOAT32, true),
                        cfg.scaling(), cfg.dropout());
                left.remove(ka);
                left.remove(kb);
                if (merge) {
                    p.merge();
                }
            }
        }
        Set<String> headKeys = headKeys(left, PeftAdapter.PREFIX + HEAD);
        if (!headKeys.isEmpty()) {
            ClassifierHead.Kind kind = ClassifierHead.detect(headKeys, config.hiddenSize(), config.numLabels())
                    .orElseThrow(() -> new IOException(weights.path() + ": score tensors " + headKeys
                            + " fit no head layout with " + config.numLabels() + " labels"));
            if (expectedHead != null && kind != expectedHead) {
                throw new IOException(weights.path() + " holds a " + kind + " head, but " + expectedHead + " was asked for");
            }
            Map<String, NDArray> params = new LinkedHashMap<>();
            NDManager last = stageManagers.get(stageManagers.size() - 1);
            for (String k : ClassifierHead.shapes(kind, config.hiddenSize(), config.numLabels()).keySet()) {
                String key = PeftAdapter.PREFIX + HEAD + k;
                params.put(k, weights.load(key, last, DataType.FLOAT32, true));
                left.remove(key);
            }
            if (head != null) {
                head.close();
            }
            head = ClassifierHead.of(kind, config.hiddenSize(), config.numLabels(), params);
        }
        if (!left.isEmpty()) {
            throw new IOException(weights.path() + ": unexpected tensors " + left);
        }
        if (head == null) {
            throw new IOException(weights.path() + " has no score.* head and none was loaded from the checkpoint");
        }
        if (!merge && hasAdapters()) {
            lora = cfg;
        }
    }

    private static void checkShape(SafetensorsFile f, String key, long[] expected) throws IOException {
        long[] found = f.entries().get(key).shape();
        if (!java.util.Arrays.equals(found, expected)) {
            throw new IOException(f.path() + ": tensor " + key + " has shape " + java.util.Arrays.toString(found)
                    + ", expected " + java.util.Arrays.toString(expected));
        }
    }

    /**
     * Adds fresh trainable LoRA adapters on the targeted projections: PEFT's default init (A uniform
     * ±1/sqrt(in), B zero, so the model is unchanged) or PiSSA (the base becomes the residual).
     */
    public void addLora(LoraConfig cfg, long seed) {
        if (fullFineTune) {
            throw new IllegalStateException("full fine-tuning trains every weight; LoRA does not apply");
        }
        if (lora != null) {
            throw new IllegalStateException("adapters are already attached; merge them first (mergeAdapters())");
        }
        Random random = new Random(seed);
        int adapted = 0;
        for (Gemma2.Layer layer : decoder.layers()) {
            for (LoraLinear p : layer.projections()) {
                if (cfg.targets(p.path(), layer.index())) {
                    p.addAdapter(cfg, random);
                    adapted++;
                }
            }
        }
        if (adapted == 0) {
            throw new IllegalArgumentException("LoRA target_modules " + cfg.targets() + " match no module");
        }
        lora = cfg;
        markTrainable();
    }

    /** Folds every attached adapter into its base weight (for inference); the head stays as it is. */
    public void mergeAdapters() {
        for (Gemma2.Layer layer : decoder.layers()) {
            layer.projections().forEach(LoraLinear::merge);
        }
        lora = null;
    }

    private boolean hasAdapters() {
        for (Gemma2.Layer layer : decoder.layers()) {
            for (LoraLinear p : layer.projections()) {
                if (p.hasAdapter()) {
                    return true;
                }
            }
        }
        return false;
    }

    private void markTrainable() {
        for (NDArray a : trainable().values()) {
            if (!a.hasGradient()) {
                a.setRequiresGradient(true);
            }
        }
    }

    /**
     * The tensors an optimizer updates, by PEFT state-dict name: every LoRA A/B
     * ({@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}) and the head
     * ({@code base_model.model.score.weight}). With full fine-tuning: every weight by its checkpoint name
     * ({@code model.layers.0.self_attn.q_proj.weight}, {@code score.weight}). All have gradients attached.
     */
    @Override
    public Map<String, NDArray> trainable() {
        if (fullFineTune) {
            return Collections.unmodifiableMap(checkpointWeights());
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Gemma2.Layer layer : decoder.layers()) {
            for (LoraLinear p : layer.projections()) {
                if (p.hasAdapter()) {
                    out.put(PeftAdapter.loraKey(p.path(), 'A'), p.loraA());
                    out.put(PeftAdapter.loraKey(p.path(), 'B'), p.loraB());
                }
            }
        }
        head.parameters().forEach((k, v) -> out.put(PeftAdapter.PREFIX + HEAD + k, v));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Writes the adapters and the head as a PEFT directory ({@code modules_to_save = ["score"]}) that
     * {@code PeftModel.from_pretrained} loads onto the original checkpoint. PiSSA adapters are saved converted
     * to plain LoRA of rank 2r ({@code [A; A0]}, {@code [B, -B0]}, alpha doubled), as PEFT's
     * {@code path_initial_model_for_weight_conversion} does, because the residual base exists only here.
     */
    @Override
    public void saveAdapter(Path dir) throws IOException {
        if (fullFineTune) {
            throw new IllegalStateException("full fine-tuning trains every weight; save with saveCheckpoint");
        }
        if (lora == null) {
            throw new IllegalStateException("no LoRA adapters attached (none added, or merged); use saveCheckpoint");
        }
        try (NDScope scope = new NDScope()) {
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            boolean pissa = false;
            for (Gemma2.Layer layer : decoder.layers()) {
                for (LoraLinear p : layer.projections()) {
                    if (!p.hasAdapter()) {
                        continue;
                    }
                    pissa |= p.pissa();
                    tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.loraKey(p.path(), 'A'), p.savedA()));
                    tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.loraKey(p.path(), 'B'), p.savedB()));
                }
            }
            head.parameters().forEach((k, v) ->
                    tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.PREFIX + HEAD + k, v)));
            LoraConfig saved = !pissa ? lora : new LoraConfig(2 * lora.r(),
                    lora.useRslora() ? lora.alpha() * Math.sqrt(2) : 2 * lora.alpha(), lora.dropout(), lora.targets(),
                    lora.targetRegex(), lora.layers(), lora.useRslora(), LoraConfig.Init.DEFAULT, lora.pissaIterations());
            PeftAdapter.write(dir, saved, List.of("score"), source.toAbsolutePath().toString(), tensors);
        }
    }

    /**
     * Writes the whole model as a transformers checkpoint (attached adapters merged on the fly, the head as
     * {@code score.*}): the way to keep a fully fine-tuned model, or to ship a merged one.
     */
    public void saveCheckpoint(Path dir, DType fileType, int shards) throws IOException {
        Map<String, LoraLinear> adapted = new HashMap<>();
        for (Gemma2.Layer layer : decoder.layers()) {
            layer.projections().stream().filter(LoraLinear::hasAdapter).forEach(p -> adapted.put(p.path() + ".weight", p));
        }
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        checkpointWeights().forEach((name, w) -> tensors.add(adapted.containsKey(name) ? mergedLazily(adapted.get(name))
                : SafetensorsWriter.Tensor.of(name, w)));
        HfCheckpoint.write(dir, config, fileType, shards, tensors);
    }

    /** Every weight by its name in a transformers checkpoint, in checkpoint order; the head as {@code score.*}. */
    private Map<String, NDArray> checkpointWeights() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put("model.embed_tokens.weight", decoder.embedTokens());
        for (Gemma2.Layer layer : decoder.layers()) {
            out.putAll(layer.norms());
            for (LoraLinear p : layer.projections()) {
                out.put(p.path() + ".weight", p.weight());
            }
        }
        out.put("model.norm.weight", decoder.norm());
        head.parameters().forEach((k, v) -> out.put(HEAD + k, v));
        return out;
    }

    /** W + scaling B A, computed when the writer reaches the tensor and freed after its last block. */
    private static SafetensorsWriter.Tensor mergedLazily(LoraLinear p) {
        long[] shape = p.weight().getShape().getShape();
        long numel = shape[0] * shape[1];
        NDArray[] merged = new NDArray[1];
        return new SafetensorsWriter.Tensor(p.path() + ".weight", shape, (start, block) -> {
            if (merged[0] == null) {
                try (NDScope scope = new NDScope()) {
                    merged[0] = p.weight().stopGradient().toType(DataType.FLOAT32, false).add(p.delta()).reshape(-1);
                    NDScope.unregister(merged[0]);
                }
            }
            try (NDScope scope = new NDScope()) {
                float[] v = merged[0].get(new NDIndex(start + ":" + (start + block.length))).toFloatArray();
                System.arraycopy(v, 0, block, 0, block.length);
            }
            if (start + block.length >= numel) {
                merged[0].close();
                merged[0] = null;
            }
        });
    }

    // ------------------------------------------------------------------------------------------ forward

    /** {@code sequences} in this model's layout: packed, or right-padded with the config's pad token. */
    public TokenBatch batch(List<int[]> sequences) {
        return packed ? TokenBatch.packed(sequences) : TokenBatch.padded(sequences, config.padTokenId());
    }

    @Override
    public NDArray logits(NDManager scope, List<int[]> sequences, boolean training) {
        TokenBatch batch = batch(sequences);
        NDArray embedded = embed(scope, batch, training);
        NDArray hidden = layers(scope, embedded, batch, 0, config.numHiddenLayers(), training);
        NDArray logits = classify(scope, hidden, batch, training);
        hidden.close();
        embedded.close();
        return logits;
    }

    /** Token embeddings {@code [B, T, H]} on the first stage's device. */
    public NDArray embed(NDManager scope, TokenBatch batch, boolean training) {
        batch.checkIds(config.vocabSize());
        return gradMode(training, () -> {
            try (NDScope s = new NDScope()) {
                // torch-owned (duplicate): an array made from Java data lives in a direct buffer that is freed once the
                // array is closed and collected, while autograd still reads it (embedding backward) after this scope
                NDArray ids = scope.create(batch.ids(), new Shape(batch.shape())).duplicate()
                        .toDevice(stages.get(0).device(), false);
                NDArray x = decoder.embed(ids);
                return keep(x, scope);
            }
        });
    }

    /**
     * Decoder layers {@code [from, to)} on {@code hidden} ({@code [B, T, H]}; moved to each layer's device as
     * needed). Returns a new array in {@code scope} ({@code hidden} itself when the range is empty); the input is
     * not closed.
     */
    public NDArray layers(NDManager scope, NDArray hidden, TokenBatch batch, int from, int to, boolean training) {
        if (from < 0 || to > config.numHiddenLayers() || from > to) {
            throw new IllegalArgumentException("layer range [" + from + ", " + to + ") outside [0, "
                    + config.numHiddenLayers() + ")");
        }
        return gradMode(training, () -> {
            NDArray h = hidden;
            Gemma2.Positions positions = null;
            try {
                for (int i = from; i < to; i++) {
                    Gemma2.Layer layer = decoder.layers().get(i);
                    Device device = layer.device();
                    if (positions == null || !positions.device().equals(device)) {
                        if (positions != null) {
                            positions.close();
                        }
                        positions = new Gemma2.Positions(config, batch, scope, device, dtype);
                    }
                    NDArray next;
                    try (NDScope s = new NDScope()) {
                        NDArray in = h.getDevice().equals(device) ? h : h.toDevice(device, false);
                        next = keep(decoder.decoderLayer(layer, in, positions, training), scope);
                    }
                    if (h != hidden) {
                        h.close();
                    }
                    h = next;
                }
            } finally {
                if (positions != null) {
                    positions.close();
                }
            }
            return h;
        });
    }

    /** Final norm of each sequence's last real token, then the head: float32 logits {@code [B, numLabels]}. */
    public NDArray classify(NDManager scope, NDArray hidden, TokenBatch batch, boolean training) {
        Device last = stages.get(stages.size() - 1).device();
        return gradMode(training, () -> {
            try (NDScope s = new NDScope()) {
                NDArray h = hidden.getDevice().equals(last) ? hidden : hidden.toDevice(last, false);
                long[][] at = batch.lastTokens();
                // torch-owned copies (duplicate): the gather's backward reads these indices after this scope has
                // closed them, and the Java buffer behind a created array may be freed by then
                NDArray lastToken = h.get(new NDIndex("{}, {}", scope.create(at[0]).duplicate().toDevice(last, false),
                        scope.create(at[1]).duplicate().toDevice(last, false)));
                NDArray features = Casts.toType(decoder.finalNorm(lastToken), DataType.FLOAT32);
                return keep(head.forward(features, training), scope);
            }
        });
    }

    /** Final-normed hidden states of every token, float32 {@code [B, T, H]}, right-padded (a diagnostic). */
    public NDArray hiddenStates(NDManager scope, List<int[]> sequences) {
        TokenBatch batch = TokenBatch.padded(sequences, config.padTokenId());
        NDArray embedded = embed(scope, batch, false);
        NDArray hidden = layers(scope, embedded, batch, 0, config.numHiddenLayers(), false);
        NDArray out = gradMode(false, () -> {
            try (NDScope s = new NDScope()) {
                return keep(decoder.finalNorm(hidden).toType(DataType.FLOAT32, false), scope);
            }
        });
        hidden.close();
        embedded.close();
        return out;
    }

    /** Takes {@code a} out of the current NDScope and gives it to {@code scope}. */
    private static NDArray keep(NDArray a, NDManager scope) {
        NDScope.unregister(a);
        a.attach(scope);
        return a;
    }

    /** Runs {@code body} with autograd off unless training (grad mode is per thread in PyTorch). */
    private static <T> T gradMode(boolean training, Supplier<T> body) {
        if (training) {
            return body.get();
        }
        try (NoGrad g = NoGrad.enter()) {
            return body.get();
        }
    }

    // ------------------------------------------------------------------------------------------ accessors

    private NDManager managerOf(int layer) {
        for (int s = 0; s < stages.size(); s++) {
            if (layer >= stages.get(s).from() && layer < stages.get(s).to()) {
                return stageManagers.get(s);
            }
        }
        throw new IllegalArgumentException("no stage holds layer " + layer);
    }

    @Override
    public int numLabels() {
        return config.numLabels();
    }

    public Gemma2Config config() {
        return config;
    }

    @Override
    public DataType dtype() {
        return dtype;
    }

    /** The layer stages and their devices. */
    public List<Placement.Stage> stages() {
        return stages;
    }

    /** The decoder (weights and math). */
    public Gemma2 decoder() {
        return decoder;
    }

    public ClassifierHead head() {
        return head;
    }

    /** The config of the attached (separate) adapters, or null. */
    public LoraConfig lora() {
        return lora;
    }

    public boolean fullFineTune() {
        return fullFineTune;
    }

    /** Whether {@link #batch} packs sequences (else right-pads them). */
    public boolean packed() {
        return packed;
    }

    /** The memory plan of this model for a micro-batch of {@code tokens} tokens padded to {@code maxLength}. */
    public MemoryPlan memoryPlan(long tokens, int maxLength) {
        return new MemoryPlan(config, dtype, stages, tokens, maxLength, lora == null ? 0 : lora.r());
    }

    @Override
    public void close() {
        root.close();
    }
}
