package arenakit.environment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Submission;
import arenakit.pipeline.ConfigFolder;
import arenakit.text.Tokenizer;
import arenakit.util.ArenaHome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kaggle offline bundle, built by environment/kaggle-bundle.sh (CPU natives, from the jars this build just
 * made) and run the way Kaggle runs it: its own launcher, an empty home (no ~/.m2, no JBang), outside the checkout,
 * on the smoke setup end to end; then the bundle's Python-kernel notebook (kaggle/submission.ipynb) executed by
 * Jupyter against a /kaggle/input-like folder holding the bundle, the trained stage and the test file, mounted
 * read-only, with the network cut off (when this machine allows a private mount and network namespace).
 */
class KaggleBundleTest {
    @TempDir
    static Path tmp;
    private static Path bundle;
    private static Path run;
    private static Map<String, String> env;
    private static Run pipeline;

    @BeforeAll
    static void buildAndRunTheSmokePipeline() throws Exception {
        Path home = ArenaHome.find().orElseThrow();
        bundle = tmp.resolve("input/arena-kit");
        Run build = run(home, Map.of(), "bash", home.resolve("environment/kaggle-bundle.sh").toString(),
                "--torch", "cpu", "--no-build", "--out", bundle.toString());
        assertEquals(0, build.code(), build.out());
        Path emptyHome = Files.createDirectories(tmp.resolve("home"));
        env = Map.of("HOME", emptyHome.toString(), "JAVA_TOOL_OPTIONS", "-Duser.home=" + emptyHome,
                "TMPDIR", Files.createDirectories(tmp.resolve("tmpdir")).toString(), "ARENA_JAVA_OPTS", "-Xmx3g");
        run = tmp.resolve("run");
        pipeline = run(Files.createDirectories(tmp.resolve("work")), env, bundle.resolve("arena-kit").toString(),
                "pipeline", "--config", "smoke", "--out", run.toString());
    }

    @Test
    void bundleRunsThePipelineWithNothingButItself() throws Exception {
        assertTrue(Files.isRegularFile(bundle.resolve("jars/pytorch-native-cpu-2.5.1-linux-x86_64.jar")));
        for (String tokenizer : Tokenizer.installedNames()) { // every tokenizer a shipped setup can name
            assertTrue(Files.isRegularFile(bundle.resolve(".cache/tokenizers/" + tokenizer + "/tokenizer.json")),
                    tokenizer);
        }
        String readme = Files.readString(bundle.resolve("README.md"));
        for (String row : List.of("| `/kaggle/input/gemma-2-9b-it` | pipeline.json `base_model.checkpoint` | "
                + "`--checkpoint DIR`", "| `/kaggle/input/lmsys-chatbot-arena/test.csv` | pipeline.json `data.test` | "
                + "`--test CSV`", "`/kaggle/input/preference-pairs/pairs.csv` | pipeline.json `data.unlabeled`",
                "| `/kaggle/input/armorm-llama3-8b` | pipeline.json `base_models.llama3-8b.checkpoint` | none",
                "| `/kaggle/input/llama3-8b-stage3` | submission_ensemble.json `models` | `--model DIR` replaces the list",
                "## Where the llama3-8b setup reads each /kaggle/input path\n\n| path | config field | command-line "
                        + "override |\n|---|---|---|\n| `/kaggle/input/armorm-llama3-8b` | pipeline.json "
                        + "`base_model.checkpoint` | `--checkpoint DIR`")) {
            assertTrue(readme.contains(row), "README.md has the row " + row + ":\n" + readme);
        }
        // the Llama setup is in the bundle, and its tokenizer too: on a machine without its Kaggle inputs, only they
        // (and the GPUs) are missing
        Run llama = run(tmp.resolve("work"), env, bundle.resolve("arena-kit").toString(), "pipeline", "--config",
                "llama3-8b", "--out", tmp.resolve("llama-run").toString());
        assertEquals(1, llama.code(), llama.out());
        assertTrue(llama.out().contains("'base_model.checkpoint' /kaggle/input/armorm-llama3-8b does not exist"),
                llama.out());
        assertTrue(llama.out().contains("nothing was run"), llama.out());
        assertFalse(llama.out().contains("tokenizer"), "the bundle carries the llama3 tokenizer: " + llama.out());

        Run help = run(tmp.resolve("work"), env, bundle.resolve("arena-kit").toString(), "--help");
        assertEquals(0, help.code(), help.out());
        for (String command : List.of("pipeline", "train", "pseudo-labels", "submit", "eda", "validate")) {
            assertTrue(help.out().contains(command), "--help lists " + command + ":\n" + help.out());
        }
        assertEquals(0, pipeline.code(), pipeline.out());
        Path data = run.resolve("data");
        Submission.validate(run.resolve("submission.csv"), data.resolve("test.csv"),
                data.resolve("sample_submission.csv"));
        assertTrue(Files.notExists(tmp.resolve("home/.m2")), "the bundle must not need a Maven repository");
        assertTrue(Files.isDirectory(tmp.resolve("tmpdir/arena-kit-djl")), "DJL's natives go to $TMPDIR");
    }

