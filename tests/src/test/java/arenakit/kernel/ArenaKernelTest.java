package arenakit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spencerpark.jupyter.kernel.ReplacementOptions;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel in-process, without a Jupyter connection: evaluation, errors, magics, rendering, completion. The
 * messages a front end sees (display updates, interrupt) are checked through a real client in KernelProtocolTest.
 */
class ArenaKernelTest {
    private static ArenaKernel kernel;

    @BeforeAll
    static void start() {
        kernel = new ArenaKernel();
    }

    @AfterAll
    static void stop() {
        kernel.onShutdown(false);
    }

    private static String text(DisplayData d) {
        return String.valueOf(d.getData(MIMEType.TEXT_PLAIN));
    }

    @Test
    void aCellShowsItsLastExpressionUnlessItEndsWithASemicolon() throws Exception {
        assertEquals("42", text(kernel.eval("int x = 40;\nint twice(int v) { return 2 * v; }\nx + 2")));
        assertNull(kernel.eval("x + 2;"));
        assertNull(kernel.eval("int y = 5;"));
        assertEquals("10", text(kernel.eval("twice(y)")));
        assertEquals("[1, 2, 3]", text(kernel.eval("List<Integer> l = new ArrayList<>(List.of(3, 1, 2));\n"
                + "Collections.sort(l); // IJava's default imports: java.util.*\nl")));
    }

