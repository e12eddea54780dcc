package arenakit.notebooks;

import static org.junit.jupiter.api.Assertions.fail;

import arenakit.util.Folders;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs notebooks the way a user's Jupyter does: Debian's {@code jupyter nbconvert --execute} (nbclient) starts the
 * project's kernel from a kernelspec, sends every cell, and writes the executed notebook.
 *
 * <ul>
 *   <li>The kernelspec is installed once per test JVM by {@code environment/kernel/install.sh --prefix <tmp>} from
 *       the kernel jar this build made, so the tests exercise this checkout's kernel and the installer.</li>
 *   <li>Each notebook is copied to {@code tests/target/executed-notebooks/<name>/} and executed there (the kernel's
 *       working directory, where relative outputs land); committed notebooks are never touched.</li>
 *   <li>The kernel gets {@code ARENA_CONFIG=smoke} (stage notebooks read it in their config cell and run the tiny
 *       smoke setup) and {@code ARENA_KIT_HOME} (so {@code ArenaHome} finds the checkout from the copy).</li>
 *   <li>{@code %maven org.arenakit:arena-kit-lib:...} resolves the library from the local Maven repository, so it
 *       must be installed and current: {@code mvn install} does it before this module's tests run.</li>
 * </ul>
 * Missing Jupyter, a missing or stale installed library, or a kernel that does not install fail the test with the
 * command that fixes it; nothing is skipped.
 */
public final class NotebookRunner {
    public static final String KERNEL = "arena-java";
    static final Duration CELL_TIMEOUT = Duration.ofMinutes(10);
    static final Duration NOTEBOOK_TIMEOUT = Duration.ofMinutes(15);
    static final Path JUPYTER = Path.of("/usr/bin/jupyter");

    private static NotebookRunner shared;

    final Path repo;
    private final Path outDir;
    private final Path jupyterPath;
    private final Map<Path, ExecutedNotebook> executed = new ConcurrentHashMap<>();

    private NotebookRunner(Path repo, Path outDir, Path jupyterPath) {
        this.repo = repo;
        this.outDir = outDir;
        this.jupyterPath = jupyterPath;
    }

    /** The runner of this test JVM (checks the machine and installs the kernelspec on first use). */
    public static synchronized NotebookRunner shared() throws IOException, InterruptedException {
        if (shared == null) {
            Path repo = repo();
            Path out = Path.of("target", "executed-notebooks").toAbsolutePath();
            Files.createDirectories(out);
            checkJupyter();
            checkInstalledLibrary(repo);
            Path prefix = out.resolve("kernelspec");
            run(List.of("bash", repo.resolve("environment/kernel/install.sh").toString(), "--prefix", prefix.toString()),
                    repo, Map.of(), out.resolve("install.log"), Duration.ofMinutes(10),
                    "installing the kernelspec (environment/kernel/install.sh --prefix) failed");
            shared = new NotebookRunner(repo, out, prefix.resolve("share/jupyter"));
        }
        return shared;
    }

    /** The checkout: {@code -Darena.home} (set by the tests module's pom) or the parent of the working directory. */
    static Path repo() {
        String home = System.getProperty("arena.home");
        Path repo = (home != null ? Path.of(home) : Path.of("..")).toAbsolutePath().normalize();
        if (!Files.isDirectory(repo.resolve("notebooks"))) {
            fail("no notebooks/ folder under " + repo + " (run the tests from the checkout with Maven)");
        }
        return repo;
    }

    /** JUPYTER_PATH under which this build's kernelspec is installed (for other tests that start the kernel). */
    public Path jupyterPath() {
        return jupyterPath;
    }

