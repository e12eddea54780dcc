package arenakit.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import arenakit.infer.InferenceConfig;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.SequenceClassifier;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.HfCheckpoint;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.PeftAdapter;
import arenakit.model.tensor.TorchScalar;
import arenakit.train.TrainDevices;
import arenakit.model.quant.Quantization;
import arenakit.util.Engines;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code parity DIR}: checks the Java classifier against reference values computed by transformers (and PEFT) for a
 * fixture directory laid out like ../shared/fixtures/gemma2-tiny: config.json (any supported model_type: gemma2,
 * llama, qwen2), safetensors (single or sharded), {@code expected.json} (cases with input_ids, logits, optionally
 * logits_with_adapter), optionally {@code adapter/} and {@code expected_train_step.json} +
 * {@code adapter/expected_grads.safetensors}.
 *
 * <p>Prints the max absolute logit difference per case, alone and batched (packed and right-padded), without and
 * with the adapter (merged and kept separate), and the train step's loss and gradient differences in both layouts. Exit code 0 when every difference is
 * within the tolerance, 1 otherwise (or on bad input), 2 for usage errors. With {@code --quantize int8} the model
 * loads with int8 projections and the differences are held to the documented int8 bound instead.
 */
@Command(name = "parity", mixinStandardHelpOptions = true,
        description = "Compare the Java classifier (Gemma-2, Llama or Qwen2) with transformers' reference outputs for a "
                + "fixture directory.")