    @Test
    void notebookExceptionsKeepTheirTypeAndTheSessionStaysUsable() throws Exception {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> kernel.eval("int before = 1;\nthrow new IllegalStateException(\"boom\");"));
        assertEquals("boom", e.getMessage());
        List<String> trace = kernel.formatError(e);
        assertTrue(trace.get(0).contains("java.lang.IllegalStateException: boom"), trace.toString());
        assertTrue(trace.stream().noneMatch(l -> l.contains("arenakit.kernel") || l.contains("jdk.jshell")),
                "the trace stops at the notebook's frames: " + trace);
        assertEquals("2", text(kernel.eval("before + 1")));
    }

    @Test
    void compileErrorsNameTheLineAndPointAtTheCode() {
        JShellEvaluator.CompilationException e = assertThrows(JShellEvaluator.CompilationException.class,
                () -> kernel.eval("int ok = 1;\nint bad = missingThing + 1;"));
        assertTrue(e.getMessage().contains("cannot find symbol"), e.getMessage());
        assertTrue(e.getMessage().contains("line 2: int bad = missingThing + 1;\n"
                + "                  ^^^^^^^^^^^^"), e.getMessage());
        assertThrows(JShellEvaluator.IncompleteSourceException.class, () -> kernel.eval("for (int i = 0; i < 3; i++) {"));
    }

    @Test
    void displayAndRenderProduceTheRequestedMimeBundles() throws Exception {
        DisplayData html = kernel.eval("render(\"<b>hi</b>\", \"text/html\")");
        assertEquals("<b>hi</b>", html.getData(MIMEType.TEXT_HTML));
        assertEquals("<b>hi</b>", text(html));
        DisplayData md = kernel.eval("render(\"**md**\", \"text/markdown\")");
        assertEquals("**md**", md.getData(MIMEType.TEXT_MARKDOWN));
        assertTrue(!md.hasDataForType(MIMEType.TEXT_HTML));
        // display() needs a front end to publish to; without one it still returns the id to update later
        assertEquals(36, text(kernel.eval("display(\"x\")")).length());
    }

    @Test
    void tablesawTablesAndFiguresRenderAsHtml() throws Exception {
        DisplayData table = kernel.eval("tech.tablesaw.api.Table.create(\"t\", "
                + "tech.tablesaw.api.IntColumn.create(\"n\", 1, 2, 3))");
        assertTrue(String.valueOf(table.getData(MIMEType.TEXT_HTML)).contains("<p>3 rows &times; 1 column</p>"));
        DisplayData figure = kernel.eval("render(new tech.tablesaw.plotly.components.Figure("
                + "tech.tablesaw.plotly.traces.ScatterTrace.builder(new double[] {1, 2}, new double[] {3, 4}).build()),"
                + " \"text/html\")");
        assertTrue(String.valueOf(figure.getData(MIMEType.TEXT_HTML)).contains("Plotly.newPlot("));
    }

    @Test
    void notebookCodeCanEvaluateCodeThroughIJavasKernelApi() throws Exception {
        assertEquals("42", text(kernel.eval("int base = 20;\n(Integer) eval(\"base + 1\") * 2")));
        assertEquals("true", text(kernel.eval("getKernelInstance() == arenakit.kernel.ArenaKernel.current()")));
    }

    @Test
    void snippetsRunWithTheSessionsClassLoaderAsContextLoader() throws Exception {
        // DJL (and any ServiceLoader user) looks for plug-ins on the context class loader
        assertEquals("true", text(kernel.eval("class Probe {}\n"
                + "Thread.currentThread().getContextClassLoader() == Probe.class.getClassLoader()")));
    }

    @Test
    void jarsAndClasspathMagicsAddCodeTheNotebookCanCompileAgainst(@TempDir Path dir) throws Exception {
        Path classes = compile(dir, "greet.Greeter",
                "package greet; public class Greeter { public static String hi(String n) { return \"hi \" + n; } }");
        Path jar = jar(classes, dir.resolve("jars/greeter.jar"));
        assertEquals("[" + jar + "]", text(kernel.eval("List<String> added = %jars " + dir + "/jars/*.jar\nadded")));
        assertEquals("hi arena", text(kernel.eval("greet.Greeter.hi(\"arena\")")));

        Path other = compile(dir.resolve("other"), "folder.Answer",
                "package folder; public class Answer { public static int get() { return 42; } }");
        kernel.eval("%classpath " + other);
        assertEquals("42", text(kernel.eval("folder.Answer.get()")));

        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> kernel.eval("%jars " + dir + "/nothing-here/*.jar"));
        assertTrue(none.getMessage().contains("nothing matches '" + dir + "/nothing-here/*.jar'"), none.getMessage());
        assertTrue(kernel.formatError(none).size() <= 2, "a magic's refusal is shown as its message only");

        // a kernel-side failure without a message still formats (instead of failing the error reply itself)
        IllegalStateException bare = new IllegalStateException();
        bare.setStackTrace(new StackTraceElement[] {
            new StackTraceElement(ArenaKernel.class.getName(), "eval", "ArenaKernel.java", 1)});
        assertTrue(kernel.formatError(bare).get(0).contains("IllegalStateException"));
    }

    @Test
    void completionAndIsCompleteFollowJShell() {
        String code = "String s = \"abc\";\ns.subs";
        ReplacementOptions options = kernel.complete(code, code.length());
        assertTrue(options.getReplacements().contains("substring("), options.getReplacements().toString());
        assertEquals(code.length() - "subs".length(), options.getSourceStart());
        assertEquals("complete", kernel.isComplete("int z = 1;"));
        assertEquals("", kernel.isComplete("for (int i = 0; i < 3; i++) {"), "incomplete: continue without indent");
    }

    @Test
    void magicsWithoutArgumentsSayHowToUseThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kernel.eval("%maven"));
        assertTrue(e.getMessage().contains("groupId:artifactId"), e.getMessage());
        RuntimeException undefined = assertThrows(RuntimeException.class, () -> kernel.eval("%nosuchmagic x"));
        assertEquals("Undefined line magic 'nosuchmagic'", undefined.getMessage());
    }

    private static Path compile(Path dir, String className, String source) throws IOException {
        Path src = dir.resolve("src").resolve(className.replace('.', '/') + ".java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, source);
        Path out = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-d", out.toString(), src.toString()));
        return out;
    }

    private static Path jar(Path classes, Path jar) throws IOException {
        Files.createDirectories(jar.getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                var files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, (OutputStream) out);
                out.closeEntry();
            }
        }
        return jar;
    }
}
