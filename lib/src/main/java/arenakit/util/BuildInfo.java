package arenakit.util;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the running library was built as: its version, the DJL and PyTorch versions it was built against, and the
 * checkout it was built from ({@code arenakit/build.properties}, filled in by the build).
 *
 * @param version arena-kit's version
 * @param djl the DJL version
 * @param pytorch the PyTorch version of the native libraries
 * @param checkout the checkout whose {@code lib/} was built into this jar (null when unknown)
 */
public record BuildInfo(String version, String djl, String pytorch, Path checkout) {
    private static final String RESOURCE = "arenakit/build.properties";
    private static BuildInfo current;

    /** This library's build information (read once). */
    public static synchronized BuildInfo get() {
        if (current == null) {
            current = read();
        }
        return current;
    }

    /** One line for {@code -V}: "arena-kit 0.1.0 (DJL 0.32.0, PyTorch 2.5.1)". */
    public String describe() {
        return "arena-kit " + version + " (DJL " + djl + ", PyTorch " + pytorch + ")";
    }

    /** The checkout the library was built from, if it is still there (it holds environment/setup.sh). */
    public Optional<Path> builtFrom() {
        return Optional.ofNullable(checkout).filter(ArenaHome::isCheckout);
    }

    private static BuildInfo read() {
        Map<String, String> p = new HashMap<>();
        try (InputStream in = BuildInfo.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in != null) {
                // read by hand, not with Properties: a Windows path's backslashes are not escapes here
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                for (String line; (line = r.readLine()) != null; ) {
                    int eq = line.indexOf('=');
                    if (!line.startsWith("#") && eq > 0) {
                        p.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
                    }
                }
            }
        } catch (IOException e) {
            // no build information: "unknown" below
        }
        String lib = p.get("lib");
        Path checkout = lib == null || lib.isEmpty() || lib.startsWith("${") ? null
                : Path.of(lib).toAbsolutePath().normalize().getParent();
        return new BuildInfo(value(p, "version"), value(p, "djl"), value(p, "pytorch"), checkout);
    }

    private static String value(Map<String, String> p, String key) {
        String v = p.get(key);
        return v == null || v.isEmpty() || v.startsWith("${") ? "unknown" : v;
    }
}
