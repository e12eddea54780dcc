package arenakit.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import arenakit.infer.BatchRunner;
import arenakit.infer.DataParallelRunner;
import arenakit.infer.DeviceTable;
import arenakit.infer.InferenceConfig;
import arenakit.infer.PipelinedRunner;
import arenakit.infer.SingleDeviceRunner;
import arenakit.model.ClassifierHead;
import arenakit.model.DecoderClassifier;
import arenakit.model.MemoryPlan;
import arenakit.model.Placement;
import arenakit.model.SequenceClassifier;
import arenakit.model.TinyCheckpoints;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.LoraConfig;
import arenakit.model.quant.Quantization;
import arenakit.text.Tokenizer;
import arenakit.train.TrainConfig;
import arenakit.train.TrainDevices;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/** How the stages get their models: the base checkpoint, training starts, exports, and inference runners. */
final class Models {
    private Models() {}

    /** What {@code <out>/base-model/} was generated from: the tiny sizes, seed and vocabulary size. */
    static final String TINY_STAMP = "tiny-model.json";

    record TinyStamp(ExperimentConfig.TinyModel tiny, int vocabSize) {}

    /**
     * The base checkpoint: the configured folder, or a tiny random model of its model_type written into {@code dir}
     * (reused while its family, sizes, seed and vocabulary size are those it was written with).
     */
    static Path baseCheckpoint(ExperimentConfig.BaseModel spec, Tokenizer tokenizer, Path dir, Consumer<String> log)
            throws IOException {
        if (spec.checkpoint() != null) {
            return Path.of(spec.checkpoint()).toAbsolutePath().normalize();
        }
        ExperimentConfig.TinyModel t = spec.tiny();
        DecoderConfig config = Families.tiny(t.modelType(), tokenizer.vocabSize(), t.hiddenSize(), t.intermediateSize(),
                t.numHiddenLayers(), t.numAttentionHeads(), t.numKeyValueHeads(), t.headDim());
        TinyStamp wanted = new TinyStamp(t, tokenizer.vocabSize());
        Path stamp = dir.resolve(TINY_STAMP);
        if (Files.isRegularFile(dir.resolve(HfCheckpoint.CONFIG)) && Files.isRegularFile(stamp)) {
            try {
                if (arenakit.util.Json.read(stamp, TinyStamp.class).equals(wanted)) {
                    return dir; // written by an earlier run of this setup
                }
            } catch (arenakit.util.Json.Invalid e) {
                // written by an earlier version: write it again
            }
            log.accept(dir + " holds a tiny model of other sizes, seed or vocabulary: writing it again");
        }
        TinyCheckpoints.write(dir, config, SafetensorsFile.DType.F32, 1, t.seed());
        arenakit.util.Json.write(stamp, wanted);
        log.accept(String.format(Locale.ROOT, "tiny random %s: %d layers, hidden %d, vocabulary %d -> %s",
                config.familyName(), t.numHiddenLayers(), t.hiddenSize(), tokenizer.vocabSize(), dir));
        return dir;
    }

    /** The model(s) a training stage runs on, and where ({@link TrainDevices}); closing frees them. */
    record Training(TrainDevices devices, List<SequenceClassifier> models) implements AutoCloseable {
        SequenceClassifier model() {
            return devices.model();
        }

        @Override
        public void close() {
            devices.close();
            models.forEach(SequenceClassifier::close);
        }
    }

