package arenakit.util;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * One place that starts DJL's PyTorch engine the way this project needs it.
 *
 * <p>DJL unpacks ~450 MB of natives into {@code ~/.djl.ai} unless told otherwise; we point it at the project cache
 * (or a user cache outside a checkout) unless the user already set {@code DJL_CACHE_DIR}. {@code PYTORCH_VERSION}
 * and {@code PYTORCH_FLAVOR} must stay unset: either forces a download, which fails offline.
 */
public final class Engines {
    private Engines() {}

    /** Configures the cache folder (once) and returns the PyTorch engine. */
    public static synchronized Engine pytorch() {
        configureCache();
        for (String var : new String[] {"PYTORCH_VERSION", "PYTORCH_FLAVOR"}) {
            if (System.getenv(var) != null) {
                throw new IllegalStateException(var + " is set; unset it: DJL would try to download PyTorch natives "
                        + "instead of using the pytorch-native jar on the classpath");
            }
        }
        try {
            return Engine.getEngine("PyTorch");
        } catch (RuntimeException e) {
            throw new IllegalStateException("PyTorch did not start (" + e.getMessage() + "): the PyTorch natives jar "
                    + "(ai.djl.pytorch:pytorch-native-cpu, or pytorch-native-cu124 for GPUs, classifier linux-x86_64) "
                    + "must be on the classpath; without it DJL tries to download them, which fails offline", e);
        }
    }

    /**
     * Points DJL's cache (natives it unpacks: PyTorch, the HF tokenizers library) at the project cache, unless the
     * user already set {@code DJL_CACHE_DIR}, and applies the log level ({@link Logging}). Called before anything DJL
     * loads natives.
     */
    public static synchronized void configureCache() {
        Logging.configure(); // before DJL's first logger: quiet unless asked (see Logging)
        if (System.getProperty("DJL_CACHE_DIR") == null && System.getenv("DJL_CACHE_DIR") == null) {
            System.setProperty("DJL_CACHE_DIR", ArenaHome.cache().resolve("djl").toString());
        }
    }

    /** A new root manager on the PyTorch engine's default device. */
    public static NDManager newManager() {
        return pytorch().newBaseManager();
    }
}
