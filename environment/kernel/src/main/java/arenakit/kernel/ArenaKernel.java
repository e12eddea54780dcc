package arenakit.kernel;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.channels.ShellHandler;
import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.ReplacementOptions;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.common.Image;
import io.github.spencerpark.jupyter.kernel.display.common.Text;
import io.github.spencerpark.jupyter.kernel.display.common.Url;
import io.github.spencerpark.jupyter.kernel.magic.registry.Magics;
import io.github.spencerpark.jupyter.kernel.util.GlobFinder;
import io.github.spencerpark.jupyter.messages.Message;
import io.github.spencerpark.jupyter.messages.MessageType;
import io.github.spencerpark.jupyter.messages.request.ExecuteRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import jdk.jshell.SourceCodeAnalysis;

/**
 * The arena-kit Jupyter kernel: Java notebooks on JShell in IJava's dialect.
 *
 * <ul>
 *   <li>Cells run in one JShell session inside this JVM (see {@link JShellEvaluator}), with IJava's default
 *       imports and its runtime API ({@code display}, {@code render}, {@code updateDisplay}, {@code lineMagic},
 *       {@code getKernelInstance}, {@code eval}) statically imported.</li>
 *   <li>Line magics {@code %jars <globs>}, {@code %classpath <globs>}, {@code %maven <coordinates>} (alias
 *       {@code %addMavenDependency}, {@code %addMavenDependencies}) and {@code %mavenRepo <id> <url>}.</li>
 *   <li>Rich output: Tablesaw tables as HTML, tablesaw-jsplot figures drawn offline ({@link RichRenderer}).</li>
 *   <li>Interrupt (kernelspec {@code interrupt_mode: message}), completion, inspection, is-complete.</li>
 * </ul>
 *
 * <p>IJava's runtime API is static, so the running kernel is a JVM-wide singleton ({@link #current()}).
 */
public final class ArenaKernel extends BaseKernel {
    private static volatile ArenaKernel current;

    private final JShellEvaluator evaluator;
    private final Magics magics = new Magics();
    private final MagicTransformer magicTransformer = new MagicTransformer();
    private final MavenResolver maven;
    private final LanguageInfo languageInfo;
    private final AtomicInteger executions = new AtomicInteger();
    private volatile PlotlyJs.Cell running;

    public ArenaKernel() {
        super(StandardCharsets.UTF_8);
        this.renderer = new RichRenderer(PlotlyJs.located(this::runningCell));
        // what BaseKernel registered on the renderer it made: strings as any text type, images, URLs
        Text.registerAll(renderer);
        Image.registerAll(renderer);
        Url.registerAll(renderer);
        this.maven = new MavenResolver(MavenResolver.defaultLocalRepository(), () -> System.err);
        this.languageInfo = new LanguageInfo.Builder("Java")
                .version(Runtime.version().toString())
                .mimetype("text/x-java-source")
                .fileExtension(".java")
                .pygments("java")
                .codemirror("java")
                .build();
        registerMagics();
        current = this;
        // the notebook's code compiles against the kernel's runtime API (Display, DisplayData, ...)
        this.evaluator = new JShellEvaluator(kernelClasspath());
        try {
            evaluator.eval(startupScript());
        } catch (Exception e) {
            throw new IllegalStateException("the kernel's JShell start-up script failed: " + e.getMessage(), e);
        }
    }

    /**
     * Also notes which cell each execute request runs (its cell id, where the front end sends one, and its code):
     * charts send plotly.js once per session, again only when the cell that carried it runs again
     * ({@link PlotlyJs}).
     */
    @Override
    public void becomeHandlerForConnection(JupyterConnection connection) {
        super.becomeHandlerForConnection(connection);
        ShellHandler<ExecuteRequest> execute = connection.getHandler(MessageType.EXECUTE_REQUEST);
        connection.setHandler(MessageType.EXECUTE_REQUEST, (env, message) -> {
            running = cellOf(message, executions.incrementAndGet());
            execute.handle(env, message);
        });
    }

    /** The cell an execute request runs: JupyterLab and Notebook 7 put its id in the metadata as "cellId". */
    static PlotlyJs.Cell cellOf(Message<ExecuteRequest> message, int execution) {
        Map<String, Object> meta = message.getNonNullMetadata();
        Object id = meta.getOrDefault("cellId", meta.get("cell_id"));
        return new PlotlyJs.Cell(id == null ? null : id.toString(), message.getContent().getCode(), execution);
    }

    /** The cell running now; outside a Jupyter connection (tests) each evaluation counts as its own cell. */
    private PlotlyJs.Cell runningCell() {
        PlotlyJs.Cell cell = running;
        return cell != null ? cell : new PlotlyJs.Cell(null, null, executionCount.get());
    }

