package io.github.spencerpark.ijava.runtime;

import arenakit.kernel.ArenaKernel;

/** IJava's handle on the running kernel, for notebook code (statically imported into every session). */
public final class Kernel {
    private Kernel() {}

    /** The kernel this notebook runs in. */
    public static ArenaKernel getKernelInstance() {
        return ArenaKernel.current();
    }

    /** Evaluates Java source in the notebook's session and returns the value of its last expression (or null). */
    public static Object eval(String code) throws Exception {
        return ArenaKernel.current().evalRaw(code);
    }
}