    /**
     * The model(s) a training stage starts from, placed as {@code train.devices} and {@code train.mode} say: one
     * model on one device, one split over the devices (pipeline), or a replica per device (data parallel).
     */
    static Training forTraining(Path base, TrainConfig config, TrainedModel init, Consumer<String> log)
            throws IOException {
        TrainConfig.Train t = config.train();
        List<Device> devices = t.devices() == null ? List.of() : t.devices().stream().map(Placement::device).toList();
        List<SequenceClassifier> models = new ArrayList<>();
        try {
            switch (t.mode()) {
                case TrainConfig.Train.DATA_PARALLEL -> {
                    for (int i = 0; i < devices.size(); i++) {
                        models.add(forTraining(base, config, init, Placement.single(devices.get(i)),
                                i == 0 ? log : line -> { }));
                    }
                    log.accept("data parallel: a replica on each of " + t.devices());
                    return new Training(TrainDevices.dataParallel(models, t.devices()), models);
                }
                case TrainConfig.Train.PIPELINE -> {
                    Device[] on = devices.toArray(new Device[0]);
                    Placement placement = t.splitLayer() == null ? Placement.split(on)
                            : Placement.split(new int[] {t.splitLayer()}, on);
                    models.add(forTraining(base, config, init, placement, log));
                    log.accept("pipeline: " + ((DecoderClassifier) models.get(0)).stages());
                    return new Training(TrainDevices.single(models.get(0)), models);
                }
                default -> {
                    models.add(forTraining(base, config, init, devices.isEmpty() ? null
                            : Placement.single(devices.get(0)), log));
                    return new Training(TrainDevices.single(models.get(0)), models);
                }
            }
        } catch (IOException | RuntimeException e) {
            models.forEach(SequenceClassifier::close);
            throw e;
        }
    }

    /**
     * One model a training stage starts from: the base (or the {@code loadFrom} stage's weights) with the stage's
     * head and either LoRA adapters (continued when the previous stage trained LoRA of the same shape) or every
     * weight trainable; {@code placement} null = the engine's default device.
     */
    static SequenceClassifier forTraining(Path base, TrainConfig config, TrainedModel init, Placement placement,
            Consumer<String> log) throws IOException {
        TrainConfig.Model m = config.model();
        DecoderClassifier.Options o = DecoderClassifier.Options.defaults().head(head(m.head()))
                .seed(config.train().seed()).log(log).planFor(config.loader().maxTokens(),
                        config.data().text().maxLength())
                .gradientCheckpointing(config.train().gradientCheckpointing());
        if (placement != null) {
            o.placement(placement);
        }
        dtype(m.dtype()).ifPresent(o::dtype);
        o.quantize(Quantization.parse(m.quantize(), "model.quantize"));
        boolean continued = init != null && !init.fullFineTune() && m.lora() != null
                && lora(m.lora()).equals(lora(init.config().model().lora()));
        Path weights = base;
        if (init == null) {
            o.freshHead(true);
        } else if (init.fullFineTune()) {
            weights = init.weights();
        } else {
            o.adapter(init.weights(), !continued); // kept separate (and trained) or merged into the base
            if (!arenakit.model.lora.PeftAdapter.read(init.weights()).hasHead()) {
                o.freshHead(true); // as a stage from the base does: training starts its own head
                log.accept(init.weights() + " carries no trained head: this stage trains a fresh " + m.head()
                        + " head on top of it");
            }
        }
        if (m.lora() == null) {
            o.fullFineTune(true);
        } else if (!continued) {
            o.lora(lora(m.lora()));
        }
        return DecoderClassifier.load(weights, o);
    }

    /**
     * Checks a base checkpoint folder without loading weights: config.json, the safetensors headers, and that every
     * decoder tensor is there with the shape its config implies (the head, if any, is checked when a stage loads it).
     * Returns the number of decoder layers. The one place the setup check calls the model code.
     */
    static int checkBaseCheckpoint(Path dir) throws IOException {
        return DecoderClassifier.checkFiles(dir, line -> { }).numHiddenLayers();
    }

    /** Checks the sizes of a tiny random model (the vocabulary size is the tokenizer's, not known yet). */
    static void checkTiny(ExperimentConfig.TinyModel t) {
        Families.tiny(t.modelType(), 256, t.hiddenSize(), t.intermediateSize(), t.numHiddenLayers(),
                t.numAttentionHeads(), t.numKeyValueHeads(), t.headDim());
    }

    /**
     * Checks a PEFT adapter folder without loading weights, against the base model it will run on when that is known
     * ({@code base} null: the adapter's own files only): its config, header, tensors against the base's projections,
     * and its head (of the stage's layout; a headless one only with {@code baseHead} and a base that has a head).
     */
    static void checkAdapter(Path dir, BaseCheck base, String head, boolean baseHead) throws IOException {
        if (base == null) {
            arenakit.model.lora.PeftAdapter.read(dir);
            return;
        }
        DecoderClassifier.checkAdapter(dir, base.config().withNumLabels(3), head(head), baseHead, base.hasHead());
    }

