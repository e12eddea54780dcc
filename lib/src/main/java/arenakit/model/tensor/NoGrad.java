package arenakit.model.tensor;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Autograd off for a block on the current thread, then back to what it was: {@code try (NoGrad g = NoGrad.enter())}.
 *
 * <p>PyTorch's grad mode is per thread and on by default in a new thread (a notebook kernel's execution thread, a
 * pool thread), while the thread that started the engine has it off. Inference must not record a graph, and an
 * optimizer's in-place update of a leaf tensor that requires a gradient is an error with grad mode on.
 */
public final class NoGrad implements AutoCloseable {
    private final boolean before;

    private NoGrad(boolean before) {
        this.before = before;
    }

    public static NoGrad enter() {
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        return new NoGrad(before);
    }

    @Override
    public void close() {
        JniUtils.setGradMode(before);
    }
}
