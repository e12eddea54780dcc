package arenakit.model.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import arenakit.model.tensor.NoGrad;
import arenakit.model.tensor.TorchScalar;

/**
 * The MLP activations of the supported families, by their transformers names ({@code hidden_act} /
 * {@code hidden_activation}). {@link #apply} does not close its input; in place where {@link Elementwise} allows.
 *
 * <p>Under autograd the tanh-GELU and SiLU are fused by hand: DJL 0.32 has neither PyTorch's
 * {@code gelu(approximate="tanh")} nor {@code silu}, and spelled out in elementwise ops they record six (three)
 * operations, each keeping its inputs for the backward pass. Here the value {@code f(x)} and the derivative
 * {@code f'(x)} are computed without autograd, in place, and joined to the graph as {@code (x - x.detach()) * f'(x) +
 * f(x)}: its value is exactly {@code f(x)} (the first term is an exact zero), its gradient {@code f'(x) * grad}, and
 * the graph keeps one tensor, {@code f'(x)}, and replays one multiplication.
 */
public enum Activation {
    /** gelu_pytorch_tanh (Gemma-2): {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    GELU_TANH,
    /** gelu: the exact erf form. */
    GELU,
    /** silu (Llama, Qwen2): {@code x * sigmoid(x)}. */
    SILU;

    private static final float GELU_C1 = (float) (2 * Math.sqrt(2 / Math.PI));
    private static final float GELU_C2 = (float) (2 * Math.sqrt(2 / Math.PI) * 0.044715);

    /** The activation named {@code name} in a config.json, or null when the name is none of these. */
    public static Activation byName(String name) {
        return switch (name) {
            case "gelu_pytorch_tanh", "gelu_tanh", "gelu_new" -> GELU_TANH;
            case "gelu" -> GELU;
            case "silu", "swish" -> SILU;
            default -> null;
        };
    }

    /** transformers' name of this activation. */
    public String hfName() {
        return switch (this) {
            case GELU_TANH -> "gelu_pytorch_tanh";
            case GELU -> "gelu";
            case SILU -> "silu";
        };
    }

    public NDArray apply(NDArray x) {
        if (this != GELU && JniUtils.isGradMode()) { // (DJL's hasGradient() is false for non-leaf arrays)
            return fused(x);
        }
        Elementwise ew = Elementwise.current();
        return switch (this) {
            // the tanh form computed as the identical x * sigmoid(2 sqrt(2/pi) x (1 + 0.044715 x^2)): fewer passes
            // over the widest activation
            case GELU_TANH -> ew.mul(Elementwise.consume(ew.mul(ew.add(ew.mul(x.square(), GELU_C2), GELU_C1), x),
                    s -> s.getNDArrayInternal().sigmoid()), x);
            case GELU -> x.getNDArrayInternal().gelu();
            case SILU -> ew.mul(x.getNDArrayInternal().sigmoid(), x);
        };
    }

    /** {@code f(x)} on the graph with {@code f'(x)} as its only saved tensor (see the class comment). */
    private NDArray fused(NDArray x) {
        NDArray value;
        NDArray slope;
        try (NoGrad g = NoGrad.enter(); NDArray c = x.stopGradient()) {
            NDArray[] vs = this == GELU_TANH ? geluTanh(c) : silu(c);
            value = vs[0];
            slope = vs[1];
        }
        NDArray out = x.sub(x.stopGradient()); // exact zeros whose gradient is the identity
        out.muli(slope).addi(value);
        value.close();
        slope.close();
        return out;
    }

    /**
     * gelu_tanh(x) = x s with s = sigmoid(z), z = x (c1 + c2 x^2), in the operation order of {@link #apply}'s
     * in-place form (the same bits); its derivative s + x s (1 - s) (c1 + 3 c2 x^2).
     */
    private static NDArray[] geluTanh(NDArray x) {
        NDArray u = x.square();
        NDArray z = u.mul(TorchScalar.of(u, GELU_C2)).addi(TorchScalar.of(u, GELU_C1)).muli(x);
        NDArray s = z.getNDArrayInternal().sigmoid();
        z.close();
        NDArray slope = u.muli(TorchScalar.of(u, 3 * GELU_C2)).addi(TorchScalar.of(u, GELU_C1)).muli(x).muli(s);
        NDArray t = slope.mul(s);
        slope.subi(t).addi(s); // x z' s - x z' s^2 + s
        t.close();
        return new NDArray[] {s.muli(x), slope};
    }

    /** silu(x) = x s with s = sigmoid(x); its derivative s + x s (1 - s) = s + y - y s. */
    private static NDArray[] silu(NDArray x) {
        NDArray s = x.getNDArrayInternal().sigmoid();
        NDArray y = s.mul(x);
        NDArray slope = y.mul(s).negi().addi(y).addi(s);
        s.close();
        return new NDArray[] {y, slope};
    }
}
