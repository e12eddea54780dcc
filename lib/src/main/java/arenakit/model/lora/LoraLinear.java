package arenakit.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import arenakit.model.tensor.Casts;
import arenakit.model.tensor.Dropouts;
import arenakit.model.tensor.TorchScalar;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * An {@code nn.Linear} of the decoder ({@code q_proj} ... {@code down_proj}), with or without a bias, and an
 * optional LoRA adapter, as PEFT's {@code lora.Linear}: {@code y = x W^T + b + scaling * (dropout(x) A^T) B^T}.
 *
 * <p>A and B stay float32 (they are optimizer parameters) and are cast to the activations' type at use, so an
 * fp16 GPU forward trains fp32 adapters. The base weight ({@link LinearWeight}) is never written in place (it may
 * be a read-only view of the checkpoint file): merging and PiSSA replace it with a new one. The bias belongs to the
 * base layer: LoRA leaves it alone (PEFT's {@code bias="none"}).
 */
public final class LoraLinear {
    private final String path;
    private final int layer;
    private LinearWeight base;
    private final NDArray bias;
    private NDArray loraA;
    private NDArray loraB;
    private double scaling;
    private float dropout;
    private NDArray pissaA0;
    private NDArray pissaB0;

    /**
     * @param path the module path in the checkpoint ({@code model.layers.3.self_attn.q_proj})
     * @param bias {@code [out]}, or null for a bias-free layer
     */
    public LoraLinear(String path, int layer, LinearWeight base, NDArray bias) {
        this.path = path;
        this.layer = layer;
        this.base = base;
        this.bias = bias;
        if (bias != null && (bias.getShape().dimension() != 1 || bias.getShape().get(0) != outFeatures())) {
            throw new IllegalArgumentException(path + ": bias " + bias.getShape() + " does not fit weight "
                    + base.shape());
        }
    }

    /** The module path in the HF checkpoint, e.g. {@code model.layers.3.self_attn.q_proj}. */
    public String path() {
        return path;
    }

    /** The module's own name, e.g. {@code q_proj} (what PEFT's {@code target_modules} lists). */
    public String name() {
        return path.substring(path.lastIndexOf('.') + 1);
    }

    public int layer() {
        return layer;
    }

    /** The base weight. */
    public LinearWeight base() {
        return base;
    }

    /**
     * W, {@code [out, in]}, as a dense array: the weight itself for a dense base, a new dequantized array for a
     * quantized one ({@link LinearWeight#quantized()}; the caller closes it).
     */
    public NDArray weight() {
        return base.dense();
    }

    /** b, {@code [out]}, or null. */
    public NDArray bias() {
        return bias;
    }

    /** The base layer's tensors by checkpoint name: {@code <path>.weight} and, with a bias, {@code <path>.bias}. */
    public Map<String, NDArray> tensors() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put(path + ".weight", weight());
        if (bias != null) {
            m.put(path + ".bias", bias);
        }
        return m;
    }

    public long outFeatures() {
        return base.shape().get(0);
    }

    public long inFeatures() {
        return base.shape().get(1);
    }

    public boolean hasAdapter() {
        return loraA != null;
    }

    /** LoRA A {@code [r, in]}, or null. */
    public NDArray loraA() {
        return loraA;
    }

    /** LoRA B {@code [out, r]}, or null. */
    public NDArray loraB() {
        return loraB;
    }

    public double scaling() {
        return scaling;
    }

    /**
     * The forward pass; {@code training} turns LoRA dropout on. What autograd does not keep is closed as soon as it
     * is used: the dropped-out input, the rank-r product and the adapter's output (added in place into the base
     * output, which no backward reads), so a layer holds one output per projection, not three.
     */
    public NDArray forward(NDArray x, boolean training) {
        NDArray y = base.apply(x, bias);
        if (loraA == null) {
            return y;
        }
        NDArray in = training && dropout > 0 ? Dropouts.apply(x, dropout) : x;
        NDArray a = Casts.toType(loraA, x.getDataType());
        NDArray b = Casts.toType(loraB, x.getDataType());
        NDArray low = Linear.linear(in, a).singletonOrThrow();
        if (in != x) {
            in.close();
        }
        low.muli(TorchScalar.of(low, (float) scaling)); // the product's backward does not read its output
        NDArray up = Linear.linear(low, b).singletonOrThrow();
        low.close();
        y.addi(up);
        up.close();
        if (a != loraA) {
            a.close();
            b.close();
        }
        return y;
    }

    /** Attaches an adapter (A {@code [r, in]}, B {@code [out, r]}); they must live on the weight's device. */
    public void attach(NDArray a, NDArray b, double scale, double dropoutRate) {
        if (a.getShape().get(1) != inFeatures() || b.getShape().get(0) != outFeatures()
                || a.getShape().get(0) != b.getShape().get(1)) {
            throw new IllegalArgumentException(path + ": LoRA A " + a.getShape() + " / B " + b.getShape()
                    + " do not fit weight " + base.shape());
        }
        this.loraA = a;
        this.loraB = b;
        this.scaling = scale;
        this.dropout = (float) dropoutRate;
    }

    /**
     * Attaches a fresh trainable adapter of {@code cfg}'s rank, scaling and dropout, started as PEFT starts it: by
     * default A uniform in ±1/sqrt(in) and B zero; with PiSSA A and B from the top-r singular directions of W, which
     * becomes the residual {@code W - scaling B A}. Either way the layer computes what it did before.
     */
    public void addAdapter(LoraConfig cfg, Random random) {
        double scaling = cfg.scaling();
        if (cfg.init() == LoraConfig.Init.PISSA) {
            NDArray weight = weight();
            Pissa.Init init = Pissa.decompose(weight, cfg.r(), scaling, cfg.pissaIterations(), random);
            if (base.quantized()) {
                weight.close(); // a dequantized copy
            }
            LinearWeight residual;
            try (NDScope scope = new NDScope()) {
                residual = base.plus(init.b().matMul(init.a()).mul(-scaling));
            }
            replaceWeight(residual);
            // the starting A0/B0: the trained adapter is saved relative to the original W (see savedA/savedB)
            pissaA0 = init.a().duplicate();
            pissaB0 = init.b().duplicate();
            attach(init.a(), init.b(), scaling, cfg.dropout());
            return;
        }
        int in = (int) inFeatures();
        float[] a = new float[cfg.r() * in];
        double bound = 1 / Math.sqrt(in);
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        NDManager m = base.manager();
        attach(m.create(a, new Shape(cfg.r(), in)), m.zeros(new Shape(outFeatures(), cfg.r()), DataType.FLOAT32),
                scaling, cfg.dropout());
    }

    /** Whether the adapter started from PiSSA (so it is saved at twice its rank). */
    public boolean pissa() {
        return pissaA0 != null;
    }

    /**
     * A as PEFT saves it, relative to the original W: A, or {@code [A; A0]} for PiSSA (rank 2r), as PEFT's
     * {@code path_initial_model_for_weight_conversion} does, because the residual base exists only here. The caller
     * scopes the result.
     */
    public NDArray savedA() {
        NDArray a = loraA.stopGradient();
        return pissaA0 == null ? a : a.concat(pissaA0, 0);
    }

    /** B as PEFT saves it: B, or {@code [B, -B0]} for PiSSA (see {@link #savedA}). */
    public NDArray savedB() {
        NDArray b = loraB.stopGradient();
        return pissaB0 == null ? b : b.concat(pissaB0.neg(), 1);
    }

    /** Replaces W (by PiSSA's residual, or the merged weight); the old weight is closed. */
    private void replaceWeight(LinearWeight next) {
        LinearWeight old = base;
        base = next;
        old.close();
    }

    /** {@code scaling * B A} in float32, {@code [out, in]}; the caller scopes the temporaries. */
    public NDArray delta() {
        return loraB.stopGradient().matMul(loraA.stopGradient()).mul(scaling);
    }

    /** Folds the adapter into W ({@code W + scaling B A}) and drops it. */
    public void merge() {
        if (loraA == null) {
            return;
        }
        LinearWeight merged;
        try (NDScope scope = new NDScope()) {
            merged = base.plus(delta());
        }
        replaceWeight(merged);
        loraA.close();
        loraB.close();
        loraA = null;
        loraB = null;
        if (pissaA0 != null) {
            pissaA0.close();
            pissaB0.close();
            pissaA0 = null;
            pissaB0 = null;
        }
    }
}
