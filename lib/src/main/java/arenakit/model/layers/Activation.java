package arenakit.model.layers;

import ai.djl.ndarray.NDArray;

/**
 * The MLP activations of the supported families, by their transformers names ({@code hidden_act} /
 * {@code hidden_activation}). {@link #apply} does not close its input; in place where {@link Elementwise} allows.
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
}
