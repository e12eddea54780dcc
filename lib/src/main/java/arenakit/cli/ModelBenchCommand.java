package arenakit.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.infer.MicroBatches;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.TinyCheckpoints;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.quant.Quantization;
import arenakit.util.Engines;
import arenakit.util.Folders;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench-model}: the model's benchmarks (docs/benchmarks.md).
 *
 * <p>Forward: writes a random mid-size checkpoint ({@code --model-type}, Gemma-2 by default) and a batch plan (mixed
 * lengths, sorted, packed into
 * right-padded micro-batches under a token budget) to {@code --dir}, then times the CPU forward pass in tokens/s.
 * The PyTorch eager peer {@code docs/bench/decoder_peer.py bench} runs the same plan on the same checkpoint and checks the
 * logits. Load: {@code --load-gb} writes a multi-GB bf16 checkpoint (and its f32 twin), times loading both, and
 * deletes them. Int8: {@code --quantize int8} ({@link Int8Bench}).
 */
@Command(name = "bench-model", mixinStandardHelpOptions = true,
        description = "Time the CPU forward (tokens/s) of a Gemma-2, Llama or Qwen2 and the loading of a multi-GB "
                + "checkpoint.")
public final class ModelBenchCommand implements Callable<Integer> {

    @Option(names = "--dir", required = true, description = "Where the checkpoint, plan and results go.")
    Path dir;

    @Option(names = "--model-type", description = "The family: gemma2, llama or qwen2 (default ${DEFAULT-VALUE}).")
    String modelType = "gemma2";

    @Option(names = "--hidden", description = "hidden_size (default ${DEFAULT-VALUE}).")
    int hidden = 512;

    @Option(names = "--intermediate", description = "intermediate_size (default ${DEFAULT-VALUE}).")
    int intermediate = 2048;

    @Option(names = "--layers", description = "num_hidden_layers (default ${DEFAULT-VALUE}).")
    int layers = 8;

    @Option(names = "--heads", description = "num_attention_heads (default ${DEFAULT-VALUE}).")
    int heads = 8;

    @Option(names = "--kv-heads", description = "num_key_value_heads (default ${DEFAULT-VALUE}).")
    int kvHeads = 4;

    @Option(names = "--head-dim", description = "head_dim (default ${DEFAULT-VALUE}).")
    int headDim = 64;

    @Option(names = "--vocab", description = "vocab_size (default ${DEFAULT-VALUE}).")
    int vocab = 32000;

    @Option(names = "--sequences", description = "Sequences in the plan (default ${DEFAULT-VALUE}).")
    int sequences = 64;

    @Option(names = "--min-length", description = "Shortest sequence (default ${DEFAULT-VALUE}).")
    int minLength = 16;

    @Option(names = "--max-length", description = "Longest sequence (default ${DEFAULT-VALUE}).")
    int maxLength = 512;

    @Option(names = "--batch-tokens", description = "Padded tokens per micro-batch (default ${DEFAULT-VALUE}).")
    int batchTokens = 4096;

    @Option(names = "--repeats", description = "Timed passes over the plan (default ${DEFAULT-VALUE}).")
    int repeats = 3;

    @Option(names = "--threads", description = "PyTorch intra-op threads (default ${DEFAULT-VALUE}).")
    int threads = 2;

    @Option(names = "--load-gb", description = "Instead of the forward: load a generated checkpoint of about this "
            + "many GB (bf16 on disk), then delete it.")
    double loadGb;

    @Option(names = "--quantize", paramLabel = "int8", description = "Instead of the forward: int8 against float32 "
            + "and float16: max |logit diff| on the fixtures and the random model, weight memory (process RSS), and "
            + "tokens/s of the four (float32, float16, int8 computing in each) run interleaved.")
    String quantize;

    @Option(names = "--fixtures", paramLabel = "DIR", description = "Where gemma2-tiny, llama3-tiny and qwen2-tiny are "
            + "(with --quantize; default ${DEFAULT-VALUE}, skipped when absent).")
    Path fixtures = Path.of("../shared/fixtures");