public final class ParityCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "Fixture directory (config.json, safetensors, "
            + "expected.json, optional adapter/ and expected_train_step.json).")
    Path dir;

    @Option(names = "--tolerance", defaultValue = "1e-4",
            description = "Largest allowed |difference| of a logit (default: ${DEFAULT-VALUE}, fp32); gradients are "
                    + "compared relative to each tensor's max |grad|.")
    double tolerance;

    @Option(names = "--gradient-checkpointing",
            description = "run the train-step check with activation checkpointing (layers recomputed in the backward)")
    boolean checkpointing;

    @Option(names = "--devices", split = ",", paramLabel = "DEVICE",
            description = "devices of the train-step check: cpu (default), cpu,cpu, gpu0,gpu1, ...")
    List<String> devices = List.of("cpu");

    @Option(names = "--mode", paramLabel = "MODE",
            description = "train-step check on several devices: pipeline (layers split over them) or data_parallel "
                    + "(a replica per device, one case per micro-batch; default: single for one device, pipeline "
                    + "for more)")
    String mode;
    @Option(names = "--export", paramLabel = "FILE",
            description = "instead of comparing: write this project's logits for DIR's inputs (expected.json's, else "
                    + "fixed random ids), without and with each --adapter, as JSON for "
                    + "environment/interop/check_transformers_peft.py")
    Path export;

    @Option(names = "--adapter", paramLabel = "ADAPTER",
            description = "with --export: a PEFT adapter folder to apply to DIR (repeat; default: DIR/adapter if any)")
    List<Path> adapters;

    @Option(names = "--quantize", defaultValue = "none", paramLabel = "int8|none",
            description = "Load with the projections quantized (int8) and check against the int8 bound instead: "
                    + "every |logit diff| <= --int8-bound x the largest |reference logit| of its column, the train "
                    + "step's loss within that share of the reference loss and each gradient within twice it of its "
                    + "max |grad| (default: ${DEFAULT-VALUE}).")
    String quantize;

    @Option(names = "--int8-bound", defaultValue = "0.1",
            description = "The documented int8 bound (docs/model.md, \"Int8 weights\"; default: ${DEFAULT-VALUE}).")
    double int8Bound;

    private Quantization quant = Quantization.NONE;

    @Spec
    CommandLine.Model.CommandSpec spec;

    private record Case(int[] ids, float[] logits, float[] withAdapter) {}

    public static void main(String... args) {
        System.exit(Cli.execute(new ParityCommand(), args));
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String how = mode != null ? mode : devices.size() == 1 ? InferenceConfig.SINGLE : InferenceConfig.PIPELINE;
        if (!List.of(InferenceConfig.SINGLE, InferenceConfig.PIPELINE, InferenceConfig.DATA_PARALLEL).contains(how)
                || (how.equals(InferenceConfig.SINGLE) != (devices.size() == 1))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--mode must be single (one device), "
                    + "pipeline or data_parallel (two or more --devices), got " + how + " with " + devices);
        }
        mode = how;
        devices.forEach(Placement::device);
        if (export != null) {
            List<Path> list = adapters != null ? adapters
                    : Files.isRegularFile(dir.resolve("adapter").resolve(PeftAdapter.CONFIG_FILE))
                    ? List.of(dir.resolve("adapter")) : List.of();
            LogitsExport.write(dir, list, export, line -> {
                out.println(line);
                out.flush();
            });
            return 0;
        }
        List<Case> cases = readCases(dir.resolve("expected.json"));
        Path adapter = dir.resolve("adapter");
        boolean hasAdapter = Files.isRegularFile(adapter.resolve(PeftAdapter.CONFIG_FILE))
                && cases.stream().allMatch(c -> c.withAdapter() != null);
        DecoderConfig family = Families.read(dir.resolve(HfCheckpoint.CONFIG));
        try {
            quant = Quantization.parse(quantize, "--quantize");
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (quant == Quantization.NONE) {
            out.printf(Locale.ROOT, "parity of %s (%s, model_type %s): %d cases, tolerance %.1e (fp32, CPU)%n", dir,
                    family.familyName(), family.modelType(), cases.size(), tolerance);
        } else {
            out.printf(Locale.ROOT, "parity of %s (%s, model_type %s): %d cases, projections %s (fp32 compute, CPU);"
                    + " bound: |logit diff| <= %.0f%% of the largest |reference logit|%n", dir, family.familyName(),
                    family.modelType(), cases.size(), quant.configName(), 100 * int8Bound);
        }
        out.printf(Locale.ROOT, "%-6s %7s %14s %16s %18s%n", "case", "tokens", "base", "adapter merged",
                "adapter separate");
        List<String> columns = new ArrayList<>(List.of("base"));
        if (hasAdapter) {
            columns.add("merged");
            columns.add("separate");
        }
        // rows: each case alone, then all cases batched packed and batched right-padded
        double[][] diffs = new double[cases.size() + 2][columns.size()];
        for (int col = 0; col < columns.size(); col++) {
            for (boolean packed : new boolean[] {true, false}) {
                DecoderClassifier.Options o = options().packed(packed);
                if (!columns.get(col).equals("base")) {
                    // the fixtures' adapters carry no head: their reference applies them over the checkpoint's score
                    o.adapter(adapter, columns.get(col).equals("merged")).baseHead(true);
                }
                try (DecoderClassifier model = DecoderClassifier.load(dir, o); NDManager scope = Engines.newManager()) {
                    for (int i = 0; packed && i < cases.size(); i++) {
                        float[] got = model.logits(scope, List.of(cases.get(i).ids()), false).toFloatArray();
                        diffs[i][col] = maxDiff(expected(cases.get(i), col), got, 0);
                    }
                    int row = cases.size() + (packed ? 0 : 1);
                    float[] batched = model.logits(scope, cases.stream().map(Case::ids).toList(), false)
                            .toFloatArray();
                    for (int i = 0; i < cases.size(); i++) {
                        diffs[row][col] = Math.max(diffs[row][col],
                                maxDiff(expected(cases.get(i), col), batched, i * model.numLabels()));
                    }
                }
            }
        }
        boolean ok = true;
        int total = cases.stream().mapToInt(c -> c.ids().length).sum();
        for (int i = 0; i < diffs.length; i++) {
            String name = i < cases.size() ? Integer.toString(i) : i == cases.size() ? "packed" : "padded";
            int tokens = i < cases.size() ? cases.get(i).ids().length
                    : i == cases.size() ? total : cases.size() * cases.stream().mapToInt(c -> c.ids().length).max()
                            .orElse(0);
            out.printf(Locale.ROOT, "%-6s %7d %14s %16s %18s%n", name, tokens, cell(diffs[i], 0),
                    hasAdapter ? cell(diffs[i], 1) : "-", hasAdapter ? cell(diffs[i], 2) : "-");
            for (int col = 0; col < columns.size(); col++) {
                ok &= diffs[i][col] <= limit(cases, col);
            }
        }
        if (quant != Quantization.NONE) {
            out.printf(Locale.ROOT, "%-6s %7s %14s %16s %18s%n", "bound", "", cell(new double[] {limit(cases, 0)}, 0),
                    hasAdapter ? cell(new double[] {limit(cases, 1)}, 0) : "-",
                    hasAdapter ? cell(new double[] {limit(cases, 2)}, 0) : "-");
        }
        Path step = dir.resolve("expected_train_step.json");
        Path grads = adapter.resolve("expected_grads.safetensors");
        if (hasAdapter && Files.isRegularFile(step) && Files.isRegularFile(grads)) {
            for (boolean packed : new boolean[] {true, false}) {
                ok &= trainStep(out, cases, Json.MAPPER.readTree(step.toFile()), SafetensorsFile.open(grads), packed);
            }
        }
        out.println(ok ? "PARITY OK" : "PARITY FAILED: a difference exceeds the "
                + (quant == Quantization.NONE ? "tolerance" : quant.configName() + " bound"));
        out.flush();
        return ok ? 0 : 1;
    }

    private DecoderClassifier.Options options() {
        return DecoderClassifier.Options.defaults().placement(Placement.single(Device.cpu())).dtype(DataType.FLOAT32)
                .quantize(quant).log(s -> spec.commandLine().getOut().println(s));
    }

    /** The largest allowed difference in a column: the tolerance, or the int8 bound times its largest |logit|. */
    private double limit(List<Case> cases, int column) {
        if (quant == Quantization.NONE) {
            return tolerance;
        }
        double max = 0;
        for (Case c : cases) {
            for (float v : expected(c, column)) {
                max = Math.max(max, Math.abs(v));
            }
        }
        return int8Bound * max;
    }

    /**
     * One LoRA training step (adapter separate, no dropout) on the requested devices, with or without activation
     * checkpointing: loss and every gradient against PEFT's.
     */
    private boolean trainStep(PrintWriter out, List<Case> cases, JsonNode step, SafetensorsFile grads,
            boolean packed) throws IOException {
        JsonNode labelsNode = step.get("labels");
        long[] labels = new long[labelsNode.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = labelsNode.get(i).asLong();
        }
        List<Device> on = devices.stream().map(Placement::device).toList();
        List<DecoderClassifier> models = new ArrayList<>();
        try (NDManager scope = Engines.newManager()) {
            if (mode.equals(InferenceConfig.DATA_PARALLEL)) {
                for (Device d : on) {
                    models.add(load(packed, Placement.single(d)));
                }
            } else {
                models.add(load(packed, on.size() == 1 ? Placement.single(on.get(0))
                        : Placement.split(on.toArray(new Device[0]))));
            }
            // one micro-batch of every case; data parallel: a micro-batch per case, spread over the replicas
            List<int[]> ids = cases.stream().map(Case::ids).toList();
            List<SequenceClassifier.TrainBatch> work = new ArrayList<>();
            List<List<Integer>> groups = new ArrayList<>();
            for (int i = 0; i < cases.size(); i++) {
                if (groups.isEmpty() || mode.equals(InferenceConfig.DATA_PARALLEL)) {
                    groups.add(new ArrayList<>());
                }
                groups.get(groups.size() - 1).add(i);
            }
            for (List<Integer> g : groups) {
                work.add(new SequenceClassifier.TrainBatch(g.stream().map(ids::get).toList(), logits -> {
                    NDManager m = logits.getManager();
                    long[] rows = new long[g.size()];
                    long[] want = new long[g.size()];
                    for (int k = 0; k < rows.length; k++) {
                        rows[k] = k;
                        want[k] = labels[g.get(k)];
                    }
                    NDArray picked = logits.logSoftmax(-1).get(new NDIndex("{}, {}", m.create(rows).duplicate(),
                            m.create(want).duplicate()));
                    return picked.sum().neg().div(TorchScalar.of(picked, labels.length));
                }, 1, 0));
            }
            List<SequenceClassifier> replicas = new ArrayList<>(models);
            float loss;
            try (TrainDevices run = models.size() > 1 ? TrainDevices.dataParallel(replicas, devices)
                    : TrainDevices.single(models.get(0))) {
                loss = (float) run.backward(work);
            }
            Map<String, NDArray> trainable = models.get(0).trainable();
            double lossDiff = Math.abs(loss - step.get("loss").asDouble());
            double worst = 0;
            String worstName = "";
            for (String key : grads.entries().keySet()) {
                NDArray ours = trainable.get(key.startsWith(PeftAdapter.PREFIX) ? key : PeftAdapter.PREFIX + key);
                if (ours == null) {
                    throw new IOException(grads.path() + ": " + key + " is not a trainable tensor of the model");
                }
                float[] want = grads.load(key, scope, DataType.FLOAT32, true).toFloatArray();
                float[] got = ours.getGradient().toFloatArray();
                double scale = 0;
                for (float w : want) {
                    scale = Math.max(scale, Math.abs(w));
                }
                double rel = maxDiff(want, got, 0) / Math.max(scale, Float.MIN_NORMAL);
                if (rel >= worst) {
                    worst = rel;
                    worstName = key;
                }
            }
            out.printf(Locale.ROOT, "train step (labels %s), %s, %s%s: loss %.7f, |loss diff| %.2e; %d gradients, "
                    + "worst relative diff %.2e (%s)%n", labelsNode, packed ? "packed" : "padded", describe(),
                    checkpointing ? ", gradient checkpointing" : "", loss, lossDiff, grads.entries().size(), worst,
                    worstName);
            if (quant != Quantization.NONE) {
                return lossDiff <= int8Bound * Math.abs(step.get("loss").asDouble()) && worst <= 2 * int8Bound;
            }
            return lossDiff <= tolerance && worst <= tolerance;
        } finally {
            models.forEach(DecoderClassifier::close);
        }
    }

    private DecoderClassifier load(boolean packed, Placement placement) throws IOException {
        return DecoderClassifier.load(dir, options().placement(placement).packed(packed)
                .adapter(dir.resolve("adapter"), false).baseHead(true).gradientCheckpointing(checkpointing));
    }

    private String describe() {
        return switch (mode) {
            case InferenceConfig.DATA_PARALLEL -> "data parallel on " + devices + " (a micro-batch per case)";
            case InferenceConfig.PIPELINE -> "layers split over " + devices;
            default -> "one device (" + devices.get(0) + ")";
        };
    }

    private static float[] expected(Case c, int column) {
        return column == 0 ? c.logits() : c.withAdapter();
    }

    private static String cell(double[] row, int col) {
        return String.format(Locale.ROOT, "%.2e", row[col]);
    }

    private static double maxDiff(float[] want, float[] got, int offset) {
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i] - got[offset + i]));
        }
        return max;
    }

    private static List<Case> readCases(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " not found");
        }
        JsonNode root = Json.MAPPER.readTree(file.toFile());
        List<Case> out = new ArrayList<>();
        int i = 0;
        for (JsonNode c : root.path("cases")) {
            if (!c.has("input_ids") || !c.has("logits")) {
                throw new IOException(file + ": case " + i + " needs input_ids and logits");
            }
            out.add(new Case(ints(c.get("input_ids")), floats(c.get("logits")),
                    c.has("logits_with_adapter") ? floats(c.get("logits_with_adapter")) : null));
            i++;
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no cases");
        }
        return out;
    }

    private static int[] ints(JsonNode n) {
        int[] a = new int[n.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = n.get(i).asInt();
        }
        return a;
    }

    private static float[] floats(JsonNode n) {
        float[] a = new float[n.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) n.get(i).asDouble();
        }
        return a;
    }
}
