package arenakit.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import arenakit.model.ActivationMemory;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.SequenceClassifier;
import arenakit.model.TinyCheckpoints;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.LoraConfig;
import arenakit.train.AdamW;
import arenakit.train.OptimizerConfig;
import arenakit.train.TrainDevices;
import arenakit.train.Trainer;
import arenakit.util.Engines;
import arenakit.util.Folders;
import arenakit.util.Json;
import arenakit.util.ProcessMemory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-train-step}: the LoRA training step (forward, backward, AdamW) of a random model on this machine,
 * side by side with the PyTorch eager peer ({@code docs/bench/decoder_peer.py train-bench}): tokens/s and the peak
 * memory of a step, with and without activation checkpointing, at each length; then data parallel over two CPU
 * "devices" against one. Every measurement runs in a process of its own, Java and peer interleaved, so a busy
 * machine slows both alike. The planned activation bytes ({@link ActivationMemory}) are printed next to the
 * measured peak (docs/benchmarks.md).
 */
@Command(name = "bench-train-step", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Time and measure the memory of LoRA training steps, Java vs the PyTorch eager peer.")
public final class TrainStepBenchCommand implements Callable<Integer> {
    @Option(names = "--model-type", description = "gemma2, llama or qwen2 (default ${DEFAULT-VALUE})")
    String modelType = "gemma2";

    @Option(names = "--hidden", description = "hidden_size (default ${DEFAULT-VALUE})")
    int hidden = 256;

    @Option(names = "--intermediate", description = "intermediate_size (default ${DEFAULT-VALUE})")
    int intermediate = 1024;

    @Option(names = "--layers", description = "num_hidden_layers (default ${DEFAULT-VALUE})")
    int layers = 8;

    @Option(names = "--heads", description = "num_attention_heads (default ${DEFAULT-VALUE})")
    int heads = 4;

    @Option(names = "--kv-heads", description = "num_key_value_heads (default ${DEFAULT-VALUE})")
    int kvHeads = 2;

    @Option(names = "--head-dim", description = "head_dim (default ${DEFAULT-VALUE})")
    int headDim = 64;

    @Option(names = "--vocab", description = "vocab_size (default ${DEFAULT-VALUE})")
    int vocab = 4000;

    @Option(names = "--lengths", split = ",", description = "tokens per sequence, one run each (default 1024,3072)")
    List<Integer> lengths = List.of(1024, 3072);

    @Option(names = "--sequences", description = "sequences per step, one micro-batch each (default ${DEFAULT-VALUE})")
    int sequences = 2;

    @Option(names = "--steps", description = "timed steps after one warm-up step (default ${DEFAULT-VALUE})")
    int steps = 3;

    @Option(names = "--lora-r", description = "LoRA rank on all seven projections (default ${DEFAULT-VALUE})")
    int loraR = 16;

    @Option(names = "--threads", description = "PyTorch threads of each process (default ${DEFAULT-VALUE})")
    int threads = 1;

    @Option(names = "--peer", paramLabel = "PYTHON",
            description = "python with torch, to run docs/bench/decoder_peer.py beside Java (default: Java only)")
    String peer;

    @Option(names = "--data-parallel-length", description = "length of the data-parallel comparison (0 = skip; "
            + "default ${DEFAULT-VALUE})")
    int dataParallelLength = 1024;

    @Option(names = "--dir", description = "work folder (default: a temporary one, deleted)")
    Path dir;

    // the worker: one measurement in this process
    @Option(names = "--worker", hidden = true)
    boolean worker;

    @Option(names = "--length", hidden = true)
    int length;

    @Option(names = "--checkpointing", hidden = true)
    boolean checkpointing;

    @Option(names = "--replicas", hidden = true)
    int replicas = 1;

    @Option(names = "--memory", hidden = true)
    boolean memory;

    @Override
    public Integer call() throws Exception {
        if (worker) {
            return work();
        }
        boolean temporary = dir == null;
        Path root = temporary ? Files.createTempDirectory("bench-train-step") : dir;
        try {
            DecoderConfig config = Families.tiny(modelType, vocab, hidden, intermediate, layers, heads, kvHeads,
                    headDim);
            TinyCheckpoints.write(root.resolve("model"), config, SafetensorsFile.DType.F32, 1, 1);
            ObjectNode settings = Json.MAPPER.createObjectNode().put("sequences", sequences).put("steps", steps)
                    .put("lora_r", loraR).put("threads", threads).put("lr", 1e-4).put("weight_decay", 0.01);
            Json.write(root.resolve("settings.json"), settings);
            System.out.printf(Locale.ROOT, "model: %s, %d layers, hidden %d, intermediate %d, heads %d/%d x %d, vocab "
                    + "%d; LoRA r=%d (alpha %d) on all seven projections, AdamW; a step = %d sequences, one "
                    + "micro-batch each; %d PyTorch thread(s) per process; %d timed steps after a warm-up%n",
                    modelType, layers, hidden, intermediate, heads, kvHeads, headDim, vocab, loraR, 2 * loraR,
                    sequences, threads, steps);
            System.out.println("| length | checkpointing | Java s/step | Java tokens/s | peer s/step | peer tokens/s "
                    + "| Java / peer | Java peak | peer peak | planned activations | planned / Java peak |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
            for (int len : new java.util.TreeSet<>(concat(lengths, dataParallelLength))) {
                writeIds(root, len, config.vocabSize());
            }
            for (int len : lengths) {
                for (boolean ckpt : new boolean[] {false, true}) {
                    JsonNode j = java(root, len, ckpt, 1, threads, false);
                    JsonNode p = peer == null ? null : peer(root, len, ckpt, false);
                    JsonNode jm = java(root, len, ckpt, 1, threads, true);
                    JsonNode pm = peer == null ? null : peer(root, len, ckpt, true);
                    System.out.println(row(len, ckpt, j, p, jm, pm));
                }
            }
            if (dataParallelLength > 0) {
                JsonNode one = java(root, dataParallelLength, false, 1, threads, false);
                JsonNode two = java(root, dataParallelLength, false, 2, threads, false);
                System.out.printf(Locale.ROOT, "data parallel at %d tokens, %d thread(s) per replica: one device "
                        + "%.2f s/step (%.0f tokens/s), two replicas on two CPU devices %.2f s/step (%.0f tokens/s): "
                        + "%.2fx; loss %.7f vs %.7f%n", dataParallelLength, threads, one.get("seconds").asDouble(),
                        one.get("tokens_per_second").asDouble(), two.get("seconds").asDouble(),
                        two.get("tokens_per_second").asDouble(), two.get("tokens_per_second").asDouble()
                                / one.get("tokens_per_second").asDouble(), one.get("loss").asDouble(),
                        two.get("loss").asDouble());
            }
        } finally {
            if (temporary) {
                Folders.deleteTree(root);
            }
        }
        return 0;
    }

    private static List<Integer> concat(List<Integer> a, int b) {
        List<Integer> out = new ArrayList<>(a);
        if (b > 0) {
            out.add(b);
        }
        return out;
    }

    /** The step's token ids for one length, which Java and the peer both read. */
    private void writeIds(Path root, int len, int vocabSize) throws IOException {
        Random random = new Random(31L * len + 3);
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < sequences; i++) {
            int[] s = new int[len];
            for (int t = 0; t < len; t++) {
                s[t] = 6 + random.nextInt(vocabSize - 6);
            }
            ids.add(s);
        }
        Json.write(root.resolve("ids-" + len + ".json"), ids);
    }

    private static String row(int len, boolean ckpt, JsonNode j, JsonNode p, JsonNode jm, JsonNode pm) {
        double planned = jm.get("planned_activation_bytes").asDouble();
        double jp = jm.get("peak_bytes").asDouble();
        return String.format(Locale.ROOT, "| %d | %s | %.2f | %.0f | %s | %s | %s | %s | %s | %s | %.2f |", len,
                ckpt ? "on" : "off", j.get("seconds").asDouble(), j.get("tokens_per_second").asDouble(),
                p == null ? "-" : String.format(Locale.ROOT, "%.2f", p.get("seconds").asDouble()),
                p == null ? "-" : String.format(Locale.ROOT, "%.0f", p.get("tokens_per_second").asDouble()),
                p == null ? "-" : String.format(Locale.ROOT, "%.2fx", j.get("tokens_per_second").asDouble()
                        / p.get("tokens_per_second").asDouble()),
                mib(jp), pm == null ? "-" : mib(pm.get("peak_bytes").asDouble()), mib(planned), planned / jp);
    }

    private static String mib(double bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (1 << 20));
    }

    private JsonNode java(Path root, int len, boolean ckpt, int reps, int t, boolean memory)
            throws IOException, InterruptedException {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        // a fixed, pre-touched heap: the Java heap's growth would otherwise count as the step's memory
        List<String> cmd = new ArrayList<>(List.of(javaBin, "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch",
                "-Dai.djl.pytorch.num_threads=" + t, "-cp",
                System.getProperty("java.class.path"), TrainStepBenchCommand.class.getName(), "--worker", "--dir",
                root.toString(), "--length", Integer.toString(len), "--replicas", Integer.toString(reps)));
        if (ckpt) {
            cmd.add("--checkpointing");
        }
        if (memory) {
            cmd.add("--memory");
        }
        return run(cmd, memory);
    }

    private JsonNode peer(Path root, int len, boolean ckpt, boolean memory) throws IOException, InterruptedException {
        Path script = arenakit.util.ArenaHome.find().orElseThrow(() -> new IOException("run from the checkout: "
                + "docs/bench/decoder_peer.py is needed")).resolve("docs/bench/decoder_peer.py");
        List<String> cmd = new ArrayList<>(List.of(peer, script.toString(), "train-bench", root.toString(),
                "--length", Integer.toString(len)));
        if (ckpt) {
            cmd.add("--checkpointing");
        }
        if (memory) {
            cmd.add("--memory");
        }
        return run(cmd, memory);
    }

    /**
     * Runs a measurement process; its last stdout line is the JSON result. A memory measurement runs with glibc
     * mapping every block above 64 KiB on its own from the start, so resident memory is live memory.
     */
    private static JsonNode run(List<String> cmd, boolean memory) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("OMP_NUM_THREADS", "1");
        if (memory) {
            pb.environment().put("MALLOC_MMAP_THRESHOLD_", "65536");
        }
        Process proc = pb.start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.startsWith("{")) {
                    last = line;
                }
            }
        }
        int rc = proc.waitFor();
        if (rc != 0 || last == null) {
            throw new IOException(String.join(" ", cmd) + " failed (exit " + rc + ")");
        }
        return Json.MAPPER.readTree(last);
    }

    /** One measurement: warm-up, timed steps, then one step with exact resident-memory accounting. */
    private int work() throws Exception {
        Engines.pytorch();
        JsonNode settings = Json.MAPPER.readTree(dir.resolve("settings.json").toFile());
        int n = settings.get("sequences").asInt();
        double lr = settings.get("lr").asDouble();
        int timed = settings.get("steps").asInt();
        int r = settings.get("lora_r").asInt();
        Path model = dir.resolve("model");
        DecoderConfig config = Families.read(model.resolve(HfCheckpoint.CONFIG)).withNumLabels(3);
        List<Trainer.Sequence> step = sequences(dir.resolve("ids-" + length + ".json"));
        List<SequenceClassifier> models = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            models.add(DecoderClassifier.load(model, DecoderClassifier.Options.defaults()
                    .placement(Placement.single(Device.cpu())).freshHead(true).log(s -> { })
                    .lora(LoraConfig.of(r, 2.0 * r, 0)).gradientCheckpointing(checkpointing)));
        }
        Path adapter = dir.resolve("adapter");
        if (!Files.isDirectory(adapter)) { // the starting LoRA and head, for the peer to start from too
            models.get(0).saveAdapter(adapter);
        }
        try (TrainDevices devices = replicas == 1 ? TrainDevices.single(models.get(0))
                : TrainDevices.dataParallel(models, java.util.Collections.nCopies(replicas, "cpu"));
                AdamW optimizer = new AdamW(models.get(0).trainable(), new OptimizerConfig(lr,
                        settings.get("weight_decay").asDouble(), null, 1e-8, 1))) {
            devices.broadcast();
            int runs = memory ? 1 : timed; // a memory measurement: one warm-up step, then the measured one
            double[] seconds = new double[runs];
            double loss = 0;
            for (int s = 0; s <= runs; s++) {
                long start = System.nanoTime();
                loss = step(devices, optimizer, step, s, lr);
                if (s > 0) {
                    seconds[s - 1] = (System.nanoTime() - start) / 1e9;
                }
            }
            long peak = -1;
            if (memory) {
                System.gc();
                long before = ProcessMemory.resident();
                ProcessMemory.resetPeak();
                step(devices, optimizer, step, runs + 1, lr);
                peak = ProcessMemory.peak() - before;
            }
            Arrays.sort(seconds);
            double median = seconds[runs / 2];
            ActivationMemory plan = new ActivationMemory(config, DataType.FLOAT32, length, length, r, 0, false);
            ObjectNode out = Json.MAPPER.createObjectNode().put("impl", "java").put("length", length)
                    .put("checkpointing", checkpointing).put("replicas", replicas).put("seconds", median)
                    .put("tokens_per_second", (double) n * length / median).put("peak_bytes", peak)
                    .put("planned_activation_bytes", plan.trainingPeak(config.numHiddenLayers(), checkpointing))
                    .put("loss", loss).put("threads", JniUtils.getNumThreads());
            System.out.println(Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature
                    .INDENT_OUTPUT).writeValueAsString(out));
        } finally {
            models.forEach(SequenceClassifier::close);
        }
        return 0;
    }

    private static double step(TrainDevices devices, AdamW optimizer, List<Trainer.Sequence> step, long number,
            double lr) {
        try (NDScope scope = new NDScope()) {
            double loss = Trainer.accumulate(devices, step, step.get(0).ids().length, null, 1, number);
            optimizer.step(lr);
            devices.broadcast();
            return loss;
        }
    }

    /** The step's sequences from the ids file; targets cycle through the three classes. */
    private static List<Trainer.Sequence> sequences(Path file) throws IOException {
        int[][] ids = Json.MAPPER.readValue(file.toFile(), int[][].class);
        List<Trainer.Sequence> out = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            float[] target = new float[3];
            target[i % 3] = 1;
            out.add(new Trainer.Sequence(ids[i], target, null));
        }
        return out;
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new TrainStepBenchCommand(), args));
    }
}
