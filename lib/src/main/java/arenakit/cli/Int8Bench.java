package arenakit.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.TinyCheckpoints;
import arenakit.model.family.DecoderConfig;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.lora.LoraLinear;
import arenakit.model.quant.Quantization;
import arenakit.util.Engines;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
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

/**
 * {@code bench-model --quantize int8}: int8 weights against float32 and float16 on the CPU, in one run.
 *
 * <ol>
 *   <li>Parity: max |logit diff| of int8 against float32 on the shared fixtures (and against transformers' own
 *   values) and on the random checkpoint over the benchmark's sequences.</li>
 *   <li>Memory: each variant loaded alone from the bf16 file, in a child JVM of its own (so nothing freed by an
 *   earlier load is reused); the process RSS it adds (weights in PyTorch-owned memory: bf16 is converted, never
 *   mapped) and the peak RSS while loading (VmHWM, reset before the load), next to the memory plan's bytes.</li>
 *   <li>Speed: the four variants loaded together and run over the same batches in turn, repeat after repeat, so
 *   the machine's load falls on each alike; median tokens/s.</li>
 * </ol>
 * Writes {@code int8_result.json} (with the int8 logits, which {@code decoder_peer.py bench --quantize int8} checks).
 */
final class Int8Bench {
    private record Variant(String name, DataType dtype, Quantization quant) {}

    private static final List<Variant> VARIANTS = List.of(new Variant("float32", DataType.FLOAT32, Quantization.NONE),
            new Variant("float16", DataType.FLOAT16, Quantization.NONE),
            new Variant("int8 -> float32", DataType.FLOAT32, Quantization.INT8),
            new Variant("int8 -> float16", DataType.FLOAT16, Quantization.INT8));

    private Int8Bench() {}

