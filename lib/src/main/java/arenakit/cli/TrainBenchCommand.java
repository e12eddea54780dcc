package arenakit.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import arenakit.infer.BatchRunner;
import arenakit.infer.DataParallelRunner;
import arenakit.infer.InferenceConfig;
import arenakit.infer.MicroBatches;
import arenakit.infer.PipelinedRunner;
import arenakit.infer.Predictor;
import arenakit.infer.SingleDeviceRunner;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.SequenceClassifier;
import arenakit.model.TinyCheckpoints;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.LoraConfig;
import arenakit.train.AdamW;
import arenakit.train.OptimizerConfig;
import arenakit.train.Trainer;
import arenakit.util.Engines;
import arenakit.util.Folders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-train}: training and inference throughput of a random model ({@code --model-type}, Gemma-2 by
 * default) on this machine (docs/benchmarks.md):
 * LoRA training steps (forward, backward, AdamW) in tokens/s, then inference over the same sequences on one
 * device, pipelined over two devices (layers split in half) and data parallel (a model per device). On a CPU both
 * "devices" are the CPU, so the comparison measures what the two-thread schedule costs or gains there; on two GPUs
 * pass {@code --devices gpu(0),gpu(1)}.
 */
@Command(name = "bench-train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Time LoRA training steps and single / pipelined / data-parallel inference (tokens/s).")
public final class TrainBenchCommand implements Callable<Integer> {
    @Option(names = "--model-type", description = "the family: gemma2, llama or qwen2 (default ${DEFAULT-VALUE})")
    String modelType = "gemma2";

    @Option(names = "--hidden", description = "hidden_size (default ${DEFAULT-VALUE})")
    int hidden = 64;

    @Option(names = "--intermediate", description = "intermediate_size (default ${DEFAULT-VALUE})")
    int intermediate = 128;

    @Option(names = "--layers", description = "num_hidden_layers (default ${DEFAULT-VALUE})")
    int layers = 2;

    @Option(names = "--heads", description = "num_attention_heads (default ${DEFAULT-VALUE})")
    int heads = 4;

    @Option(names = "--kv-heads", description = "num_key_value_heads (default ${DEFAULT-VALUE})")
    int kvHeads = 2;

    @Option(names = "--head-dim", description = "head_dim (default ${DEFAULT-VALUE})")
    int headDim = 16;

    @Option(names = "--vocab", description = "vocab_size (default ${DEFAULT-VALUE})")
    int vocab = 400;

    @Option(names = "--length", description = "tokens per sequence (default ${DEFAULT-VALUE})")
    int length = 192;

    @Option(names = "--sequences",
            description = "sequences per training step and per inference run (default ${DEFAULT-VALUE})")
    int sequences = 32;

    @Option(names = "--steps", description = "timed training steps, after one warm-up step (default ${DEFAULT-VALUE})")
    int steps = 10;

    @Option(names = "--lora-r", description = "LoRA rank on every projection (default ${DEFAULT-VALUE})")
    int loraR = 16;

    @Option(names = "--batch-tokens", description = "padded tokens per micro-batch (default ${DEFAULT-VALUE})")
    int batchTokens = 2048;

    @Option(names = "--devices", split = ",",
            description = "the two devices of the two-device modes (default: cpu,cpu)")
    List<String> devices = List.of("cpu", "cpu");

    @Option(names = "--repeats",
            description = "inference runs per mode; the best is reported (default ${DEFAULT-VALUE})")
    int repeats = 3;

