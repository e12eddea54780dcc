package arenakit.model.lora;

import java.util.List;
import java.util.regex.Pattern;

/**
 * LoRA settings with PEFT's meaning ({@code LoraConfig}): {@code y = x W^T + scaling * dropout(x) A^T B^T},
 * {@code scaling = alpha / r} (or {@code alpha / sqrt(r)} with rsLoRA).
 *
 * @param targets module names as in PEFT's {@code target_modules} list (a module matches when its path ends with
 *     {@code .name}), e.g. {@code q_proj}; or a single regular expression matched against the whole module path
 *     when {@code targetRegex} is set
 * @param layers the decoder layers to adapt ({@code layers_to_transform}), null for all
 * @param init how new adapters start: PEFT's default (A Kaiming-uniform, B zero) or PiSSA (top-r SVD of W)
 * @param pissaIterations subspace iterations of the randomized SVD behind PiSSA (PEFT's {@code pissa_niter_N})
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targets, String targetRegex,
        List<Integer> layers, boolean useRslora, Init init, int pissaIterations) {

    /** How fresh adapters are initialised. */
    public enum Init { DEFAULT, PISSA }

    /** The seven linear layers of a decoder block (the same names in Gemma-2, Llama and Qwen2). */
    public static final List<String> ALL_LINEAR =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("LoRA r must be positive, got " + r);
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        targets = targets == null ? List.of() : List.copyOf(targets);
        layers = layers == null ? null : List.copyOf(layers);
        if (targets.isEmpty() && targetRegex == null) {
            throw new IllegalArgumentException("LoRA needs target modules");
        }
    }

    /** LoRA on all seven projections, PEFT's default init (the winning notebooks used r=64, alpha=128). */
    public static LoraConfig of(int r, double alpha, double dropout) {
        return new LoraConfig(r, alpha, dropout, ALL_LINEAR, null, null, false, Init.DEFAULT, 16);
    }

    public LoraConfig withTargets(List<String> moduleNames) {
        return new LoraConfig(r, alpha, dropout, moduleNames, null, layers, useRslora, init, pissaIterations);
    }

    public LoraConfig withInit(Init how) {
        return new LoraConfig(r, alpha, dropout, targets, targetRegex, layers, useRslora, how, pissaIterations);
    }

    public double scaling() {
        return useRslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    /** Whether the module at {@code path} (e.g. model.layers.3.self_attn.q_proj) of layer {@code layer} is adapted. */
    public boolean targets(String path, int layer) {
        if (layers != null && !layers.contains(layer)) {
            return false;
        }
        if (targetRegex != null) {
            return Pattern.matches(targetRegex, path);
        }
        for (String t : targets) {
            if (path.equals(t) || path.endsWith("." + t)) {
                return true;
            }
        }
        return false;
    }
}
