package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.util.ArenaHome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs a jbang script for real, as the README does: environment/bin/jbang from the checkout root (that is how
 * scripts find .cache: tokenizer, plotly.js), against the lib that environment/setup.sh installed in ~/.m2.
 */
final class JbangRun {
    private JbangRun() {}

    record Result(int code, String out) {}

    /** The checkout; the calling test is skipped, with the reason, when JBang or the installed lib is missing. */
    static Path home() {
        Path home = ArenaHome.find().orElseThrow();
        Path lib = Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "arenakit", "arena-kit-lib",
                "0.1.0-SNAPSHOT", "arena-kit-lib-0.1.0-SNAPSHOT.jar");
        boolean jbang;
        try (var jars = Files.list(home.resolve(".cache").resolve("jbang"))) {
            jbang = jars.anyMatch(p -> p.getFileName().toString().startsWith("jbang-cli"));
        } catch (IOException e) {
            jbang = false;
        }
        Assumptions.assumeTrue(jbang && Files.isRegularFile(lib),
                "JBang or the installed lib is missing: run bash environment/setup.sh");
        return home;
    }

    /** Runs {@code script} with {@code args} (progress bars off), its output logged under {@code logDir}. */
    static Result run(Path logDir, String script, String... args) throws IOException, InterruptedException {
        Path home = home();
        return run(logDir, home, home.resolve("jbang-scripts").resolve(script).toString(), args);
    }

    /**
     * Runs a script reference as a user would type it (a path, or an alias such as {@code validate@/path/to/checkout}
     * from the checkout's jbang-catalog.json) in the working directory {@code workDir}.
     */
    static Result run(Path logDir, Path workDir, String scriptRef, String... args)
            throws IOException, InterruptedException {
        Path home = home();
        List<String> cmd = new ArrayList<>(List.of("bash", home.resolve("environment/bin/jbang").toString(),
                "--fresh", "-Darena.progress=off", scriptRef));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(logDir, scriptRef.replaceAll("[^A-Za-z0-9.-]", "_"), ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("ARENA_KIT_HOME"); // found from the working directory or the installed library
        Process p = pb.start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), scriptRef + " timed out");
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