    /** All notebooks of the checkout, by file name. */
    static List<Path> notebooks() throws IOException {
        try (Stream<Path> files = Files.list(repo().resolve("notebooks"))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".ipynb")).sorted().toList();
        }
    }

    /** Executes the notebook once per test JVM; later calls return the same result. */
    ExecutedNotebook execute(Path notebook) throws IOException, InterruptedException {
        ExecutedNotebook done = executed.get(notebook);
        if (done != null) {
            return done;
        }
        String name = notebook.getFileName().toString();
        Path dir = outDir.resolve(name.replaceFirst("\\.ipynb$", ""));
        Folders.deleteTree(dir); // outputs of an earlier build (a stage notebook would skip its finished stages)
        Files.createDirectories(dir);
        Path copy = Files.copy(notebook, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        Path runtime = Files.createDirectories(dir.resolve(".jupyter-runtime"));
        long start = System.nanoTime();
        run(List.of(JUPYTER.toString(), "nbconvert", "--to", "notebook", "--execute", "--inplace",
                        "--ExecutePreprocessor.kernel_name=" + KERNEL,
                        "--ExecutePreprocessor.timeout=" + CELL_TIMEOUT.toSeconds(),
                        "--ExecutePreprocessor.startup_timeout=120",
                        copy.toString()),
                dir,
                Map.of("JUPYTER_PATH", jupyterPath.toString(),
                        "JUPYTER_RUNTIME_DIR", runtime.toString(),
                        "ARENA_CONFIG", "smoke",
                        "ARENA_KIT_HOME", repo.toString()),
                dir.resolve("nbconvert.log"), NOTEBOOK_TIMEOUT,
                "executing " + name + " failed (executed copy: " + copy + ")");
        done = new ExecutedNotebook(name, copy, Duration.ofNanos(System.nanoTime() - start));
        executed.put(notebook, done);
        System.out.printf("notebook %s executed in %.1f s%n", name, done.took.toMillis() / 1000.0);
        return done;
    }

    /** The executed notebook as nbconvert's HTML (the page a reader opens without Jupyter), next to it. */
    Path toHtml(ExecutedNotebook nb) throws IOException, InterruptedException {
        Path dir = nb.file.getParent();
        run(List.of(JUPYTER.toString(), "nbconvert", "--to", "html", nb.file.toString()), dir,
                Map.of("JUPYTER_PATH", jupyterPath.toString()), dir.resolve("nbconvert-html.log"),
                Duration.ofMinutes(2), "converting " + nb.name + " to HTML failed");
        return dir.resolve(nb.name.replaceFirst("\\.ipynb$", ".html"));
    }

    private static void checkJupyter() throws IOException, InterruptedException {
        boolean ok = Files.isExecutable(JUPYTER) && new ProcessBuilder("/usr/bin/python3", "-c",
                "import nbclient, nbconvert, jupyter_client").redirectErrorStream(true)
                .redirectOutput(Redirect.DISCARD).start().waitFor() == 0;
        if (!ok) {
            fail("Debian's Jupyter (/usr/bin/jupyter with nbconvert and nbclient) is missing: run `bash environment/setup.sh`");
        }
    }

    /** The library that {@code %maven} will load must exist in the local repository and not be older than the build. */
    private static void checkInstalledLibrary(Path repo) throws IOException {
        String local = System.getProperty("maven.repo.local");
        Path m2 = local != null ? Path.of(local) : Path.of(System.getProperty("user.home"), ".m2", "repository");
        Path jar = m2.resolve("org/arenakit/arena-kit-lib/0.1.0-SNAPSHOT/arena-kit-lib-0.1.0-SNAPSHOT.jar");
        if (!Files.isRegularFile(jar)) {
            fail("notebooks load the library with %maven but " + jar + " is missing: run `mvn install` "
                    + "(or `bash environment/setup.sh`)");
        }
        Path classes = repo.resolve("lib/target/classes");
        if (Files.isDirectory(classes)) {
            try (Stream<Path> files = Files.walk(classes)) {
                long installed = Files.getLastModifiedTime(jar).toMillis();
                if (files.anyMatch(f -> {
                    try {
                        return Files.getLastModifiedTime(f).toMillis() > installed + 1000;
                    } catch (IOException e) {
                        return false;
                    }
                })) {
                    fail("the library in " + m2 + " is older than lib/target/classes, so the notebooks would run "
                            + "stale code: run `mvn install` (it installs lib before this module's tests)");
                }
            }
        }
    }

    private static void run(List<String> command, Path dir, Map<String, String> env, Path log, Duration timeout,
            String failure) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail(failure + ": no result after " + timeout.toMinutes() + " min; log " + log + ":\n" + tail(log));
        }
        if (p.exitValue() != 0) {
            fail(failure + " (exit " + p.exitValue() + "); log " + log + ":\n" + tail(log));
        }
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
    }
}
