package arenakit.spark;

import arenakit.pipeline.Pipeline;
import arenakit.pipeline.PseudoLabelPredictor;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The models of this JVM (an executor, or the driver in local mode): each is opened once and kept for the tasks
 * that follow. A task borrows a predictor for its device for the length of the task, so two tasks never share
 * one model (a forward pass is not meant for two threads) and a device holds at most one model per task slot:
 * the next model of an ensemble replaces the previous one on the same predictor.
 */
final class Workers {
    private static final Map<String, Deque<PseudoLabelPredictor>> IDLE = new HashMap<>();
    private static final Map<String, List<Pipeline>> PIPELINES = new HashMap<>();
    private static final Map<String, List<PseudoLabelPredictor>> ALL = new HashMap<>();

    private Workers() {}

    @FunctionalInterface
    interface Work<T> {
        T run(PseudoLabelPredictor predictor) throws IOException;
    }

    /** Runs {@code work} with a predictor of the setup for {@code device} ("" for token counts only). */
    static <T> T with(SetupFiles setup, String device, Work<T> work) throws IOException {
        String key = setup.key() + "|" + device;
        PseudoLabelPredictor p = borrow(setup, key);
        try {
            return work.run(p);
        } finally {
            synchronized (Workers.class) {
                IDLE.computeIfAbsent(key, k -> new ArrayDeque<>()).push(p);
            }
        }
    }

    private static PseudoLabelPredictor borrow(SetupFiles setup, String key) throws IOException {
        synchronized (Workers.class) {
            Deque<PseudoLabelPredictor> idle = IDLE.get(key);
            if (idle != null && !idle.isEmpty()) {
                return idle.pop();
            }
        }
        // Opening reads the configs and the tokenizer (seconds); it happens once per task slot, outside the lock.
        // Tasks report through their log lines and Spark's progress; bars of parallel tasks would only interleave.
        if (System.getProperty("arena.progress") == null) {
            System.setProperty("arena.progress", "off");
        }
        Pipeline pipeline = Pipeline.open(setup.folder(), setup.out(), line -> System.out.println("[worker] " + line));
        PseudoLabelPredictor p;
        try {
            p = PseudoLabelPredictor.open(pipeline, setup.stage());
        } catch (IOException | RuntimeException e) {
            pipeline.close();
            throw e;
        }
        synchronized (Workers.class) {
            ALL.computeIfAbsent(setup.key(), k -> new ArrayList<>()).add(p);
            PIPELINES.computeIfAbsent(setup.key(), k -> new ArrayList<>()).add(pipeline);
        }
        return p;
    }

    /**
     * Frees every model of the setup in this JVM: the driver calls it when the job ends, which in local mode (the
     * driver is the executor) gives the memory back to what runs next, e.g. the pipeline's next training stage.
     */
    static synchronized void release(SetupFiles setup) {
        List<PseudoLabelPredictor> all = ALL.remove(setup.key());
        if (all != null) {
            all.forEach(PseudoLabelPredictor::close);
        }
        List<Pipeline> pipelines = PIPELINES.remove(setup.key());
        if (pipelines != null) {
            pipelines.forEach(Pipeline::close);
        }
        IDLE.keySet().removeIf(k -> k.startsWith(setup.key() + "|"));
    }
}