    @Override
    public Integer call() throws Exception {
        Engines.pytorch();
        Path dir = Files.createTempDirectory("bench-train");
        try {
            DecoderConfig config = Families.tiny(modelType, vocab, hidden, intermediate, layers, heads, kvHeads,
                    headDim);
            Path ckpt = TinyCheckpoints.write(dir.resolve("model"), config, SafetensorsFile.DType.F32, 1, 1);
            Random random = new Random(3);
            List<int[]> seqs = new ArrayList<>();
            for (int i = 0; i < sequences; i++) {
                int[] s = new int[length];
                for (int t = 0; t < length; t++) {
                    s[t] = 6 + random.nextInt(vocab - 6);
                }
                seqs.add(s);
            }
            long tokens = (long) sequences * length;
            System.out.printf(Locale.ROOT, "model: %d layers, hidden %d, intermediate %d, heads %d/%d, vocab %d; "
                    + "%d sequences x %d tokens, micro-batches of %d padded tokens; %d PyTorch threads%n", layers,
                    hidden, intermediate, heads, kvHeads, vocab, sequences, length, batchTokens,
                    JniUtils.getNumThreads());
            train(ckpt, seqs, tokens);
            infer(ckpt, seqs, tokens);
        } finally {
            Folders.deleteTree(dir);
        }
        return 0;
    }

    private void train(Path ckpt, List<int[]> seqs, long tokens) throws Exception {
        List<Trainer.Sequence> step = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
            float[] target = new float[3];
            target[i % 3] = 1;
            step.add(new Trainer.Sequence(seqs.get(i), target, null));
        }
        try (DecoderClassifier model = DecoderClassifier.load(ckpt, DecoderClassifier.Options.defaults().freshHead(true)
                .log(s -> {}).lora(LoraConfig.of(loraR, 2.0 * loraR, 0)));
                AdamW optimizer = new AdamW(model.trainable(), new OptimizerConfig(1e-4, 0.01, null, 1e-8, 1))) {
            double seconds = 0;
            for (int s = 0; s <= steps; s++) {
                long start = System.nanoTime();
                try (NDScope scope = new NDScope()) {
                    try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
                        Trainer.accumulate(model, c, step, batchTokens, null, 1);
                    }
                    optimizer.step(1e-4);
                }
                if (s > 0) {
                    seconds += (System.nanoTime() - start) / 1e9;
                }
            }
            System.out.printf(Locale.ROOT,
                    "train (LoRA r=%d, forward + backward + AdamW): %.2f s/step, %.0f tokens/s%n", loraR, seconds / steps, tokens * steps / seconds);
        }
    }

    private void infer(Path ckpt, List<int[]> seqs, long tokens) throws Exception {
        InferenceConfig inference = new InferenceConfig(false, List.of("cpu"), InferenceConfig.SINGLE, null,
                batchTokens, null, Integer.MAX_VALUE);
        System.out.printf(Locale.ROOT, "inference: %d micro-batches%n", MicroBatches.pack(seqs, batchTokens).size());
        Device d0 = Placement.device(devices.get(0));
        Device d1 = Placement.device(devices.get(1));
        try (DecoderClassifier single = load(ckpt, Placement.single(d0))) {
            report("single device", new SingleDeviceRunner(single), inference, seqs, tokens);
        }
        try (DecoderClassifier split = load(ckpt, Placement.split(d0, d1))) {
            report("pipelined, layers split over two devices", PipelinedRunner.of(split), inference,
                    seqs, tokens);
        }
        try (DecoderClassifier a = load(ckpt, Placement.single(d0));
                DecoderClassifier b = load(ckpt, Placement.single(d1))) {
            List<SequenceClassifier> replicas = List.of(a, b);
            report("data parallel, a model per device", new DataParallelRunner(replicas, devices), inference, seqs,
                    tokens);
        }
    }

    private static DecoderClassifier load(Path ckpt, Placement placement) throws Exception {
        return DecoderClassifier.load(ckpt, DecoderClassifier.Options.defaults().placement(placement).log(s -> {}));
    }

    private void report(String mode, BatchRunner runner, InferenceConfig inference, List<int[]> seqs, long tokens) {
        Predictor predictor = new Predictor(runner, inference, s -> {});
        predictor.logits(seqs, "warm-up");
        double best = Double.MAX_VALUE;
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            predictor.logits(seqs, mode);
            best = Math.min(best, (System.nanoTime() - start) / 1e9);
        }
        System.out.printf(Locale.ROOT, "inference, %s: %.3f s, %.0f tokens/s%n", mode, best, tokens / best);
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new TrainBenchCommand(), args));
    }
}
