package arenakit.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import arenakit.model.io.SafetensorsFile;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * A PEFT adapter merged into each projection's float weight while the checkpoint loads, before the weight is
 * quantized: {@code W + scaling B A} is rounded once, where merging into an int8 weight afterwards would round twice
 * (and a float copy of the whole model to merge into never exists). It merges only what fits (targeted module, A and
 * B present with the weight's shapes) and records where; {@link Adapters#apply(PeftAdapter.Dir, boolean, Set)} then
 * checks the whole adapter as usual, reports anything amiss, and skips the projections merged here.
 */
public final class MergeOnLoad {
    private final PeftAdapter.Dir adapter;
    private final Set<String> merged = new TreeSet<>();

    public MergeOnLoad(PeftAdapter.Dir adapter) {
        this.adapter = adapter;
    }

    /**
     * {@code w} plus the adapter's delta when it covers the projection {@code module} of {@code layer}: a new float32
     * array on {@code w}'s manager (the caller closes both); {@code w} itself otherwise.
     */
    public NDArray apply(String module, int layer, NDArray w) throws IOException {
        SafetensorsFile f = adapter.weights();
        SafetensorsFile.Entry a = f.entries().get(PeftAdapter.loraKey(module, 'A'));
        SafetensorsFile.Entry b = f.entries().get(PeftAdapter.loraKey(module, 'B'));
        long out = w.getShape().get(0);
        long in = w.getShape().get(1);
        LoraConfig cfg = adapter.config();
        if (!cfg.targets(module, layer) || a == null || b == null
                || !Arrays.equals(a.shape(), new long[] {cfg.r(), in})
                || !Arrays.equals(b.shape(), new long[] {out, cfg.r()})) {
            return w;
        }
        try (NDManager tmp = w.getManager().newSubManager()) {
            NDArray la = f.load(a.name(), tmp, DataType.FLOAT32, true);
            NDArray lb = f.load(b.name(), tmp, DataType.FLOAT32, true);
            NDArray delta = lb.matMul(la).muli((float) cfg.scaling());
            // a new array: w may be a read-only view of the checkpoint file (never written into)
            NDArray sum = w.getDataType() == DataType.FLOAT32 ? w.add(delta)
                    : w.toType(DataType.FLOAT32, false).addi(delta);
            sum.attach(w.getManager());
            merged.add(module);
            return sum;
        }
    }

    /** The module paths merged so far. */
    public Set<String> merged() {
        return Collections.unmodifiableSet(merged);
    }
}