    /**
     * As 2nd place submitted: a Gemma stage and a Llama stage at 2:1, each folder an attached dataset, the Llama's base
     * checkpoint one too, through a setup laid out like gemma2-9b (base_models names the Llama checkpoint with the
     * llama3 tokenizer, which only the bundle holds; submission_ensemble.json names the folders with their weights,
     * run with --submission). Each model encodes with the tokenizer and template its folder carries.
     */
    @Test
    void theKaggleNotebookSubmitsAGemmaAndLlamaEnsembleFromTheReadOnlyBundleOffline() throws Exception {
        assertEquals(0, pipeline.code(), pipeline.out());
        Path input = tmp.resolve("input");
        arenakit.util.Folders.copyTree(run.resolve("stage3"), input.resolve("my-stage3"));
        arenakit.util.Folders.copyTree(run.resolve("base-model"), input.resolve("base-model"));
        arenakit.util.Folders.copyTree(run.resolve("llama_stage1"), input.resolve("my-llama-stage"));
        arenakit.util.Folders.copyTree(run.resolve("base-model-llama"), input.resolve("llama-base"));
        Path config = ConfigFolder.of("smoke").copyTo(input.resolve("my-setup"));
        String llamaBase = "\"llama\": {\"checkpoint\": \"" + input.resolve("llama-base") + "\", \"tokenizer\": \"llama3\", "
                + "\"template\": null}";
        Files.writeString(config.resolve("pipeline.json"), Files.readString(config.resolve("pipeline.json"))
                .replaceFirst("\"llama\": \\{\"tiny\": \\{[^}]*}, \"tokenizer\": \"sample\", \"template\": null}",
                        java.util.regex.Matcher.quoteReplacement(llamaBase)));
        assertTrue(Files.readString(config.resolve("pipeline.json")).contains(llamaBase));
        Files.writeString(config.resolve("submission_ensemble.json"), Files.readString(config.resolve(
                "submission.json")).replaceFirst("\"models\": \\[[^]]*]", java.util.regex.Matcher.quoteReplacement(
                "\"models\": [{\"model\": \"" + input.resolve("my-stage3") + "\", \"weight\": 2}, {\"model\": \""
                        + input.resolve("my-llama-stage") + "\", \"weight\": 1}]")));
        Path competition = Files.createDirectories(input.resolve("lmsys-chatbot-arena"));
        for (String f : List.of("test.csv", "sample_submission.csv")) {
            Files.copy(run.resolve("data").resolve(f), competition.resolve(f));
        }
        Path working = Files.createDirectories(tmp.resolve("working"));
        Path notebook = bundle.resolve("kaggle/submission.ipynb");
        assertTrue(Files.isRegularFile(notebook), "the bundle carries the Kaggle notebook");
        Path executed = tmp.resolve("executed.ipynb");

        Map<String, String> nbEnv = new HashMap<>(env);
        nbEnv.putAll(Map.of("KAGGLE_INPUT", input.toString(), "KAGGLE_WORKING", working.toString(),
                "ARENA_CONFIG", config.toString(), "ARENA_CHECKPOINT", input.resolve("base-model").toString(),
                "ARENA_MODELS", "[]", "ARENA_SUBMISSION", "submission_ensemble",
                "ARENA_TEST", competition.resolve("test.csv").toString(), "ARENA_TIME_BUDGET", "20m",
                "JUPYTER_RUNTIME_DIR", Files.createDirectories(tmp.resolve("jupyter-runtime")).toString()));
        List<String> jupyter = List.of("/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute",
                "--ExecutePreprocessor.kernel_name=python3", "--ExecutePreprocessor.timeout=600",
                "--output", executed.toString(), notebook.toString());
        boolean isolated = canIsolate();
        List<String> command = new ArrayList<>();
        if (isolated) { // a private mount namespace: /kaggle/input read-only; a network namespace with loopback only
            command.addAll(List.of("unshare", "--net", "--mount", "bash", "-c", "ip link set lo up && "
                    + "mount --make-rprivate / && mount --bind \"$0\" \"$0\" && mount -o remount,ro,bind \"$0\" && "
                    + "shift && exec \"$@\"", input.toString(), "--"));
        } else {
            System.out.println("KaggleBundleTest: no private mount/network namespace here (needs root, unshare and "
                    + "ip): the notebook runs with the network on and the input writable");
        }
        command.addAll(jupyter);
        Run nb = run(tmp.resolve("work"), nbEnv, command.toArray(String[]::new));
        assertEquals(0, nb.code(), nb.out());

        Path kept = Files.createDirectories(Path.of("target", "executed-notebooks")).resolve("kaggle-submission.ipynb");
        Files.copy(executed, kept, StandardCopyOption.REPLACE_EXISTING); // to look at after the build
        String outputs = Files.readString(executed);
        assertTrue(outputs.contains("valid"), outputs);
        if (isolated) {
            assertTrue(outputs.contains("(read-only)"), "the bundle was mounted read-only:\n" + outputs);
        }
        assertTrue(outputs.contains("time budget 20m"), outputs);
        assertTrue(outputs.contains("models [" + input.resolve("my-stage3") + " x2, " + input.resolve("my-llama-stage")
                + "]"), outputs);
        assertTrue(outputs.contains("predictions: 40 rows: 40 by every model"), outputs);
        Submission.Report report = Submission.validate(working.resolve("submission.csv"),
                competition.resolve("test.csv"), competition.resolve("sample_submission.csv"));
        assertEquals(40, report.rows());
        try (Stream<Path> files = Files.walk(working)) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".jar")), "nothing of the bundle is copied");
        }
    }

    /** Whether this machine lets the test cut the network and mount the input read-only. */
    private static boolean canIsolate() throws IOException, InterruptedException {
        try {
            Process p = new ProcessBuilder("unshare", "--net", "--mount", "bash", "-c",
                    "ip link set lo up && mount --make-rprivate /").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false; // no unshare
        }
    }


    record Run(int code, String out) {}

    private static Run run(Path dir, Map<String, String> env, String... command)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile(tmp, "run", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("DJL_CACHE_DIR"); // the tests' shared cache: here the launcher picks one itself
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(8, TimeUnit.MINUTES), String.join(" ", command) + " timed out");
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