    /** The running kernel; notebook code reaches it through IJava's static runtime API. */
    public static ArenaKernel current() {
        ArenaKernel k = current;
        if (k == null) {
            throw new IllegalStateException("no arena-kit kernel is running in this JVM");
        }
        return k;
    }

    // ---------------------------------------------------------------- magics

    private void registerMagics() {
        magics.registerLineMagic("jars", args -> addAll(args, true));
        magics.registerLineMagic("classpath", args -> addAll(args, false));
        magics.registerLineMagic("maven", this::addMavenDependencies);
        magics.registerLineMagic("addMavenDependency", this::addMavenDependencies);
        magics.registerLineMagic("addMavenDependencies", this::addMavenDependencies);
        magics.registerLineMagic("mavenRepo", args -> {
            if (args.size() != 2) {
                throw new IllegalArgumentException("usage: %mavenRepo <id> <url>");
            }
            maven.addRepository(args.get(0), args.get(1));
            return null;
        });
    }

    /** IJava's registry of line magics, for notebook code that wants to add its own. */
    public Magics getMagics() {
        return magics;
    }

    /** Runs a line magic by name (what a {@code %name args} line turns into). */
    public <T> T applyLineMagic(String name, List<String> args) {
        try {
            return magics.applyLineMagic(name, args);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("%" + name + " failed: " + e.getMessage(), e);
        }
    }

    private List<String> addMavenDependencies(List<String> coordinates) {
        List<String> jars = maven.resolve(coordinates).stream()
                .map(p -> p.toAbsolutePath().toString())
                .collect(Collectors.toList());
        jars.forEach(this::addToClasspath);
        return jars;
    }

    /**
     * {@code %jars} (jar files; a glob matching a folder adds the jars in it) and {@code %classpath} (jars or class
     * folders). A glob that matches nothing is an error: a mistyped path should not fail later as a missing class.
     */
    private List<String> addAll(List<String> globs, boolean jarsOnly) throws IOException {
        if (globs.isEmpty()) {
            throw new IllegalArgumentException("usage: %" + (jarsOnly ? "jars" : "classpath") + " <path or glob>...");
        }
        List<String> added = new ArrayList<>();
        for (String glob : globs) {
            GlobFinder finder = new GlobFinder(glob);
            Iterable<Path> matches;
            try {
                matches = jarsOnly ? finder.computeMatchingFiles() : finder.computeMatchingPaths();
            } catch (NoSuchFileException e) {
                matches = List.of(); // the glob's folder does not exist: reported as no match below
            }
            Predicate<Path> wanted = jarsOnly
                    ? p -> p.getFileName().toString().endsWith(".jar")
                    : p -> Files.isDirectory(p) || p.getFileName().toString().endsWith(".jar");
            int before = added.size();
            for (Path p : matches) {
                if (wanted.test(p)) {
                    added.add(p.toAbsolutePath().normalize().toString());
                }
            }
            if (added.size() == before) {
                throw new IllegalArgumentException("%" + (jarsOnly ? "jars" : "classpath") + ": nothing matches '"
                        + glob + "' (working directory " + Path.of("").toAbsolutePath() + ")");
            }
        }
        added.forEach(this::addToClasspath);
        return added;
    }

    /** Adds a jar or class folder to the notebook's class path (compiler and class loader). */
    public void addToClasspath(String path) {
        evaluator.addToClasspath(path);
    }

    // ---------------------------------------------------------------- display

    /** Publishes display data below the running cell; returns its display id (for {@link #updateDisplay}). */
    public String publish(DisplayData data) {
        if (!data.hasDisplayId()) {
            data.setDisplayId(UUID.randomUUID().toString());
        }
        display(data);
        return data.getDisplayId();
    }

    /** Replaces an earlier display (Jupyter's update_display_data). */
    public void updateDisplay(String id, DisplayData data) {
        getIO().display.updateDisplay(id, data);
    }

    // ---------------------------------------------------------------- evaluation

    @Override
    public DisplayData eval(String code) throws Exception {
        Object value = evalRaw(code);
        if (value == null) {
            return null;
        }
        return value instanceof DisplayData data ? data : getRenderer().render(value);
    }

    /** Evaluates a cell (magics included) and returns its value, or null when it shows none. */
    public Object evalRaw(String code) throws Exception {
        return evaluator.eval(magicTransformer.transform(code));
    }