    static void run(ModelBenchCommand c, PrintWriter out) throws IOException {
        DecoderConfig config = c.config(c.layers);
        Path model = TinyCheckpoints.write(c.dir.resolve("model"), config, DType.BF16, 1, 1);
        List<int[]> seqs = c.sequences(config);
        List<List<Integer>> batches = c.batches(seqs);
        c.writePlan(seqs, batches);
        long realTokens = seqs.stream().mapToLong(s -> s.length).sum();
        ObjectNode result = Json.MAPPER.createObjectNode();
        result.put("threads", c.threads);
        out.printf(Locale.ROOT, "int8 vs float32 / float16, %d PyTorch threads; random %s: %d layers, hidden %d, "
                + "intermediate %d, vocab %d (bf16 file); %d sequences (%d-%d tokens, %d real tokens) in %d batches of "
                + "<= %d padded tokens%n", c.threads, config.familyName(), c.layers, c.hidden, c.intermediate, c.vocab,
                seqs.size(), c.minLength, c.maxLength, realTokens, batches.size(), c.batchTokens);

        out.println("1. max |logit diff| of int8 (float32 compute) against float32, and against transformers' values:");
        ObjectNode parity = result.putObject("parity");
        for (String name : List.of("gemma2-tiny", "llama3-tiny", "qwen2-tiny")) {
            Path dir = c.fixtures.resolve(name);
            if (!Files.isRegularFile(dir.resolve("expected.json"))) {
                out.printf(Locale.ROOT, "  %-12s skipped: %s not found%n", name, dir);
                continue;
            }
            List<int[]> ids = new ArrayList<>();
            List<float[]> reference = new ArrayList<>();
            for (JsonNode cs : Json.MAPPER.readTree(dir.resolve("expected.json").toFile()).get("cases")) {
                ids.add(Json.MAPPER.convertValue(cs.get("input_ids"), int[].class));
                reference.add(Json.MAPPER.convertValue(cs.get("logits"), float[].class));
            }
            List<List<Integer>> one = java.util.stream.IntStream.range(0, ids.size()).mapToObj(List::of).toList();
            float[] want = logits(dir, options(VARIANTS.get(0)), ids, one);
            float[] got = logits(dir, options(VARIANTS.get(2)), ids, one);
            float[] hf = flat(reference);
            parity.set(name, line(out, name, want, got, maxDiff(hf, got)));
        }
        float[] f32 = logits(model, options(VARIANTS.get(0)), seqs, batches);
        parity.set("random", line(out, "random model", f32, logits(model, options(VARIANTS.get(2)), seqs, batches),
                -1));
        float[] f16 = logits(model, options(VARIANTS.get(1)), seqs, batches);
        out.printf(Locale.ROOT, "  (float16 against float32 on the random model: %.2e; int8 -> float16: %.2e)%n",
                maxDiff(f32, f16), maxDiff(f32, logits(model, options(VARIANTS.get(3)), seqs, batches)));

        out.println("2. weight memory, each variant loaded alone in a fresh JVM (heap pre-touched and glibc's mmap "
                + "threshold fixed, so RSS growth is live native memory): RSS it adds, peak RSS while loading (VmHWM), "
                + "the memory plan's bytes:");
        ObjectNode memory = result.putObject("memory");
        long fp16Plan = 0;
        for (int i = 0; i < VARIANTS.size(); i++) {
            JsonNode r = probeInChild(c, i);
            memory.set(VARIANTS.get(i).name(), r);
            long plan = r.get("plan_bytes").asLong();
            if (i == 1) {
                fp16Plan = plan;
            }
            out.printf(Locale.ROOT, "  %-16s RSS +%s, peak +%s; plan %s (projections %s)%s%n", VARIANTS.get(i).name(),
                    mib(r.get("rss_bytes").asLong()), mib(r.get("peak_bytes").asLong()), mib(plan),
                    mib(r.get("projection_bytes").asLong()), i >= 2 ? String.format(Locale.ROOT, "; %.2fx float16 "
                            + "measured, %.2fx planned", r.get("rss_bytes").asDouble()
                            / memory.get("float16").get("rss_bytes").asDouble(), plan / (double) fp16Plan) : "");
        }

        out.printf(Locale.ROOT, "3. tokens/s, the four loaded together, passes interleaved (%d repeats after a "
                + "warm-up pass each):%n", c.repeats);
        List<DecoderClassifier> models = new ArrayList<>();
        ObjectNode speed = result.putObject("speed");
        try {
            for (Variant v : VARIANTS) {
                models.add(DecoderClassifier.load(model, options(v)));
            }
            double[][] seconds = new double[VARIANTS.size()][c.repeats];
            float[][][] kept = new float[VARIANTS.size()][seqs.size()][];
            for (DecoderClassifier m : models) {
                ModelBenchCommand.runPlan(m, seqs, batches, null);
            }
            for (int r = 0; r < c.repeats; r++) {
                for (int i = 0; i < models.size(); i++) {
                    long t0 = System.nanoTime();
                    ModelBenchCommand.runPlan(models.get(i), seqs, batches, kept[i]);
                    seconds[i][r] = (System.nanoTime() - t0) / 1e9;
                }
            }
            double fp32 = ModelBenchCommand.median(seconds[0]);
            for (int i = 0; i < VARIANTS.size(); i++) {
                double median = ModelBenchCommand.median(seconds[i]);
                ObjectNode r = speed.putObject(VARIANTS.get(i).name());
                r.put("median_seconds", median);
                r.put("tokens_per_second", realTokens / median);
                out.printf(Locale.ROOT, "  %-16s passes %s s; median %.3f s = %,.0f tokens/s (%.2fx float32)%n",
                        VARIANTS.get(i).name(), Arrays.toString(Arrays.stream(seconds[i]).mapToObj(s ->
                                String.format(Locale.ROOT, "%.2f", s)).toArray()), median, realTokens / median,
                        fp32 / median);
            }
            ArrayNode all = result.putArray("int8_logits");
            for (float[] l : kept[2]) {
                ArrayNode row = all.addArray();
                for (float x : l) {
                    row.add(x);
                }
            }
        } finally {
            models.forEach(DecoderClassifier::close);
        }
        Json.write(c.dir.resolve("int8_result.json"), result);
        out.printf(Locale.ROOT, "  peer: python docs/bench/decoder_peer.py bench %s --threads %d --quantize int8%n",
                c.dir, c.threads);
    }

