package arenakit.model.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.norm.Dropout;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

/**
 * Dropout whose masks are a function of a seed, not of what ran before: what activation checkpointing needs (a
 * layer recomputed in the backward pass must draw the masks of its first forward) and what data-parallel training
 * needs (a micro-batch draws the same masks on whichever replica and thread runs it).
 *
 * <p>{@link #seeded} opens a stream for a block of work on the current thread (a decoder layer, the head); the
 * k-th dropout in it seeds PyTorch's generator with {@code mix(seed, k)} right before drawing, under one lock for
 * the process, so concurrent streams do not interleave. Outside a stream dropout draws from PyTorch's generator as
 * it stands (what plain {@code logits(..., training = true)} does).
 */
public final class Dropouts {
    private Dropouts() {}

    private static final Object GENERATOR = new Object();
    private static final ThreadLocal<Stream> CURRENT = new ThreadLocal<>();

    private static final class Stream {
        final long seed;
        int calls;

        Stream(long seed) {
            this.seed = seed;
        }
    }

    /** Runs {@code body} with the dropout masks of stream {@code seed}; the previous stream (if any) comes back. */
    public static <T> T seeded(long seed, Supplier<T> body) {
        Stream before = CURRENT.get();
        CURRENT.set(new Stream(seed));
        try {
            return body.get();
        } finally {
            if (before == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(before);
            }
        }
    }

    /** Inverted dropout of {@code x} (kept values scaled by {@code 1 / (1 - rate)}); {@code x} is not closed. */
    public static NDArray apply(NDArray x, float rate) {
        Stream s = CURRENT.get();
        if (s == null) {
            return Dropout.dropout(x, rate, true).singletonOrThrow();
        }
        long seed = mix(s.seed, s.calls++);
        synchronized (GENERATOR) { // the draw happens inside the call, on the CPU and when a CUDA kernel is queued
            JniUtils.setSeed(seed);
            return Dropout.dropout(x, rate, true).singletonOrThrow();
        }
    }

    /** A well-spread 63-bit seed from two numbers (SplitMix64's finalizer). */
    public static long mix(long seed, long part) {
        long z = seed * 0x9E3779B97F4A7C15L + part + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) & Long.MAX_VALUE;
    }
}