    /** Internal: the child process of the int8 memory measurement loads variant N of {@code --dir}/model alone. */
    @Option(names = "--memory-probe", hidden = true)
    Integer memoryProbe;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new ModelBenchCommand(), args));
    }

    @Override
    public Integer call() throws IOException {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        PrintWriter out = spec.commandLine().getOut();
        if (memoryProbe != null) {
            Int8Bench.memoryProbe(this, memoryProbe, out);
        } else if (quantize != null) {
            if (Quantization.parse(quantize, "--quantize") != Quantization.INT8) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--quantize: only int8 is benchmarked");
            }
            Int8Bench.run(this, out);
        } else if (loadGb > 0) {
            loadBenchmark(out);
        } else {
            forwardBenchmark(out);
        }
        out.flush();
        return 0;
    }

    DecoderConfig config(int numLayers) {
        return Families.tiny(modelType, vocab, hidden, intermediate, numLayers, heads, kvHeads, headDim);
    }

    /** The benchmark's sequences: {@code --sequences} of uniform random lengths, seeded. */
    List<int[]> sequences(DecoderConfig config) {
        Random random = new Random(7);
        List<int[]> seqs = new ArrayList<>();
        for (int i = 0; i < sequences; i++) {
            int[] ids = new int[minLength + random.nextInt(maxLength - minLength + 1)];
            ids[0] = config.bosTokenId() == null ? 1 : config.bosTokenId();
            for (int t = 1; t < ids.length; t++) {
                ids[t] = 3 + random.nextInt(vocab - 3);
            }
            seqs.add(ids);
        }
        return seqs;
    }

    /** The batching inference uses: longest first, packed while (count x longest) fits the budget. */
    List<List<Integer>> batches(List<int[]> seqs) {
        return MicroBatches.pack(seqs, batchTokens).stream().map(b -> Arrays.stream(b).boxed().toList()).toList();
    }

    private void forwardBenchmark(PrintWriter out) throws IOException {
        DecoderConfig config = config(layers);
        Path model = TinyCheckpoints.write(dir.resolve("model"), config, DType.BF16, 1, 1);
        List<int[]> seqs = sequences(config);
        List<List<Integer>> batches = batches(seqs);
        long realTokens = seqs.stream().mapToLong(s -> s.length).sum();
        long paddedTokens = batches.stream().mapToLong(b -> (long) b.size() * seqs.get(b.get(0)).length).sum();
        writePlan(seqs, batches);

        ObjectNode result = Json.MAPPER.createObjectNode();
        result.put("threads", threads);
        result.put("sequences", seqs.size());
        result.put("batches", batches.size());
        result.put("real_tokens", realTokens);
        result.put("padded_tokens", paddedTokens);
        out.printf(Locale.ROOT, "Java/DJL forward, %d threads: %d sequences (%d-%d tokens) in %d batches of <= %d "
                + "padded tokens; %d real / %d padded tokens%n", threads, seqs.size(), minLength, maxLength,
                batches.size(), batchTokens, realTokens, paddedTokens);
        for (boolean packed : new boolean[] {false, true}) {
            double[] seconds = new double[repeats];
            double[] cpuSeconds = new double[repeats];
            float[][] logits = new float[seqs.size()][];
            try (DecoderClassifier m = DecoderClassifier.load(model, DecoderClassifier.Options.defaults()
                    .placement(Placement.single(Device.cpu())).dtype(DataType.FLOAT32).packed(packed)
                    .log(out::println))) {
                runPlan(m, seqs, batches, null); // warm-up pass
                for (int r = 0; r < repeats; r++) {
                    long t0 = System.nanoTime();
                    long c0 = cpuNanos();
                    runPlan(m, seqs, batches, logits);
                    seconds[r] = (System.nanoTime() - t0) / 1e9;
                    cpuSeconds[r] = (cpuNanos() - c0) / 1e9;
                }
            }
            double median = median(seconds);
            double cpuMedian = median(cpuSeconds);
            String layout = packed ? "packed" : "padded";
            ObjectNode r = result.putObject(layout);
            r.put("median_seconds", median);
            r.put("tokens_per_second", realTokens / median);
            r.put("median_cpu_seconds", cpuMedian);
            ArrayNode all = r.putArray("logits");
            for (float[] l : logits) {
                ArrayNode row = all.addArray();
                for (float v : l) {
                    row.add(v);
                }
            }
            out.printf(Locale.ROOT, "  %s: passes %s s; median %.3f s = %.0f tokens/s (process CPU %.3f s)%n", layout,
                    Arrays.toString(Arrays.stream(seconds).mapToObj(s -> String.format(Locale.ROOT, "%.3f", s))
                            .toArray()), median, realTokens / median, cpuMedian);
        }
        Json.write(dir.resolve("java_result.json"), result);
        out.printf(Locale.ROOT, "  peer: python docs/bench/decoder_peer.py bench %s --threads %d%n", dir, threads);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    void writePlan(List<int[]> seqs, List<List<Integer>> batches) throws IOException {
        ObjectNode plan = Json.MAPPER.createObjectNode();
        ArrayNode s = plan.putArray("sequences");
        for (int[] ids : seqs) {
            ArrayNode row = s.addArray();
            for (int id : ids) {
                row.add(id);
            }
        }
        ArrayNode b = plan.putArray("batches");
        for (List<Integer> batch : batches) {
            batch.forEach(b.addArray()::add);
        }
        Json.write(dir.resolve("plan.json"), plan);
    }

    static void runPlan(DecoderClassifier model, List<int[]> seqs, List<List<Integer>> batches,
            float[][] logits) {
        for (List<Integer> batch : batches) {
            try (NDManager scope = Engines.newManager()) {
                float[] l = model.logits(scope, batch.stream().map(seqs::get).toList(), false).toFloatArray();
                if (logits != null) {
                    for (int i = 0; i < batch.size(); i++) {
                        logits[batch.get(i)] = Arrays.copyOfRange(l, i * 3, i * 3 + 3);
                    }
                }
            }
        }
    }

    private void loadBenchmark(PrintWriter out) throws IOException {
        long perLayer = 2L * hidden * heads * headDim + 2L * hidden * kvHeads * headDim + 3L * hidden * intermediate;
        int n = (int) Math.max(1, Math.round((loadGb * 1e9 / 2 - (double) vocab * hidden) / perLayer));
        DecoderConfig config = config(n);
        Path bf16 = dir.resolve("load-bf16");
        Path f32 = dir.resolve("load-f32");
        try {
            long t0 = System.nanoTime();
            TinyCheckpoints.write(bf16, config, DType.BF16, 4, 1);
            TinyCheckpoints.write(f32, config, DType.F32, 4, 1);
            out.printf(Locale.ROOT, "generated %d layers x hidden %d: bf16 %s, f32 %s in %.1f s%n", n, hidden,
                    size(bf16), size(f32), (System.nanoTime() - t0) / 1e9);
            for (Path ckpt : List.of(bf16, f32)) {
                for (int r = 0; r < 2; r++) {
                    System.gc();
                    long heapBefore = usedHeap();
                    long rssBefore = rss();
                    long t1 = System.nanoTime();
                    try (DecoderClassifier m = DecoderClassifier.load(ckpt, DecoderClassifier.Options.defaults()
                            .placement(Placement.single(Device.cpu())).dtype(DataType.FLOAT32).log(s -> { }))) {
                        double secs = (System.nanoTime() - t1) / 1e9;
                        out.printf(Locale.ROOT, "load %-9s -> f32 CPU: %.2f s (%s/s); Java heap +%s, process RSS +%s%n",
                                ckpt.getFileName(), secs, gb(size(ckpt) / secs), gb(usedHeap() - heapBefore),
                                gb(rss() - rssBefore));
                    }
                }
            }
        } finally {
            Folders.deleteTree(bf16);
            Folders.deleteTree(f32);
        }
    }

    /** CPU time of the whole process, PyTorch's native threads included. */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** Resident set size of this process (Linux), 0 elsewhere. */
    static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static String gb(double bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