    /** Runs {@link #memoryProbe} for variant {@code i} in a child JVM and reads its result line. */
    private static JsonNode probeInChild(ModelBenchCommand c, int i) throws IOException {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = List.of(javaBin, "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch",
                "-Dai.djl.pytorch.num_threads=" + c.threads, "-cp", System.getProperty("java.class.path"),
                ModelBenchCommand.class.getName(), "--dir", c.dir.toString(), "--threads", Integer.toString(c.threads),
                "--memory-probe", Integer.toString(i));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
        // glibc's mmap threshold fixed (not raised by the first large free): every freed temporary of a projection
        // goes back to the OS, so the RSS is what is alive, not what the allocator keeps for later
        pb.environment().put("MALLOC_MMAP_THRESHOLD_", "131072");
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("memory probe of " + VARIANTS.get(i).name() + " failed: " + text);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        for (String line : text.split("\n")) {
            if (line.startsWith(PROBE)) {
                return Json.MAPPER.readTree(line.substring(PROBE.length()));
            }
        }
        throw new IOException("memory probe of " + VARIANTS.get(i).name() + " printed no result: " + text);
    }

    private static final String PROBE = "MEMORY ";

    /** In a fresh JVM: the engine started, RSS and its peak reset, variant {@code i} loaded; one result line. */
    static void memoryProbe(ModelBenchCommand c, int i, PrintWriter out) throws IOException {
        Path model = c.dir.resolve("model");
        try (NDManager warm = Engines.newManager()) {
            warm.zeros(new ai.djl.ndarray.types.Shape(1)).close(); // the engine and its libraries, before the baseline
        }
        System.gc();
        long before = ModelBenchCommand.rss();
        boolean peakReset = resetPeak();
        ObjectNode r = Json.MAPPER.createObjectNode();
        try (DecoderClassifier m = DecoderClassifier.load(model, options(VARIANTS.get(i)))) {
            r.put("rss_bytes", ModelBenchCommand.rss() - before);
            r.put("peak_bytes", peakReset ? peakRss() - before : -1);
            r.put("plan_bytes", m.memoryPlan(1024, 1024).totalWeightBytes());
            long projections = 0;
            for (LoraLinear p : m.decoder().projections()) {
                projections += p.base().bytes();
            }
            r.put("projection_bytes", projections);
        }
        out.println(PROBE + r); // one line
    }

    private static DecoderClassifier.Options options(Variant v) {
        return DecoderClassifier.Options.defaults().placement(Placement.single(Device.cpu())).dtype(v.dtype())
                .quantize(v.quant()).log(s -> { });
    }

    private static ObjectNode line(PrintWriter out, String name, float[] want, float[] got, double vsHf) {
        double diff = maxDiff(want, got);
        double max = 0;
        for (float w : want) {
            max = Math.max(max, Math.abs(w));
        }
        out.printf(Locale.ROOT, "  %-12s %.2e of max |logit| %.3f (%.1f%%)%s%n", name, diff, max, 100 * diff / max,
                vsHf < 0 ? "" : String.format(Locale.ROOT, "; against transformers %.2e", vsHf));
        ObjectNode r = Json.MAPPER.createObjectNode();
        r.put("max_logit_diff", diff);
        r.put("max_abs_logit", max);
        return r;
    }

    /** The logits of {@code seqs} run in {@code batches} (any batching gives the same logits), flat. */
    private static float[] logits(Path dir, DecoderClassifier.Options o, List<int[]> seqs,
            List<List<Integer>> batches) throws IOException {
        try (DecoderClassifier m = DecoderClassifier.load(dir, o)) {
            float[][] rows = new float[seqs.size()][];
            ModelBenchCommand.runPlan(m, seqs, batches, rows);
            return flat(Arrays.asList(rows));
        }
    }

    private static float[] flat(List<float[]> rows) {
        float[] out = new float[rows.size() * 3];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, out, i * 3, 3);
        }
        return out;
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    /** Resets the process's peak RSS (Linux: "5" into /proc/self/clear_refs); false where that is not possible. */
    private static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** VmHWM: the peak RSS since the last reset. */
    private static long peakRss() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmHWM:")) {
                    return Long.parseLong(l.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
