package arenakit.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import arenakit.model.SequenceClassifier;
import arenakit.model.tensor.NoGrad;
import arenakit.util.Engines;
import java.util.ArrayList;
import java.util.List;

/** All batches on the calling thread, one model. */
public final class SingleDeviceRunner implements BatchRunner {
    private final SequenceClassifier model;

    public SingleDeviceRunner(SequenceClassifier model) {
        this.model = model;
    }

    @Override
    public List<float[][]> run(List<List<int[]>> batches, Listener listener) {
        List<float[][]> out = new ArrayList<>(batches.size());
        try (NoGrad g = NoGrad.enter()) {
            for (int b = 0; b < batches.size(); b++) {
                if (!listener.proceed(b)) {
                    while (out.size() < batches.size()) {
                        out.add(null);
                    }
                    break;
                }
                out.add(logits(model, batches.get(b)));
                listener.done(b, Inference.tokens(batches.get(b)));
            }
        }
        return out;
    }

    /** One forward pass in its own memory scope, copied out to Java. */
    static float[][] logits(SequenceClassifier model, List<int[]> batch) {
        try (NDManager scope = Engines.newManager(); NDScope ignored = new NDScope()) {
            NDArray logits = model.logits(scope, batch, false);
            return Inference.rows(logits);
        }
    }

    @Override
    public String describe() {
        return "single device";
    }
}
