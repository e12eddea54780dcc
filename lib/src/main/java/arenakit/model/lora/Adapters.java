package arenakit.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The LoRA adapters on a decoder's projections: PEFT adapters applied (merged, or kept separate and trainable),
 * fresh ones added, merged, listed for the optimizer and saved in PEFT's layout. It sees only the projections
 * ({@link LoraLinear}s, named by their checkpoint paths, which are PEFT's module names), so it serves every
 * family; modules saved whole (the classifier head) are the caller's.
 */
public final class Adapters {
    private final List<LoraLinear> projections;
    private LoraConfig config;

    /** Over a decoder's projections (in checkpoint order). */
    public Adapters(List<LoraLinear> projections) {
        this.projections = List.copyOf(projections);
    }

    public List<LoraLinear> projections() {
        return projections;
    }

    /** The config of the attached (separate) adapters, or null when none are attached. */
    public LoraConfig config() {
        return config;
    }

    /** Whether adapters are attached (added or loaded separately, and not merged). */
    public boolean attached() {
        return config != null;
    }

    /** The projections as an adapter sees them: module path, layer and shape. */
    public List<PeftAdapter.Module> modules() {
        return projections.stream().map(p -> new PeftAdapter.Module(p.path(), p.layer(), p.outFeatures(),
                p.inFeatures())).toList();
    }

    /**
     * Applies the LoRA matrices of a PEFT adapter directory to the projections its {@code target_modules} covers,
     * merged into the weights or attached separately. The adapter is checked first ({@link PeftAdapter.Dir#checkAgainst}:
     * every targeted projection has its A and B, shapes fit, no tensor names a module the model lacks), so nothing
     * is applied when anything is wrong. The head ({@link PeftAdapter.Dir#head}) is the caller's.
     */
    public void apply(PeftAdapter.Dir a, boolean merge) throws IOException {
        apply(a, merge, Set.of());
    }

    /**
     * {@link #apply(PeftAdapter.Dir, boolean)} when the projections named in {@code mergedOnLoad} (module paths)
     * already hold the adapter, merged while loading ({@link MergeOnLoad}): they are checked, not merged again.
     */
    public void apply(PeftAdapter.Dir a, boolean merge, Set<String> mergedOnLoad) throws IOException {
        if (!merge && attached()) {
            throw new IllegalStateException("cannot attach " + a.dir() + " separately: adapters are already "
                    + "attached; merge them first");
        }
        a.checkAgainst(modules());
        LoraConfig cfg = a.config();
        SafetensorsFile weights = a.weights();
        for (LoraLinear p : projections) {
            PeftAdapter.Pair pair = a.lora().get(p.path());
            if (pair == null) {
                continue;
            }
            if (merge && mergedOnLoad.contains(p.path())) {
                continue;
            }
            var m = p.base().manager();
            p.attach(weights.load(pair.a().name(), m, DataType.FLOAT32, true),
                    weights.load(pair.b().name(), m, DataType.FLOAT32, true), cfg.scaling(), cfg.dropout());
            if (merge) {
                p.merge();
            }
        }
        if (!merge && !a.lora().isEmpty()) {
            config = cfg;
        }
    }

    /**
     * Adds fresh trainable adapters on the targeted projections: PEFT's default init (A uniform ±1/sqrt(in), B
     * zero, so the model is unchanged) or PiSSA (the base becomes the residual).
     */
    public void add(LoraConfig cfg, long seed) {
        if (attached()) {
            throw new IllegalStateException("adapters are already attached; merge them first (mergeAdapters())");
        }
        Random random = new Random(seed);
        int adapted = 0;
        for (LoraLinear p : projections) {
            if (cfg.targets(p.path(), p.layer())) {
                p.addAdapter(cfg, random);
                adapted++;
            }
        }
        if (adapted == 0) {
            throw new IllegalArgumentException("LoRA target_modules " + cfg.targets() + " match no module");
        }
        config = cfg;
    }

    /** Folds every attached adapter into its base weight. */
    public void merge() {
        projections.forEach(LoraLinear::merge);
        config = null;
    }

    /** LoRA A and B of every adapted projection by PEFT state-dict name ({@code base_model.model.<path>.lora_A.weight}). */
    public Map<String, NDArray> trainable() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (LoraLinear p : projections) {
            if (p.hasAdapter()) {
                out.put(PeftAdapter.loraKey(p.path(), 'A'), p.loraA());
                out.put(PeftAdapter.loraKey(p.path(), 'B'), p.loraB());
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Writes the attached adapters (and {@code wholeModules}, tensors of the modules saved whole, e.g. the head)
     * as a PEFT directory that {@code PeftModel.from_pretrained} loads onto the original checkpoint. PiSSA
     * adapters are saved as plain LoRA of rank 2r relative to the original weights ({@code [A; A0]},
     * {@code [B, -B0]}, alpha doubled), as PEFT's {@code path_initial_model_for_weight_conversion} does, because the
     * residual base exists only here.
     *
     * @param modulesToSave the names of the modules saved whole ({@code modules_to_save}), e.g. {@code score}
     */
    public void save(Path dir, List<String> modulesToSave, Map<String, NDArray> wholeModules, String baseModel)
            throws IOException {
        if (!attached()) {
            throw new IllegalStateException("no LoRA adapters attached (none added, or merged); use saveCheckpoint");
        }
        try (NDScope scope = new NDScope()) {
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            boolean pissa = false;
            for (LoraLinear p : projections) {
                if (p.hasAdapter()) {
                    pissa |= p.pissa();
                    tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.loraKey(p.path(), 'A'), p.savedA()));
                    tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.loraKey(p.path(), 'B'), p.savedB()));
                }
            }
            wholeModules.forEach((k, v) -> tensors.add(SafetensorsWriter.Tensor.of(PeftAdapter.PREFIX + k, v)));
            LoraConfig c = config;
            LoraConfig saved = !pissa ? c : new LoraConfig(2 * c.r(),
                    c.useRslora() ? c.alpha() * Math.sqrt(2) : 2 * c.alpha(), c.dropout(), c.targets(),
                    c.targetRegex(), c.layers(), c.useRslora(), LoraConfig.Init.DEFAULT, c.pissaIterations());
            PeftAdapter.write(dir, saved, modulesToSave, baseModel, tensors);
        }
    }
}