    /** What the setup check knows of a base model without loading or writing it: its config, whether it has a head. */
    record BaseCheck(DecoderConfig config, boolean hasHead) {}

    /** A base model as the setup check sees it: a checkpoint's config.json and headers, or a tiny model's sizes. */
    static BaseCheck baseCheck(ExperimentConfig.BaseModel spec) throws IOException {
        if (spec.tiny() != null) { // projections do not depend on the vocabulary; a tiny model has a score head
            ExperimentConfig.TinyModel t = spec.tiny();
            return new BaseCheck(Families.tiny(t.modelType(), 256, t.hiddenSize(), t.intermediateSize(),
                    t.numHiddenLayers(), t.numAttentionHeads(), t.numKeyValueHeads(), t.headDim()), true);
        }
        Path dir = Path.of(spec.checkpoint()).toAbsolutePath().normalize();
        DecoderConfig config = Families.read(dir.resolve(HfCheckpoint.CONFIG));
        boolean head = HfCheckpoint.open(dir).names().stream().anyMatch(n -> n.startsWith("score."));
        return new BaseCheck(config, head);
    }

    /** Writes a trained model into a stage (or checkpoint) folder: {@code model/} or {@code adapter/}. */
    static void export(SequenceClassifier model, Path dir) throws IOException {
        DecoderClassifier g = (DecoderClassifier) model;
        if (g.fullFineTune()) {
            g.saveCheckpoint(dir.resolve(TrainedModel.CHECKPOINT), SafetensorsFile.DType.F32, 1);
        } else {
            g.saveAdapter(dir.resolve(TrainedModel.ADAPTER));
        }
    }

    /** A batch runner over loaded model(s); closing it frees them. */
    record Inference(BatchRunner runner, List<SequenceClassifier> models) implements AutoCloseable {
        @Override
        public void close() {
            runner.close();
            models.forEach(SequenceClassifier::close);
        }
    }

    /**
     * How {@code model} is stored for inference: {@code entry} (an ensemble entry's own {@code quantize}), else the
     * stage's {@code inference.quantize}, else the model's training setting ({@code model.quantize}).
     */
    static Quantization quantization(TrainedModel model, String entry, InferenceConfig inference) {
        return quantization(model.config(), entry, inference);
    }

    /** As {@link #quantization(TrainedModel, String, InferenceConfig)}, from the model's training config. */
    static Quantization quantization(TrainConfig trained, String entry, InferenceConfig inference) {
        String q = entry != null ? entry : inference.quantize() != null ? inference.quantize()
                : trained.model().quantize();
        return Quantization.parse(q, "quantize");
    }

    /**
     * Loads a trained model for inference the way {@code inference} says (one device, pipelined, data parallel),
     * its projections stored as {@code quant} says. {@code baseHead}: a PEFT adapter without a trained head predicts
     * with the base's head (else it is refused).
     */
    static Inference forInference(Path base, TrainedModel model, InferenceConfig inference, Quantization quant,
            boolean baseHead, Consumer<String> log) throws IOException {
        List<Device> devices = inference.devices().stream().map(Placement::device).toList();
        switch (inference.mode()) {
            case InferenceConfig.SINGLE -> {
                DecoderClassifier g = load(base, model, Placement.single(devices.get(0)), inference, quant, baseHead,
                        log);
                return new Inference(new SingleDeviceRunner(g), List.of(g));
            }
            case InferenceConfig.DATA_PARALLEL -> {
                List<SequenceClassifier> replicas = new ArrayList<>();
                try {
                    for (Device d : devices) {
                        replicas.add(load(base, model, Placement.single(d), inference, quant, baseHead, log));
                    }
                } catch (IOException | RuntimeException e) {
                    replicas.forEach(SequenceClassifier::close);
                    throw e;
                }
                return new Inference(new DataParallelRunner(replicas, inference.devices()), replicas);
            }
            default -> {
                Device[] two = devices.toArray(new Device[0]);
                Placement placement = inference.splitLayer() == null ? Placement.split(two)
                        : Placement.split(new int[] {inference.splitLayer()}, two);
                DecoderClassifier g = load(base, model, placement, inference, quant, baseHead, log);
                return new Inference(PipelinedRunner.of(g), List.of(g));
            }
        }
    }

