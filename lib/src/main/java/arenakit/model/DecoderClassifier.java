package arenakit.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import arenakit.model.family.Decoder;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.DecoderLayer;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.io.SafetensorsWriter;
import arenakit.model.layers.Positions;
import arenakit.model.layers.TokenBatch;
import arenakit.model.lora.Adapters;
import arenakit.model.lora.LoraConfig;
import arenakit.model.lora.LoraLinear;
import arenakit.model.lora.PeftAdapter;
import arenakit.model.tensor.Autograd;
import arenakit.model.quant.Quantization;
import arenakit.model.tensor.Casts;
import arenakit.model.tensor.Dropouts;
import arenakit.model.tensor.NoGrad;
import arenakit.model.tensor.TorchScalar;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * transformers' {@code *ForSequenceClassification} for any supported decoder family (Gemma-2, Llama, Qwen2) on
 * DJL: a Hugging Face checkpoint in, class logits of each sequence's last real token out. A composition: the
 * family's {@link Decoder}, a {@link ClassifierHead}, the LoRA {@link Adapters} on the decoder's projections, and
 * the placement of the layers on devices ({@link Placement}).
 *
 * <p>Typical uses:
 * <pre>{@code
 * // inference with a PEFT adapter merged in (the family comes from config.json's model_type)
 * var model = DecoderClassifier.load(dir, Options.defaults().adapter(adapterDir, true));
 * // LoRA training: A/B and the head are trainable(), the base is frozen
 * var model = DecoderClassifier.load(dir, Options.defaults().lora(LoraConfig.of(64, 128, 0.05)));
 * // two GPUs, layers [0, 21) and [21, 42), fp16
 * var model = DecoderClassifier.load(dir, Options.defaults().placement(Placement.split(Device.gpu(0), Device.gpu(1))));
 * }</pre>
 *
 * <p>Batches are packed or right-padded ({@link TokenBatch}); either way a sequence's logits do not depend on the
 * rest of the batch. The forward pass is also available stage by stage ({@link #embed}, {@link #layers},
 * {@link #classify}) so inference code can pipeline micro-batches over two devices on two threads. Every call
 * allocates its result in the {@code scope} manager the caller passes (and closes); intermediates are freed layer
 * by layer. {@code training = false} runs without autograd (and without dropout), on any thread.
 */
public final class DecoderClassifier implements SequenceClassifier {

    /** Build options; fluent and mutable. */
    public static final class Options {
        Placement placement;
        DataType dtype;
        int numLabels = 3;
        ClassifierHead.Kind head;
        boolean freshHead;
        boolean baseHead;
        Path adapter;
        boolean mergeAdapter = true;
        LoraConfig lora;
        Boolean packed;
        boolean fullFineTune;
        long seed = 42;
        Consumer<String> log = System.err::println;
        long planTokens = 8192;
        int planLength = 2048;
        boolean gradientCheckpointing;
        Quantization quantize = Quantization.NONE;

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

        /**
         * For an adapter that carries no trained head ({@code modules_to_save} without {@code score}): use the
         * checkpoint's {@code score} head, which must exist. Without this (or {@link #freshHead}) such an adapter is
         * refused, so a missing head never silently becomes the base's or a random one. An adapter with a head
         * always uses its own.
         */
        public Options baseHead(boolean useBase) {
            this.baseHead = useBase;
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

        /** Where notices go (the memory plan of large models, fresh heads, ignored tensors); default stderr. */
        public Options log(Consumer<String> sink) {
            this.log = sink;
            return this;
        }

        /**
         * Activation checkpointing in {@link DecoderClassifier#backward}: the forward keeps only each decoder layer's
         * input, the backward recomputes one layer at a time (default off).
         */
        public Options gradientCheckpointing(boolean on) {
            this.gradientCheckpointing = on;
            return this;
        }

        /**
         * How the decoder's projections are stored (default {@link Quantization#NONE}): {@link Quantization#INT8}
         * quantizes each as it loads ({@link arenakit.model.quant.Int8Weight}); a merged adapter is merged into the
         * float weight first, a separate or new one trains over the frozen int8 base. Embedding, norms, biases and
         * head stay in the compute type.
         */
        public Options quantize(Quantization q) {
            this.quantize = q == null ? Quantization.NONE : q;
            return this;
        }

        /** Micro-batch size assumed by the memory plan printed before loading a large model. */
        public Options planFor(long tokens, int maxLength) {
            this.planTokens = tokens;
            this.planLength = maxLength;
            return this;
        }
    }

    /** The head's module name: {@code score.*} in checkpoints, {@code base_model.model.score.*} in PEFT adapters. */
    static final String HEAD = "score";

    private final Path source;
    private final DecoderConfig config;
    private final DataType dtype;
    private final List<Placement.Stage> stages;
    private final NDManager root;
    private final List<NDManager> stageManagers;
    private final Decoder decoder;
    private final Adapters adapters;
    private final boolean fullFineTune;
    private final boolean packed;
    private ClassifierHead head;
    private boolean gradientCheckpointing;

    DecoderClassifier(Path source, DataType dtype, List<Placement.Stage> stages, NDManager root,
            List<NDManager> stageManagers, Decoder decoder, boolean fullFineTune, boolean packed) {
        this.source = source;
        this.config = decoder.config();
        this.dtype = dtype;
        this.stages = List.copyOf(stages);
        this.root = root;
        this.stageManagers = List.copyOf(stageManagers);
        this.decoder = decoder;
        this.adapters = new Adapters(decoder.projections());
        this.fullFineTune = fullFineTune;
        this.packed = packed;
    }

    /** Loads with default options. */
    public static DecoderClassifier load(Path dir) throws IOException {
        return load(dir, Options.defaults());
    }

    /**
     * Loads a Hugging Face model directory (config.json + safetensors, single or sharded) of any supported family
     * (config.json's {@code model_type}). Tensor names and shapes are checked against the config first (one error
     * listing every missing, unexpected or mis-shaped tensor); bf16/f16/f32 are converted to the compute type while
     * loading; float32 weights on CPU are memory-mapped without a copy.
     */
    public static DecoderClassifier load(Path dir, Options o) throws IOException {
        return ClassifierLoader.load(dir, o);
    }

    /**
     * Checks a checkpoint folder as {@link #load} would, without loading any weight (config.json, safetensors
     * headers, every decoder tensor's name and shape); returns its config. Tensors it would ignore go to {@code log}.
     */
    public static DecoderConfig checkFiles(Path dir, java.util.function.Consumer<String> log) throws IOException {
        return ClassifierLoader.checkFiles(dir, log);
    }

    // ------------------------------------------------------------------------------------------ head and adapters

    void setHead(ClassifierHead h) {
        if (head != null) {
            head.close();
        }
        head = h;
    }

    NDManager lastStageManager() {
        return stageManagers.get(stageManagers.size() - 1);
    }

    /**
     * Applies a PEFT adapter directory: merged into the weights, or attached separately (and trainable). Its head
     * replaces this model's; an adapter without a head is refused (see {@link #loadAdapter(Path, boolean, boolean)}).
     */
    public void loadAdapter(Path dir, boolean merge) throws IOException {
        loadAdapter(dir, merge, false);
    }

    /** As {@link #loadAdapter(Path, boolean)}; {@code keepHead}: an adapter without a head keeps this model's head. */
    public void loadAdapter(Path dir, boolean merge, boolean keepHead) throws IOException {
        applyAdapter(PeftAdapter.read(dir), merge, head == null ? null : head.kind(), keepHead);
        markTrainable();
    }

    /**
     * The LoRA part goes to {@link Adapters}; a head saved with the adapter ({@code modules_to_save}) replaces ours.
     * Everything is checked (headers only) before anything is applied.
     */
    void applyAdapter(PeftAdapter.Dir a, boolean merge, ClassifierHead.Kind expectedHead, boolean keepHead)
            throws IOException {
        applyAdapter(a, merge, expectedHead, keepHead, Set.of());
    }

    /** As above, when the projections in {@code mergedOnLoad} already hold the adapter (merged while loading). */
    void applyAdapter(PeftAdapter.Dir a, boolean merge, ClassifierHead.Kind expectedHead, boolean keepHead,
            Set<String> mergedOnLoad)
            throws IOException {
        if (!merge && fullFineTune) {
            throw new IllegalStateException("cannot attach " + a.dir() + " separately: full fine-tuning has no "
                    + "adapters");
        }
        ClassifierHead.Kind kind = a.hasHead() ? ClassifierLoader.adapterHead(a, config, expectedHead) : null;
        if (kind == null && (!keepHead || head == null)) {
            throw new IOException(ClassifierLoader.headless(a));
        }
        adapters.apply(a, merge, mergedOnLoad);
        if (kind != null) {
            String prefix = PeftAdapter.PREFIX + HEAD + ".";
            Map<String, NDArray> params = new LinkedHashMap<>();
            for (String k : ClassifierHead.shapes(kind, config.hiddenSize(), config.numLabels()).keySet()) {
                params.put(k, a.weights().load(prefix + k, lastStageManager(), DataType.FLOAT32, true));
            }
            setHead(ClassifierHead.of(kind, config.hiddenSize(), config.numLabels(), params));
        }
    }

    /**
     * Checks a PEFT adapter against a base model's config without loading any weight, as loading it onto that base
     * would: adapter_config.json (strictly), the safetensors header, every LoRA tensor against the base's
     * projections (present, shaped to fit), and the head (of layout {@code head}, null = any); an adapter without a
     * head passes only with {@code baseHead} and a base that has one ({@code baseHasHead}).
     */
    public static void checkAdapter(Path adapterDir, DecoderConfig base, ClassifierHead.Kind head, boolean baseHead,
            boolean baseHasHead) throws IOException {
        ClassifierLoader.checkAdapter(adapterDir, base, head, baseHead, baseHasHead);
    }

    /**
     * Adds fresh trainable LoRA adapters on the targeted projections: PEFT's default init (A uniform
     * ±1/sqrt(in), B zero, so the model is unchanged) or PiSSA (the base becomes the residual).
     */
    public void addLora(LoraConfig cfg, long seed) {
        if (fullFineTune) {
            throw new IllegalStateException("full fine-tuning trains every weight; LoRA does not apply");
        }
        adapters.add(cfg, seed);
        markTrainable();
    }

    /** Folds every attached adapter into its base weight (for inference); the head stays as it is. */
    public void mergeAdapters() {
        adapters.merge();
    }

    void markTrainable() {
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
            return Collections.unmodifiableMap(checkpointTensors());
        }
        Map<String, NDArray> out = new LinkedHashMap<>(adapters.trainable());
        head.parameters().forEach((k, v) -> out.put(PeftAdapter.PREFIX + HEAD + "." + k, v));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Writes the adapters and the head as a PEFT directory ({@code modules_to_save = ["score"]}) that
     * {@code PeftModel.from_pretrained} loads onto the original checkpoint (see {@link Adapters#save} for PiSSA).
     */
    @Override
    public void saveAdapter(Path dir) throws IOException {
        if (fullFineTune) {
            throw new IllegalStateException("full fine-tuning trains every weight; save with saveCheckpoint");
        }
        Map<String, NDArray> headTensors = new LinkedHashMap<>();
        head.parameters().forEach((k, v) -> headTensors.put(HEAD + "." + k, v));
        adapters.save(dir, List.of(HEAD), headTensors, source.toAbsolutePath().toString());
    }

    /**
     * Writes the whole model as a transformers checkpoint of its family (config.json from the family's config,
     * attached adapters merged on the fly, the head as {@code score.*}): the way to keep a fully fine-tuned model,
     * or to ship a merged one.
     */
    public void saveCheckpoint(Path dir, DType fileType, int shards) throws IOException {
        if (quantization() != Quantization.NONE) {
            throw new IllegalStateException("this model's projections are " + quantization().configName()
                    + ": it is not saved as a checkpoint (that would keep the rounding); save its adapter, or load "
                    + source + " unquantized to merge and save");
        }
        Map<String, LoraLinear> adapted = new HashMap<>();
        adapters.projections().stream().filter(LoraLinear::hasAdapter).forEach(p -> adapted.put(p.path() + ".weight", p));
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        checkpointTensors().forEach((name, w) -> tensors.add(adapted.containsKey(name) ? mergedLazily(adapted.get(name))
                : SafetensorsWriter.Tensor.of(name, w)));
        HfCheckpoint.write(dir, config::toJson, fileType, shards, tensors);
    }

    /** Every tensor by its name in a transformers checkpoint, in checkpoint order; the head as {@code score.*}. */
    private Map<String, NDArray> checkpointTensors() {
        Map<String, NDArray> out = new LinkedHashMap<>(decoder.tensors());
        head.parameters().forEach((k, v) -> out.put(HEAD + "." + k, v));
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

    /** {@code sequences} in this model's layout: packed, or right-padded (with the pad token, else id 0). */
    public TokenBatch batch(List<int[]> sequences) {
        return packed ? TokenBatch.packed(sequences) : TokenBatch.padded(sequences, padId());
    }

    private int padId() {
        return config.padTokenId() == null ? 0 : config.padTokenId();
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
        batch.check(config.vocabSize(), config.maxPositionEmbeddings());
        return gradMode(training, () -> {
            try (NDScope s = new NDScope()) {
                // torch-owned (duplicate): an array made from Java data lives in a direct buffer that is freed once the
                // array is closed and collected, while autograd still reads it (embedding backward) after this scope
                NDArray ids = scope.create(batch.ids(), new Shape(batch.shape())).duplicate()
                        .toDevice(stages.get(0).device(), false);
                return keep(decoder.embed(ids), scope);
            }
        });
    }

    /**
     * Decoder layers {@code [from, to)} on {@code hidden} ({@code [B, T, H]}; moved to each layer's device as
     * needed, on the autograd graph when training). Returns a new array in {@code scope} ({@code hidden} itself when
     * the range is empty); the input is not closed.
     */
    public NDArray layers(NDManager scope, NDArray hidden, TokenBatch batch, int from, int to, boolean training) {
        return layers(scope, hidden, batch, from, to, training, null);
    }

    /** {@link #layers} with layer {@code i}'s dropout drawn from stream {@code mix(dropoutSeed, i)} (null: unseeded). */
    private NDArray layers(NDManager scope, NDArray hidden, TokenBatch batch, int from, int to, boolean training,
            Long dropoutSeed) {
        if (from < 0 || to > config.numHiddenLayers() || from > to) {
            throw new IllegalArgumentException("layer range [" + from + ", " + to + ") outside [0, "
                    + config.numHiddenLayers() + ")");
        }
        return gradMode(training, () -> {
            NDArray h = hidden;
            Positions positions = null;
            try {
                for (int i = from; i < to; i++) {
                    DecoderLayer layer = decoder.layers().get(i);
                    Device device = layer.device();
                    if (positions == null || !positions.device().equals(device)) {
                        if (positions != null) {
                            positions.close();
                        }
                        positions = decoder.positions(batch, scope, device, dtype);
                    }
                    NDArray next;
                    try (NDScope s = new NDScope()) {
                        next = keep(layerForward(layer, Casts.toDevice(h, device), positions, training, dropoutSeed),
                                scope);
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

    /** One layer's forward, its dropout masks from the layer's own stream when {@code dropoutSeed} is given. */
    private static NDArray layerForward(DecoderLayer layer, NDArray in, Positions positions, boolean training,
            Long dropoutSeed) {
        if (dropoutSeed == null || !training) {
            return layer.forward(in, positions, training);
        }
        return Dropouts.seeded(Dropouts.mix(dropoutSeed, layer.index()),
                () -> layer.forward(in, positions, training));
    }

    /** Final norm of each sequence's last real token, then the head: float32 logits {@code [B, numLabels]}. */
    public NDArray classify(NDManager scope, NDArray hidden, TokenBatch batch, boolean training) {
        Device last = stages.get(stages.size() - 1).device();
        return gradMode(training, () -> {
            try (NDScope s = new NDScope()) {
                NDArray h = Casts.toDevice(hidden, last);
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

    // ------------------------------------------------------------------------------------------ training

    /**
     * One micro-batch of training (see {@link SequenceClassifier#backward}); on the calling thread, with grad mode
     * on. Each decoder layer's dropout comes from its own stream of the batch's seed, the head's from the next, so
     * the masks are the same with and without checkpointing and on any replica.
     *
     * <p>With {@link Options#gradientCheckpointing} the forward runs without a graph and keeps only each layer's
     * input; the head and the loss are then run on a leaf made of the last hidden state and backpropagated, which
     * gives the gradient of that state; then, from the top layer down, each layer is recomputed under autograd from
     * its saved input (made a leaf) and backpropagated with the gradient of its output
     * ({@code out.backward(grad_out)}, i.e. of {@code sum(out * grad_out)}), which accumulates its LoRA gradients and
     * leaves the gradient of its input for the layer below. At most one layer's graph exists at a time.
     */
    @Override
    public float backward(TrainBatch job) {
        if (!JniUtils.isGradMode()) {
            throw new IllegalStateException("backward needs grad mode on this thread (a GradientCollector, or "
                    + "Autograd.recording)");
        }
        TokenBatch batch = batch(job.sequences());
        try (NDManager scope = arenakit.util.Engines.newManager()) {
            if (gradientCheckpointing) {
                return checkpointed(scope, batch, job);
            }
            NDArray embedded = embed(scope, batch, true);
            NDArray hidden = layers(scope, embedded, batch, 0, config.numHiddenLayers(), true, job.dropoutSeed());
            return lossBackward(head(scope, hidden, batch, job.dropoutSeed()), job);
        }
    }

    /** Whether {@link #backward} recomputes layers instead of keeping their activations. */
    public boolean gradientCheckpointing() {
        return gradientCheckpointing;
    }

    /** Switches activation checkpointing of {@link #backward} on or off. */
    public void gradientCheckpointing(boolean on) {
        this.gradientCheckpointing = on;
    }

    private NDArray head(NDManager scope, NDArray hidden, TokenBatch batch, long seed) {
        return Dropouts.seeded(Dropouts.mix(seed, config.numHiddenLayers()), () -> classify(scope, hidden, batch,
                true));
    }

    private static float lossBackward(NDArray logits, TrainBatch job) {
        NDArray loss = job.loss().apply(Casts.toType(logits, DataType.FLOAT32));
        float value = loss.getFloat();
        Autograd.backward(job.lossScale() == 1 ? loss : loss.mul(TorchScalar.of(loss, job.lossScale())));
        return value;
    }

    private float checkpointed(NDManager scope, TokenBatch batch, TrainBatch job) {
        int n = config.numHiddenLayers();
        long seed = job.dropoutSeed();
        NDArray[] inputs = new NDArray[n + 1];
        Map<Device, Positions> positions = new HashMap<>();
        try {
            try (NoGrad g = NoGrad.enter()) {
                inputs[0] = embed(scope, batch, false);
                for (int i = 0; i < n; i++) {
                    DecoderLayer layer = decoder.layers().get(i);
                    Positions p = positions.computeIfAbsent(layer.device(), d -> decoder.positions(batch, scope, d,
                            dtype));
                    try (NDScope s = new NDScope()) {
                        inputs[i + 1] = keep(layerForward(layer, inputs[i].toDevice(layer.device(), false), p, true,
                                seed), scope);
                    }
                }
            }
            NDArray top = Autograd.leaf(inputs[n]);
            float loss = lossBackward(head(scope, top, batch, seed), job);
            NDArray grad = top.getGradient();
            top.close();
            for (int i = n - 1; i >= 0; i--) {
                DecoderLayer layer = decoder.layers().get(i);
                NDArray next;
                try (NDScope s = new NDScope()) {
                    NDArray x = Autograd.leaf(inputs[i].toDevice(layer.device(), false));
                    NDArray out = layerForward(layer, x, positions.get(layer.device()), true, seed);
                    Autograd.backward(out, grad.toDevice(out.getDevice(), false));
                    next = keep(x.getGradient(), scope);
                }
                grad.close();
                grad = next;
                inputs[i + 1].close();
            }
            if (fullFineTune) { // the embedding is trained too
                try (NDScope s = new NDScope()) {
                    NDArray e = embed(scope, batch, true);
                    Autograd.backward(e, grad.toDevice(e.getDevice(), false));
                    e.close();
                }
            }
            grad.close();
            return loss;
        } finally {
            positions.values().forEach(Positions::close);
        }
    }

    /** Final-normed hidden states of every token, float32 {@code [B, T, H]}, right-padded (a diagnostic). */
    public NDArray hiddenStates(NDManager scope, List<int[]> sequences) {
        TokenBatch batch = TokenBatch.padded(sequences, padId());
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

    @Override
    public int numLabels() {
        return config.numLabels();
    }

    /** The family's config (with this model's number of labels). */
    public DecoderConfig config() {
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
    public Decoder decoder() {
        return decoder;
    }

    public ClassifierHead head() {
        return head;
    }

    /** The LoRA adapters on the decoder's projections. */
    public Adapters adapters() {
        return adapters;
    }

    /** The config of the attached (separate) adapters, or null. */
    public LoraConfig lora() {
        return adapters.config();
    }

    public boolean fullFineTune() {
        return fullFineTune;
    }

    /** Whether {@link #batch} packs sequences (else right-pads them). */
    public boolean packed() {
        return packed;
    }

    /** How the projections are stored: {@link Quantization#INT8} when they were quantized at load. */
    public Quantization quantization() {
        return decoder.projections().stream().anyMatch(p -> p.base().quantized()) ? Quantization.INT8
                : Quantization.NONE;
    }

    /** The memory plan of this model for a micro-batch of {@code tokens} tokens padded to {@code maxLength}. */
    public MemoryPlan memoryPlan(long tokens, int maxLength) {
        return new MemoryPlan(config, dtype, stages, tokens, maxLength, lora() == null ? 0 : lora().r(),
                quantization());
    }

    @Override
    public void close() {
        root.close();
    }
}
