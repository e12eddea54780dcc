package arenakit.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.io.SafetensorsWriter;
import arenakit.util.Engines;
import arenakit.util.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Averages LoRA adapters of one base model (folds, seeds) into one adapter, the way 1st place averaged its folds and
 * the WSDM winner its seeds: per target module the weighted mean of the merged deltas
 * {@code D = sum_i w_i (alpha_i / r_i) B_i A_i} (weights normalised to sum 1; averaging A and B separately would
 * not average the models), factored back into a LoRA of rank R by truncated SVD ({@link LowRank}: exact when R is
 * at least the sum of the ranks), the heads ({@code modules_to_save}) averaged tensor by tensor. PiSSA adapters as
 * this project saves them (plain LoRA of rank 2r relative to the original weights) average like any other.
 *
 * <p>The result is a PEFT adapter ({@code lora_alpha = s R} with s the first adapter's scaling, so {@code alpha / r}
 * stays what the inputs trained with; no rsLoRA, no PiSSA init), written module by module so that only one module's
 * factors are in memory. Modules one adapter adapts and another does not count as zero delta in the latter.
 */
public final class AdapterAverage {
    private AdapterAverage() {}

    /** One adapter and its weight (> 0; weights are normalised to sum 1). */
    public record Input(PeftAdapter.Dir adapter, double weight) {}

