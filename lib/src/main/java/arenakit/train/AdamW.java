package arenakit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import arenakit.model.tensor.NoGrad;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with decoupled weight decay, as {@code torch.optim.AdamW}, plus global-norm gradient clipping.
 *
 * <p>Hand-written rather than DJL's {@code Optimizer.adamW()} because a resumable run must save and restore the
 * moment estimates, which DJL keeps private. The moments are float32 (also for fp16 parameters) and live in this
 * optimizer's own manager, created up front: created lazily inside a training step's {@code NDScope}, they would
 * be freed when the step ends.
 */
public final class AdamW implements AutoCloseable {
    private final Map<String, NDArray> params;
    private final OptimizerConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private long steps;

    public AdamW(Map<String, NDArray> params, OptimizerConfig config) {
        if (params.isEmpty()) {
            throw new IllegalArgumentException("nothing to train: the model has no trainable tensors");
        }
        this.params = params;
        this.config = config;
        this.manager = params.values().iterator().next().getManager().newSubManager();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray p = e.getValue();
            m.put(e.getKey(), manager.zeros(p.getShape(), DataType.FLOAT32, p.getDevice()));
            v.put(e.getKey(), manager.zeros(p.getShape(), DataType.FLOAT32, p.getDevice()));
        }
    }

    /** Number of updates applied so far. */
    public long steps() {
        return steps;
    }

    /**
     * Clips the accumulated gradients to {@code grad_clip}, applies one update at learning rate {@code lr}, then
     * zeroes the gradients. Call after the GradientCollector has closed, inside the step's NDScope; the update runs
     * with grad mode off whatever the thread's setting. A non-finite gradient norm is an error.
     *
     * @return the global gradient norm before clipping
     */
    public double step(double lr) {
        try (NoGrad g = NoGrad.enter()) {
            return update(lr, 1, false);
        }
    }

    /**
     * {@link #step} for gradients of a loss multiplied by {@code lossScale}: they are divided by it first. When
     * their norm is not finite (the scaled backward overflowed) nothing is updated: the gradients are zeroed, the
     * moments and the step count stay as they were, and the non-finite norm is returned.
     *
     * @return the global norm of the unscaled gradients before clipping; not finite when the step was skipped
     */
    public double scaledStep(double lr, double lossScale) {
        try (NoGrad g = NoGrad.enter()) {
            return update(lr, (float) (1 / lossScale), true);
        }
    }

    private double update(double lr, float unscale, boolean skipNonFinite) {
        Map<String, NDArray> grads = new LinkedHashMap<>();
        double sq = 0;
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray g = e.getValue().getGradient().toType(DataType.FLOAT32, false);
            if (unscale != 1f) {
                g = g.mul(unscale);
            }
            grads.put(e.getKey(), g);
            sq += g.square().sum().getFloat();
        }
        double norm = Math.sqrt(sq);
        if (!Double.isFinite(norm)) {
            if (skipNonFinite) {
                params.values().forEach(p -> JniUtils.zeroGrad((PtNDArray) p));
                return norm;
            }
            List<String> bad = grads.entrySet().stream()
                    .filter(e -> !Double.isFinite(e.getValue().square().sum().getFloat()))
                    .map(Map.Entry::getKey).limit(5).toList();
            throw new IllegalStateException("gradient norm is " + norm + " at optimizer step " + (steps + 1)
                    + " (non-finite in " + bad + "): the training diverged (lower optimizer.lr, or use float32)");
        }
        float clip = config.gradClip() > 0 && norm > config.gradClip() ? (float) (config.gradClip() / (norm + 1e-6))
                : 1f;
        steps++;
        float b1 = (float) config.beta1();
        float b2 = (float) config.beta2();
        double bc1 = 1 - Math.pow(config.beta1(), steps);
        double bc2 = 1 - Math.pow(config.beta2(), steps);
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            String name = e.getKey();
            NDArray p = e.getValue();
            NDArray g = clip == 1f ? grads.get(name) : grads.get(name).mul(clip);
            m.get(name).muli(b1).addi(g.mul(1 - b1));
            v.get(name).muli(b2).addi(g.square().muli(1 - b2));
            NDArray update = m.get(name).div(v.get(name).div((float) bc2).sqrt().addi((float) config.eps()))
                    .muli((float) (lr / bc1));
            if (config.weightDecay() > 0 && p.getShape().dimension() >= 2) {
                update.addi(p.toType(DataType.FLOAT32, false).mul((float) (lr * config.weightDecay())));
            }
            p.subi(update.toType(p.getDataType(), false));
            JniUtils.zeroGrad((PtNDArray) p);
        }
        return norm;
    }

    /** Writes step count and moments (DJL NDList encoding, names kept). */
    public void save(OutputStream out) throws IOException {
        NDList list = new NDList();
        for (String name : params.keySet()) {
            list.add(named(m.get(name), "m/" + name));
            list.add(named(v.get(name), "v/" + name));
        }
        NDArray count = manager.create(new long[] {steps});
        list.add(named(count, "steps"));
        list.encode(out);
        count.close();
    }

    /** Restores what {@link #save} wrote; the parameter names and shapes must match. */
    public void load(InputStream in) throws IOException {
        try (NDManager tmp = manager.newSubManager(); NoGrad g = NoGrad.enter()) {
            Map<String, NDArray> byName = new LinkedHashMap<>();
            for (NDArray a : NDList.decode(tmp, in)) {
                byName.put(a.getName(), a);
            }
            for (String name : params.keySet()) {
                copyInto(byName, "m/" + name, m.get(name));
                copyInto(byName, "v/" + name, v.get(name));
            }
            NDArray count = byName.get("steps");
            if (count == null) {
                throw new IOException("optimizer state has no step count");
            }
            steps = count.getLong();
        }
    }

    private static void copyInto(Map<String, NDArray> saved, String key, NDArray target) throws IOException {
        NDArray a = saved.get(key);
        if (a == null || !a.getShape().equals(target.getShape())) {
            throw new IOException("optimizer state for " + key + " is missing or has shape "
                    + (a == null ? "-" : a.getShape()) + " instead of " + target.getShape());
        }
        target.set(a.toFloatArray());
    }

    private static NDArray named(NDArray a, String name) {
        a.setName(name);
        return a;
    }

    @Override
    public void close() {
        manager.close();
    }
}
