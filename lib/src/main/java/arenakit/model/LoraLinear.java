package arenakit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;

/**
 * A bias-free {@code nn.Linear} of the decoder ({@code q_proj} ... {@code down_proj}) with an optional LoRA adapter,
 * as PEFT's {@code lora.Linear}: {@code y = x W^T + scaling * (dropout(x) A^T) B^T}.
 *
 * <p>A and B stay float32 (they are optimizer parameters) and are cast to the activations' type at use, so an
 * fp16 GPU forward trains fp32 adapters. The base weight is never written in place (it may be a read-only view
 * of the checkpoint file): merging and PiSSA replace it with a new array.
 */
public final class LoraLinear {
    private final String path;
    private final int layer;
    private NDArray weight;
    private NDArray loraA;
    private NDArray loraB;
    private double scaling;
    private float dropout;
    private NDArray pissaA0;
    private NDArray pissaB0;

    LoraLinear(String path, int layer, NDArray weight) {
        this.path = path;
        this.layer = layer;
        this.weight = weight;
    }

    /** The module path in the HF checkpoint, e.g. {@code model.layers.3.self_attn.q_proj}. */
    public String path() {
        return path;
    }

    public int layer() {
        return layer;
    }

    /** W, {@code [out, in]}. */
    public NDArray weight() {
        return weight;
    }

    public long outFeatures() {
        return weight.getShape().get(0);
    }

    public long inFeatures() {
        return weight.getShape().get(1);
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

    /** The forward pass; {@code training} turns LoRA dropout on. */
    public NDArray forward(NDArray x, boolean training) {
        NDArray y = Linear.linear(x, weight).singletonOrThrow();
        if (loraA == null) {
            return y;
        }
        NDArray in = training && dropout > 0 ? Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
        NDArray a = loraA.getDataType() == x.getDataType() ? loraA : loraA.toType(x.getDataType(), false);
        NDArray b = loraB.getDataType() == x.getDataType() ? loraB : loraB.toType(x.getDataType(), false);
        NDArray linear = Linear.linear(in, a).singletonOrThrow();
        NDArray low = linear.mul(Gemma2.scalar(linear, (float) scaling)); // torch-owned scalar: see Gemma2.scalar
        return y.add(Linear.linear(low, b).singletonOrThrow());
    }

    /** Attaches an adapter (A {@code [r, in]}, B {@code [out, r]}); they must live on the weight's device. */
    void attach(NDArray a, NDArray b, double scale, double dropoutRate) {
        if (a.getShape().get(1) != inFeatures() || b.getShape().get(0) != outFeatures()
                || a.getShape().get(0) != b.getShape().get(1)) {
            throw new IllegalArgumentException(path + ": LoRA A " + a.getShape() + " / B " + b.getShape()
                    + " do not fit weight " + weight.getShape());
        }
        this.loraA = a;
        this.loraB = b;
        this.scaling = scale;
        this.dropout = (float) dropoutRate;
    }

    /** Replaces W (e.g. by PiSSA's residual); the old array is closed. */
    void replaceWeight(NDArray next) {
        NDArray old = weight;
        weight = next;
        old.close();
    }

    /** Remembers PiSSA's starting A0/B0, needed to save the trained adapter relative to the original W. */
    void rememberPissaStart(NDArray a0, NDArray b0) {
        this.pissaA0 = a0;
        this.pissaB0 = b0;
    }

    NDArray pissaA0() {
        return pissaA0;
    }

    NDArray pissaB0() {
        return pissaB0;
    }

    /** {@code scaling * B A} in float32, {@code [out, in]}; the caller scopes the temporaries. */
    NDArray delta() {
        return loraB.stopGradient().matMul(loraA.stopGradient()).mul(scaling);
    }

    /** Folds the adapter into W ({@code W + scaling B A}) and drops it. */
    void merge() {
        if (loraA == null) {
            return;
        }
        NDArray merged;
        try (NDScope scope = new NDScope()) {
            merged = weight.add(delta().toType(weight.getDataType(), false));
            NDScope.unregister(merged);
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