    /**
     * One module of the result.
     *
     * @param inputRank the sum of the input ranks on it (K: the rank of D is at most this)
     * @param norm ||D||_F
     * @param relativeError ||D - D_R||_F / ||D||_F (0 when D = 0)
     */
    @com.fasterxml.jackson.databind.annotation.JsonNaming(
            com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ModuleError(String module, int inputRank, double norm, double relativeError) {}

    /**
     * What the average did: the rank and alpha of the result, per module and overall relative Frobenius errors
     * ({@code sqrt(sum ||D - D_R||^2 / sum ||D||^2)}), and whether the result is exact (no singular value dropped).
     */
    @com.fasterxml.jackson.databind.annotation.JsonNaming(
            com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Report(List<String> adapters, List<Double> weights, int rank, double alpha, boolean head,
            List<ModuleError> modules, double relativeError, double worstRelativeError, boolean exact) {

        /** A line for the log. */
        public String summary() {
            ModuleError worst = modules.stream().max((a, b) -> Double.compare(a.relativeError(), b.relativeError()))
                    .orElse(null);
            return String.format(java.util.Locale.ROOT, "averaged %d adapter(s) (weights %s) into rank %d (alpha %s) "
                    + "over %d modules%s: relative error %.2e overall, worst %.2e%s", adapters.size(),
                    weights.stream().map(Report::short4).toList(), rank, short4(alpha), modules.size(),
                    head ? ", heads averaged" : ", no heads", relativeError, worstRelativeError,
                    worst == null ? "" : " (" + worst.module() + ")") + (exact ? "; exact (the rank covers every "
                    + "averaged delta)" : "");
        }

        private static String short4(double v) {
            return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros()
                    .toPlainString();
        }
    }

    /**
     * Averages {@code inputs} into the adapter folder {@code out} at rank {@code rank} (null: the sum of the input
     * ranks, which is exact). {@code baseModel} goes into the config's {@code base_model_name_or_path}.
     */
    public static Report average(List<Input> inputs, Integer rank, Path out, String baseModel) throws IOException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("nothing to average: no adapters given");
        }
        double total = 0;
        for (Input in : inputs) {
            if (!(in.weight() > 0) || Double.isInfinite(in.weight())) {
                throw new IllegalArgumentException(in.adapter().dir() + ": weight must be > 0, got " + in.weight());
            }
            total += in.weight();
        }
        double[] w = new double[inputs.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = inputs.get(i).weight() / total;
        }
        Map<String, long[]> shapes = moduleShapes(inputs);
        int sumRanks = inputs.stream().mapToInt(in -> in.adapter().config().r()).sum();
        int r = rank == null ? sumRanks : rank;
        if (r <= 0) {
            throw new IllegalArgumentException("rank must be positive, got " + r);
        }
        LoraConfig first = inputs.get(0).adapter().config();
        double scaling = first.scaling();
        Targets t = targets(inputs, shapes.keySet());
        LoraConfig result = new LoraConfig(r, scaling * r, first.dropout(), t.targets(), t.regex(), t.layers(), false,
                LoraConfig.Init.DEFAULT, first.pissaIterations());
        Map<String, float[]> heads = heads(inputs, w);

        List<ModuleError> errors = new ArrayList<>();
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        double[] sums = new double[2];
        boolean[] exact = {true};
        try (NDManager manager = Engines.newManager();
                Progress progress = shapes.size() > 64 ? Progress.start("average " + shapes.size() + " modules",
                        shapes.size()) : null) {
            for (Map.Entry<String, long[]> m : shapes.entrySet()) {
                String module = m.getKey();
                long outF = m.getValue()[0];
                long inF = m.getValue()[1];
                LowRank.Factors[] cell = new LowRank.Factors[1];
                Runnable compute = () -> {
                    if (cell[0] != null) {
                        return;
                    }
                    LowRank.Factors f = factor(inputs, w, module, r, scaling, manager);
                    padForTraining(f, module);
                    double norm = f.norm();
                    double res = f.residual();
                    sums[0] += norm * norm;
                    sums[1] += res * res;
                    exact[0] &= f.kept() == f.singularValues().length;
                    int k = inputs.stream().mapToInt(in -> in.adapter().lora().containsKey(module)
                            ? in.adapter().config().r() : 0).sum();
                    errors.add(new ModuleError(module, k, norm, norm == 0 ? 0 : res / norm));
                    cell[0] = f;
                    if (progress != null) {
                        progress.step();
                    }
                };
                tensors.add(new SafetensorsWriter.Tensor(PeftAdapter.loraKey(module, 'A'), new long[] {r, inF},
                        (start, block) -> {
                            compute.run();
                            System.arraycopy(cell[0].a(), (int) start, block, 0, block.length);
                        }));
                tensors.add(new SafetensorsWriter.Tensor(PeftAdapter.loraKey(module, 'B'), new long[] {outF, r},
                        (start, block) -> {
                            compute.run();
                            System.arraycopy(cell[0].b(), (int) start, block, 0, block.length);
                            if (start + block.length >= outF * r) {
                                cell[0] = new LowRank.Factors(null, null, 0, 0, 0, 0, new double[0]); // free it
                            }
                        }));
            }
            Map<String, long[]> headShapes = headShapes(inputs);
            heads.forEach((k, v) -> tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.PREFIX + PeftAdapter.HEAD
                    + "." + k, headShapes.get(k), v)));
            PeftAdapter.write(out, result, heads.isEmpty() ? List.of() : List.of(PeftAdapter.HEAD), baseModel, tensors);
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        double overall = sums[0] == 0 ? 0 : Math.sqrt(sums[1] / sums[0]);
        double worst = errors.stream().mapToDouble(ModuleError::relativeError).max().orElse(0);
        List<Double> weights = Arrays.stream(w).boxed().toList();
        return new Report(inputs.stream().map(in -> in.adapter().dir().toString()).toList(), weights, r,
                result.alpha(), !heads.isEmpty(), List.copyOf(errors), overall, worst, exact[0]);
    }

    /** D = sum_i w_i s_i B_i A_i of one module, factored at rank r. */
    private static LowRank.Factors factor(List<Input> inputs, double[] w, String module, int r, double scaling,
            NDManager manager) {
        try (NDScope scope = new NDScope()) {
            List<NDArray> bs = new ArrayList<>();
            List<NDArray> as = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                PeftAdapter.Dir a = inputs.get(i).adapter();
                PeftAdapter.Pair pair = a.lora().get(module);
                if (pair == null) {
                    continue; // this adapter leaves the module alone: zero delta
                }
                NDArray b = a.weights().load(pair.b().name(), manager, DataType.FLOAT32, true);
                NDArray aa = a.weights().load(pair.a().name(), manager, DataType.FLOAT32, true);
                bs.add(b.toType(DataType.FLOAT64, false).mul(w[i] * a.config().scaling()));
                as.add(aa);
            }
            return LowRank.truncate(bs, as, r, scaling, manager);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Where D has fewer than r singular values, B' has zero columns and A' zero rows; A's get small random values
     * (PEFT's init: uniform +-1/sqrt(in)) so continued training can use them. The product does not change.
     */
    private static void padForTraining(LowRank.Factors f, String module) {
        if (f.kept() >= f.rank()) {
            return;
        }
        Random random = new Random(module.hashCode());
        double bound = 1 / Math.sqrt(f.in());
        for (int j = f.kept(); j < f.rank(); j++) {
            for (long i = 0; i < f.in(); i++) {
                f.a()[(int) (j * f.in() + i)] = (float) ((random.nextDouble() * 2 - 1) * bound);
            }
        }
    }

    /** Every adapted module with its [out, in]; adapters disagreeing on a module's shape are of different bases. */
    private static Map<String, long[]> moduleShapes(List<Input> inputs) {
        Map<String, long[]> shapes = new TreeMap<>(AdapterAverage::byLayer);
        Map<String, String> from = new TreeMap<>();
        for (Input in : inputs) {
            in.adapter().lora().forEach((module, pair) -> {
                long[] s = new long[] {pair.b().shape()[0], pair.a().shape()[1]};
                long[] seen = shapes.putIfAbsent(module, s);
                if (seen != null && !Arrays.equals(seen, s)) {
                    throw new IllegalArgumentException(module + " is [out, in] = " + Arrays.toString(s) + " in "
                            + in.adapter().dir() + " but " + Arrays.toString(seen) + " in " + from.get(module)
                            + ": the adapters are not of one base model");
                }
                from.putIfAbsent(module, in.adapter().dir().toString());
            });
        }
        if (shapes.isEmpty()) {
            throw new IllegalArgumentException("the adapters hold no LoRA tensors");
        }
        return shapes;
    }

    /** Checkpoint order: by layer, then by name. */
    private static int byLayer(String a, String b) {
        int c = Integer.compare(PeftAdapter.layerOf(a), PeftAdapter.layerOf(b));
        return c != 0 ? c : a.compareTo(b);
    }

    private record Targets(List<String> targets, String regex, List<Integer> layers) {}

    /**
     * The result's target_modules: the inputs' when they all agree; else a list of module names with
     * layers_to_transform when that names exactly the adapted modules; else a regular expression of their paths.
     */
    private static Targets targets(List<Input> inputs, Set<String> modules) {
        LoraConfig c0 = inputs.get(0).adapter().config();
        boolean same = inputs.stream().map(in -> in.adapter().config()).allMatch(c -> c.targets().equals(c0.targets())
                && java.util.Objects.equals(c.targetRegex(), c0.targetRegex())
                && java.util.Objects.equals(c.layers(), c0.layers()));
        if (same) {
            return new Targets(c0.targets(), c0.targetRegex(), c0.layers());
        }
        Set<String> names = new LinkedHashSet<>();
        Set<Integer> layers = new TreeSet<>();
        for (String m : modules) {
            names.add(m.substring(m.lastIndexOf('.') + 1));
            layers.add(PeftAdapter.layerOf(m));
        }
        LoraConfig byName = new LoraConfig(1, 1, 0, List.copyOf(names), null, List.copyOf(layers), false,
                LoraConfig.Init.DEFAULT, 16);
        boolean covered = true;
        Set<String> all = new TreeSet<>();
        for (Input in : inputs) {
            all.addAll(in.adapter().lora().keySet());
        }
        for (String m : all) {
            covered &= byName.targets(m, PeftAdapter.layerOf(m));
        }
        long product = (long) names.size() * layers.size();
        if (covered && product == modules.size() && !layers.contains(-1)) {
            return new Targets(List.copyOf(names), null, List.copyOf(layers));
        }
        StringBuilder regex = new StringBuilder();
        for (String m : modules) {
            regex.append(regex.length() == 0 ? "" : "|").append(Pattern.quote(m));
        }
        return new Targets(List.of(), regex.toString(), null);
    }

    /** The weighted mean of the heads, tensor by tensor; all adapters must have the same head, or none. */
    private static Map<String, float[]> heads(List<Input> inputs, double[] w) throws IOException {
        Input first = inputs.get(0);
        for (Input in : inputs) {
            if (!in.adapter().head().keySet().equals(first.adapter().head().keySet())) {
                throw new IllegalArgumentException(in.adapter().dir() + " has head tensors "
                        + in.adapter().head().keySet() + ", " + first.adapter().dir() + " has "
                        + first.adapter().head().keySet() + ": heads can be averaged only when every adapter has the "
                        + "same one (or none)");
            }
        }
        Map<String, long[]> shapes = headShapes(inputs);
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager manager = Engines.newManager()) {
            for (String k : first.adapter().head().keySet()) {
                double[] sum = null;
                for (int i = 0; i < inputs.size(); i++) {
                    SafetensorsFile.Entry e = inputs.get(i).adapter().head().get(k);
                    float[] v = inputs.get(i).adapter().weights().load(e.name(), manager, DataType.FLOAT32, true)
                            .toFloatArray();
                    if (sum == null) {
                        sum = new double[v.length];
                    }
                    for (int j = 0; j < v.length; j++) {
                        sum[j] += w[i] * v[j];
                    }
                }
                float[] mean = new float[sum.length];
                for (int j = 0; j < mean.length; j++) {
                    mean[j] = (float) sum[j];
                }
                out.put(k, mean);
                if (shapes.get(k) == null) {
                    throw new IllegalStateException("no shape for head tensor " + k);
                }
            }
        }
        return out;
    }

    private static Map<String, long[]> headShapes(List<Input> inputs) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Input in : inputs) {
            in.adapter().head().forEach((k, e) -> {
                long[] seen = shapes.putIfAbsent(k, e.shape());
                if (seen != null && !Arrays.equals(seen, e.shape())) {
                    throw new IllegalArgumentException("head tensor score." + k + " is " + Arrays.toString(e.shape())
                            + " in " + in.adapter().dir() + " but " + Arrays.toString(seen) + " elsewhere");
                }
            });
        }
        return shapes;
    }
}
