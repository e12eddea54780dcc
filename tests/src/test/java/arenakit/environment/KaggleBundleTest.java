package arenakit.environment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Submission;
import arenakit.util.ArenaHome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kaggle offline bundle, built by environment/kaggle-bundle.sh (CPU natives, from the jars this build just
 * made) and then run the way Kaggle runs it: its own launcher, an empty home (no ~/.m2, no JBang), outside the
 * checkout, on the smoke setup end to end.
 */
class KaggleBundleTest {
    @TempDir
    Path tmp;

    @Test
    void bundleRunsThePipelineWithNothingButItself() throws Exception {
        Path home = ArenaHome.find().orElseThrow();
        Path bundle = tmp.resolve("bundle");
        Run build = run(home, Map.of(), "bash", home.resolve("environment/kaggle-bundle.sh").toString(),
                "--torch", "cpu", "--no-build", "--out", bundle.toString());
        assertEquals(0, build.code(), build.out());
        assertTrue(Files.isRegularFile(bundle.resolve("jars/pytorch-native-cpu-2.5.1-linux-x86_64.jar")), build.out());
        assertTrue(Files.isRegularFile(bundle.resolve(".cache/tokenizers/gemma/tokenizer.json")));

        Path emptyHome = Files.createDirectories(tmp.resolve("home"));
        Path cwd = Files.createDirectories(tmp.resolve("work"));
        Map<String, String> env = Map.of("HOME", emptyHome.toString(),
                "JAVA_TOOL_OPTIONS", "-Duser.home=" + emptyHome, "DJL_CACHE_DIR", tmp.resolve("djl").toString());
        String launcher = bundle.resolve("arena-kit").toString();

        Run help = run(cwd, env, launcher, "--help");
        assertEquals(0, help.code(), help.out());
        for (String command : List.of("pipeline", "train", "pseudo-labels", "submit", "eda", "validate")) {
            assertTrue(help.out().contains(command), "--help lists " + command + ":\n" + help.out());
        }

        Path out = tmp.resolve("run");
        Run pipeline = run(cwd, env, launcher, "pipeline", "--config", "smoke", "--out", out.toString());
        assertEquals(0, pipeline.code(), pipeline.out());
        Path data = out.resolve("data");
        Submission.validate(out.resolve("submission.csv"), data.resolve("test.csv"),
                data.resolve("sample_submission.csv"));
        assertTrue(Files.notExists(emptyHome.resolve(".m2")), "the bundle must not need a Maven repository");
    }

    record Run(int code, String out) {}

    private Run run(Path dir, Map<String, String> env, String... command) throws IOException, InterruptedException {
        Path log = Files.createTempFile(tmp, "run", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), String.join(" ", command) + " timed out");
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
