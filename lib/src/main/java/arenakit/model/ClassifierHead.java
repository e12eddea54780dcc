package arenakit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The classification head on the last token's final-normed hidden state, always computed in float32.
 *
 * <p>Each kind mirrors a PyTorch module named {@code score} (so its parameters have the same state-dict keys, and
 * PEFT saves them as {@code base_model.model.score.<key>} through {@code modules_to_save}):
 * <ul>
 *   <li>{@link Kind#SCORE}: {@code nn.Linear(h, n, bias=False)}, transformers' default (key {@code weight}).</li>
 *   <li>{@link Kind#DROPOUT_MLP} (2nd place): {@code nn.Sequential(nn.Dropout(0.1), nn.Linear(h, h//2),
 *       nn.Dropout(0.1), nn.GELU(), nn.Linear(h//2, n))} (keys {@code 1.*}, {@code 4.*}).</li>
 *   <li>{@link Kind#MLP3} (silver team's 3-layer MLP; their write-up gives no sizes, these are ours):
 *       {@code nn.Sequential(nn.Linear(h, h//2), nn.GELU(), nn.Linear(h//2, h//4), nn.GELU(), nn.Linear(h//4, n))}
 *       (keys {@code 0.*}, {@code 2.*}, {@code 4.*}).</li>
 * </ul>
 * GELU here is nn.GELU()'s exact erf form. Fresh heads are initialised like their PyTorch modules: SCORE as
 * transformers does (normal, std = initializer_range), the MLPs as {@code nn.Linear} does (uniform ±1/sqrt(fan_in)).
 */
public final class ClassifierHead {

    /** The head layouts. */
    public enum Kind { SCORE, DROPOUT_MLP, MLP3 }

    private sealed interface Step permits DropoutStep, LinearStep, GeluStep {}

    private record DropoutStep(float rate) implements Step {}

    private record LinearStep(String prefix, int in, int out, boolean bias) implements Step {}

    private record GeluStep() implements Step {}

    private final Kind kind;
    private final List<Step> steps;
    private final Map<String, NDArray> params;

    private ClassifierHead(Kind kind, List<Step> steps, Map<String, NDArray> params) {
        this.kind = kind;
        this.steps = steps;
        this.params = params;
    }

    private static List<Step> layout(Kind kind, int h, int n) {
        return switch (kind) {
            case SCORE -> List.of(new LinearStep("", h, n, false));
            case DROPOUT_MLP -> List.of(new DropoutStep(0.1f), new LinearStep("1.", h, h / 2, true),
                    new DropoutStep(0.1f), new GeluStep(), new LinearStep("4.", h / 2, n, true));
            case MLP3 -> List.of(new LinearStep("0.", h, h / 2, true), new GeluStep(),
                    new LinearStep("2.", h / 2, h / 4, true), new GeluStep(), new LinearStep("4.", h / 4, n, true));
        };
    }

    /** Parameter names (relative to {@code score.}) and shapes of a head kind. */
    public static Map<String, long[]> shapes(Kind kind, int hidden, int numLabels) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (Step s : layout(kind, hidden, numLabels)) {
            if (s instanceof LinearStep l) {
                out.put(l.prefix() + "weight", new long[] {l.out(), l.in()});
                if (l.bias()) {
                    out.put(l.prefix() + "bias", new long[] {l.out()});
                }
            }
        }
        return out;
    }

    /** The kind whose parameter names are exactly {@code keys}, if any. */
    public static Optional<Kind> detect(java.util.Set<String> keys, int hidden, int numLabels) {
        for (Kind k : Kind.values()) {
            if (!keys.isEmpty() && shapes(k, hidden, numLabels).keySet().equals(keys)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    /** A head over existing parameters (float32, owned, on the head's device); shapes are checked. */
    public static ClassifierHead of(Kind kind, int hidden, int numLabels, Map<String, NDArray> params) {
        Map<String, long[]> expected = shapes(kind, hidden, numLabels);
        if (!expected.keySet().equals(params.keySet())) {
            throw new IllegalArgumentException("head " + kind + " needs parameters " + expected.keySet()
                    + ", got " + params.keySet());
        }
        expected.forEach((name, shape) -> {
            if (!params.get(name).getShape().equals(new Shape(shape))) {
                throw new IllegalArgumentException("head parameter score." + name + " has shape "
                        + params.get(name).getShape() + ", expected " + new Shape(shape));
            }
        });
        return new ClassifierHead(kind, layout(kind, hidden, numLabels), new LinkedHashMap<>(params));
    }

    /** A freshly initialised head (see the class comment for the init of each kind). */
    public static ClassifierHead fresh(Kind kind, int hidden, int numLabels, double initializerRange, Random random,
            NDManager manager) {
        Map<String, NDArray> params = new LinkedHashMap<>();
        for (Step s : layout(kind, hidden, numLabels)) {
            if (s instanceof LinearStep l) {
                float[] w = new float[l.out() * l.in()];
                double bound = 1.0 / Math.sqrt(l.in());
                for (int i = 0; i < w.length; i++) {
                    w[i] = kind == Kind.SCORE ? (float) (random.nextGaussian() * initializerRange)
                            : (float) ((random.nextDouble() * 2 - 1) * bound);
                }
                params.put(l.prefix() + "weight", manager.create(w, new Shape(l.out(), l.in())));
                if (l.bias()) {
                    float[] b = new float[l.out()];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                    }
                    params.put(l.prefix() + "bias", manager.create(b, new Shape(l.out())));
                }
            }
        }
        return new ClassifierHead(kind, layout(kind, hidden, numLabels), params);
    }

    public Kind kind() {
        return kind;
    }

    /** Parameters by their key relative to {@code score.} ({@code weight}, {@code 1.bias}, ...). */
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(params);
    }

    /** Logits {@code [B, n]} from float32 features {@code [B, h]}; {@code training} turns dropout on. */
    public NDArray forward(NDArray x, boolean training) {
        NDArray out = x;
        for (Step s : steps) {
            if (s instanceof DropoutStep d) {
                if (training) {
                    out = arenakit.model.tensor.Dropouts.apply(out, d.rate());
                }
            } else if (s instanceof LinearStep l) {
                NDArray bias = l.bias() ? params.get(l.prefix() + "bias") : null;
                out = Linear.linear(out, params.get(l.prefix() + "weight"), bias).singletonOrThrow();
            } else {
                out = out.getNDArrayInternal().gelu();
            }
        }
        return out;
    }

    /** Closes the parameters. */
    void close() {
        new ArrayList<>(params.values()).forEach(NDArray::close);
    }
}