    @Override
    public void interrupt() {
        evaluator.interrupt();
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        JShellEvaluator.Completion c = evaluator.complete(code, at);
        return c.options().isEmpty() ? null : new ReplacementOptions(c.options(), c.start(), c.end());
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        // inspect the identifier under the cursor whole, and as a call if a '(' follows it
        while (at < code.length() && Character.isJavaIdentifierPart(code.charAt(at))) {
            at++;
        }
        int paren = at;
        while (paren < code.length() && Character.isWhitespace(code.charAt(paren))) {
            paren++;
        }
        if (paren < code.length() && code.charAt(paren) == '(') {
            at = paren + 1;
        }
        List<SourceCodeAnalysis.Documentation> docs = evaluator.documentation(code, at);
        if (docs == null || docs.isEmpty()) {
            return null;
        }
        String text = docs.stream()
                .map(d -> d.javadoc() == null ? d.signature() : d.signature() + "\n" + d.javadoc())
                .collect(Collectors.joining("\n\n"));
        return new DisplayData(text);
    }

    @Override
    public String isComplete(String code) {
        String transformed;
        try {
            transformed = magicTransformer.transform(code);
        } catch (IllegalArgumentException e) {
            return IS_COMPLETE_BAD;
        }
        return switch (evaluator.completeness(transformed)) {
            case COMPLETE, COMPLETE_WITH_SEMI, EMPTY -> IS_COMPLETE_YES;
            case DEFINITELY_INCOMPLETE, CONSIDERED_INCOMPLETE -> "";
            case UNKNOWN -> IS_COMPLETE_BAD;
        };
    }

    /**
     * What a failed cell shows: compile errors and magic failures as their message; an exception from notebook
     * code as its stack trace cut below the notebook's frames (the kernel's and JShell's frames would be noise).
     */
    @Override
    public List<String> formatError(Exception e) {
        List<String> lines = new ArrayList<>();
        StackTraceElement[] top = e.getStackTrace();
        boolean fromKernel = top.length > 0 && top[0].getClassName().startsWith(ArenaKernel.class.getPackageName());
        if (fromKernel || e instanceof JShellEvaluator.CompilationException
                || e instanceof JShellEvaluator.IncompleteSourceException
                || e instanceof JShellEvaluator.UnresolvedDependencyException
                || e instanceof JShellEvaluator.EvaluationInterruptedException) {
            // compile errors and the kernel's own refusals (a bad %maven, a %jars glob matching nothing) are
            // messages for the user; their stack traces would only show kernel internals
            lines.add(errorStyler.secondary(e.getClass().getSimpleName() + ":"));
            if (e.getMessage() != null) {
                e.getMessage().lines().map(errorStyler::primary).forEach(lines::add);
            }
            return lines;
        }
        notebookTrace(e).lines().map(errorStyler::secondary).forEach(lines::add);
        return lines;
    }

    /** The throwable's trace (causes included), each cut after its last frame in notebook code. */
    static String notebookTrace(Throwable t) {
        StringWriter out = new StringWriter();
        PrintWriter w = new PrintWriter(out);
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        String prefix = "";
        while (t != null && seen.add(t)) {
            w.println(prefix + t);
            StackTraceElement[] frames = t.getStackTrace();
            int last = frames.length - 1;
            for (int i = frames.length - 1; i >= 0; i--) {
                if (frames[i].getClassName().startsWith("REPL.")) {
                    last = i;
                    break;
                }
            }
            for (int i = 0; i <= last; i++) {
                w.println("\tat " + frames[i]);
            }
            t = t.getCause();
            prefix = "Caused by: ";
        }
        w.flush();
        return out.toString();
    }

    // ---------------------------------------------------------------- kernel info and lifecycle

    @Override
    public LanguageInfo getLanguageInfo() {
        return languageInfo;
    }

    @Override
    public String getBanner() {
        return "Java " + Runtime.version() + " :: arena-kit kernel (IJava dialect) "
                + ArenaKernel.class.getPackage().getImplementationVersion();
    }

    @Override
    public List<LanguageInfo.Help> getHelpLinks() {
        return List.of(new LanguageInfo.Help("Java tutorial",
                "https://docs.oracle.com/javase/tutorial/java/nutsandbolts/index.html"));
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        evaluator.close();
        maven.close();
        current = null;
    }

    /** Class path entries the session compiles against: where the kernel's and basekernel's classes live. */
    private static List<String> kernelClasspath() {
        List<String> entries = new ArrayList<>();
        for (Class<?> c : List.of(ArenaKernel.class, DisplayData.class)) {
            try {
                String entry = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
                if (!entries.contains(entry)) {
                    entries.add(entry);
                }
            } catch (URISyntaxException e) {
                throw new IllegalStateException("cannot locate the kernel's classes", e);
            }
        }
        return entries;
    }

    private static String startupScript() {
        try (InputStream in = ArenaKernel.class.getResourceAsStream("startup.jshell")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