    /**
     * What the model about to be loaded for inference weighs and how it is placed, from config.json alone: its
     * memory plan on the devices {@code inference} names and its shape for the cost model.
     */
    record Plan(MemoryPlan memory, DeviceTable.Shape shape) {}

    static Plan plan(Path base, TrainedModel model, InferenceConfig inference, int maxLength, Quantization quant)
            throws IOException {
        DecoderConfig config = Families.read((model.fullFineTune() ? model.weights() : base)
                .resolve(HfCheckpoint.CONFIG)).withNumLabels(3);
        List<Device> devices = inference.devices().stream().map(Placement::device).toList();
        Placement placement = !inference.mode().equals(InferenceConfig.PIPELINE) ? Placement.single(devices.get(0))
                : inference.splitLayer() == null ? Placement.split(devices.toArray(new Device[0]))
                : Placement.split(new int[] {inference.splitLayer()}, devices.toArray(new Device[0]));
        DataType type = dtype(model.config().model().dtype())
                .orElse(devices.get(0).isGpu() ? DataType.FLOAT16 : DataType.FLOAT32);
        MemoryPlan memory = new MemoryPlan(config, type, placement.stages(config.numHiddenLayers()),
                inference.maxTokens(), maxLength, 0, quant);
        long params = memory.layerParams() * config.numHiddenLayers();
        // loading reads (and converts) the unquantized weights whatever they become
        long loaded = new MemoryPlan(config, type, memory.stages(), memory.tokens(), maxLength, 0).totalWeightBytes();
        DeviceTable.Shape shape = new DeviceTable.Shape(params, config.numHiddenLayers(), config.numAttentionHeads(),
                config.qDim(), loaded, type == DataType.FLOAT16);
        return new Plan(memory, shape);
    }

    private static DecoderClassifier load(Path base, TrainedModel model, Placement placement, InferenceConfig inference,
            Quantization quant, boolean baseHead, Consumer<String> log) throws IOException {
        DecoderClassifier.Options o = DecoderClassifier.Options.defaults().placement(placement).baseHead(baseHead)
                .head(head(model.config().model().head())).log(log).planFor(inference.maxTokens(),
                        model.config().data().text().maxLength()).quantize(quant);
        dtype(model.config().model().dtype()).ifPresent(o::dtype);
        if (model.fullFineTune()) {
            return DecoderClassifier.load(model.weights(), o);
        }
        return DecoderClassifier.load(base, o.adapter(model.weights(), true));
    }

    /** A config's {@code dtype} ("float32", "float16"); empty for "auto" (float16 on a GPU, float32 on a CPU). */
    static java.util.Optional<DataType> dtype(String name) {
        return switch (name) {
            case "float32" -> java.util.Optional.of(DataType.FLOAT32);
            case "float16" -> java.util.Optional.of(DataType.FLOAT16);
            default -> java.util.Optional.empty();
        };
    }

    private static ClassifierHead.Kind head(String name) {
        return switch (name) {
            case "linear" -> ClassifierHead.Kind.SCORE;
            case "mlp" -> ClassifierHead.Kind.DROPOUT_MLP;
            case "mlp3" -> ClassifierHead.Kind.MLP3;
            default -> throw new ConfigException("model.head must be linear, mlp or mlp3, got '" + name + "'");
        };
    }

    private static LoraConfig lora(TrainConfig.Lora l) {
        return LoraConfig.of(l.r(), l.alpha(), l.dropout()).withTargets(l.targets())
                .withInit(l.pissa() ? LoraConfig.Init.PISSA : LoraConfig.Init.DEFAULT);
    }
}
