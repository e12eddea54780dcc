package arenakit.kernel;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.UnresolvedReferenceException;

/**
 * Evaluates notebook cells in one JShell session running inside the kernel's JVM.
 *
 * <p>A cell may hold several snippets (statements, declarations, expressions); they run in order and the cell's
 * value is the value of its last snippet if that is an expression written without a trailing semicolon (as in
 * IPython, a trailing {@code ;} hides the value; IJava always shows it). Failures surface as exceptions that name
 * what went wrong: the user's own exception (with the trace cut at the notebook's frames), or one of the nested
 * types below for compile errors, incomplete input, unresolved references and interrupts.
 */
final class JShellEvaluator implements AutoCloseable {
    private final JShell shell;
    private final SourceCodeAnalysis analysis;
    private final CapturingExecutionControl control;
    private final Set<String> classpath = new LinkedHashSet<>();

    JShellEvaluator(List<String> initialClasspath) {
        CapturingExecutionControl.Provider provider = new CapturingExecutionControl.Provider();
        // Notebook code prints through System.out/err, which the kernel swaps per cell; resolve them lazily.
        shell = JShell.builder()
                .executionEngine(provider, Map.of())
                .out(new PrintStream(lazy(true), true, StandardCharsets.UTF_8))
                .err(new PrintStream(lazy(false), true, StandardCharsets.UTF_8))
                .in(InputStream.nullInputStream())
                .build();
        analysis = shell.sourceCodeAnalysis();
        control = provider.control();
        initialClasspath.forEach(this::addToClasspath);
    }

    private static OutputStream lazy(boolean out) {
        return new OutputStream() {
            @Override
            public void write(int b) {
                (out ? System.out : System.err).write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                (out ? System.out : System.err).write(b, off, len);
            }
        };
    }

    /** Adds a jar or class folder to both the compiler's and the runtime's class path (once). */
    void addToClasspath(String path) {
        if (classpath.add(path)) {
            shell.addToClasspath(path);
        }
    }

    /** Runs every snippet of the cell; returns the value of the last one when the cell shows it, else null. */
    Object eval(String cell) throws Exception {
        Object value = null;
        String rest = cell;
        CompletionInfo info = analysis.analyzeCompletion(rest);
        while (info.completeness().isComplete()) {
            int start = cell.length() - rest.length();
            boolean shown = !info.source().strip().endsWith(";");
            Object v = evalSnippet(info.source(), cell, start);
            rest = info.remaining();
            value = shown ? v : null;
            info = analysis.analyzeCompletion(rest);
        }
        if (info.completeness() != Completeness.EMPTY) {
            throw new IncompleteSourceException(info.remaining().strip());
        }
        return value;
    }

    private Object evalSnippet(String source, String cell, int cellOffset) throws Exception {
        control.forgetLastCall();
        List<SnippetEvent> events = shell.eval(source);
        CapturingExecutionControl.Call call = control.lastCall();
        if (call != null && call.stopped) {
            throw new EvaluationInterruptedException();
        }
        Object value = null;
        for (SnippetEvent event : events) {
            if (event.causeSnippet() != null) {
                continue; // a dependent snippet re-evaluated as a consequence
            }
            JShellException failure = event.exception();
            if (failure instanceof UnresolvedReferenceException unresolved) {
                throw new UnresolvedDependencyException(describeUnresolved(unresolved.getSnippet()));
            }
            if (failure instanceof EvalException evalFailure) {
                Throwable real = call == null ? null : call.thrown;
                if (real instanceof Exception e) {
                    throw e;
                }
                throw new EvaluationError(real != null ? real.toString()
                        : evalFailure.getExceptionClassName() + ": " + evalFailure.getMessage(), real);
            }
            if (failure != null) {
                throw failure;
            }
            if (!event.status().isDefined()) {
                throw new CompilationException(describeRejected(event.snippet(), cell, cellOffset));
            }
            if (event.snippet().subKind().isExecutable() && call != null) {
                value = call.value;
            }
        }
        return value;
    }

    private String describeUnresolved(DeclarationSnippet snippet) {
        String missing = shell.unresolvedDependencies(snippet).collect(Collectors.joining(", "));
        return "'" + snippet.name() + "' cannot be used until " + missing + " is declared";
    }

    /** Compiler messages with the cell line each one points at and a caret under the offending code. */
    private String describeRejected(Snippet snippet, String cell, int cellOffset) {
        String source = snippet.source();
        // JShell hands back the snippet's own text (plus a ';' it may have added): find where it starts in the cell
        String head = source.strip();
        head = head.substring(0, Math.min(head.length(), 24)).lines().findFirst().orElse("");
        if (head.endsWith(";")) {
            head = head.substring(0, head.length() - 1);
        }
        int headAt = head.isEmpty() ? -1 : cell.indexOf(head, cellOffset);
        int snippetStart = headAt < 0 ? -1 : headAt - (source.length() - source.stripLeading().length());
        StringBuilder out = new StringBuilder();
        List<Diag> diags = shell.diagnostics(snippet).collect(Collectors.toList());
        for (Diag d : diags) {
            if (!d.isError()) {
                continue;
            }
            if (out.length() > 0) {
                out.append('\n');
            }
            out.append(d.getMessage(null).lines()
                    .filter(l -> !l.strip().startsWith("location:"))
                    .collect(Collectors.joining("\n")));
            int pos = (int) d.getStartPosition();
            if (pos >= 0 && snippetStart >= 0) {
                out.append('\n').append(pointAt(cell, snippetStart + pos,
                        (int) Math.max(d.getEndPosition() - d.getStartPosition(), 1)));
            }
        }
        if (snippet instanceof DeclarationSnippet declaration) {
            List<String> missing = shell.unresolvedDependencies(declaration).collect(Collectors.toList());
            if (!missing.isEmpty()) {
                out.append(out.length() > 0 ? "\n" : "").append("unresolved: ").append(String.join(", ", missing));
            }
        }
        return out.length() > 0 ? out.toString() : "rejected: " + source.strip();
    }

    private static String pointAt(String cell, int pos, int length) {
        pos = Math.min(pos, cell.length());
        int lineStart = cell.lastIndexOf('\n', pos - 1) + 1;
        int lineEnd = cell.indexOf('\n', pos);
        if (lineEnd < 0) {
            lineEnd = cell.length();
        }
        long lineNumber = cell.substring(0, lineStart).chars().filter(c -> c == '\n').count() + 1;
        String prefix = "line " + lineNumber + ": ";
        String line = cell.substring(lineStart, lineEnd);
        int caretLength = Math.max(1, Math.min(length, lineEnd - pos));
        return prefix + line + "\n" + " ".repeat(prefix.length() + pos - lineStart) + "^".repeat(caretLength);
    }

    /** Completion candidates at the cursor: the text to insert and where the replaced range starts. */
    Completion complete(String code, int cursor) {
        int[] anchor = new int[1];
        List<SourceCodeAnalysis.Suggestion> suggestions = analysis.completionSuggestions(code, cursor, anchor);
        List<String> options = suggestions.stream()
                .sorted(Comparator.comparing(s -> !s.matchesType()))
                .map(SourceCodeAnalysis.Suggestion::continuation)
                .distinct()
                .collect(Collectors.toList());
        return new Completion(options, anchor[0], cursor);
    }

    record Completion(List<String> options, int start, int end) {}

    /** Signatures (and javadoc where sources are known) of what is under the cursor. */
    List<SourceCodeAnalysis.Documentation> documentation(String code, int cursor) {
        return analysis.documentation(code, cursor, true);
    }

    Completeness completeness(String code) {
        return analysis.analyzeCompletion(code).completeness();
    }

    /** Stops the running snippet (JDK 17: thread stop; newer JDKs: JShell's cooperative stop checks). */
    void interrupt() {
        shell.stop();
    }

    @Override
    public void close() {
        shell.close();
    }

    // ---------------------------------------------------------------- failures (their simple names reach the user)

    /** The cell does not compile; the message holds the compiler's messages with line and caret. */
    static final class CompilationException extends Exception {
        CompilationException(String message) {
            super(message);
        }
    }

    /** The cell ends in the middle of a statement. */
    static final class IncompleteSourceException extends Exception {
        IncompleteSourceException(String rest) {
            super("incomplete input: " + rest);
        }
    }

    /** A method or class is used before everything it refers to is declared. */
    static final class UnresolvedDependencyException extends Exception {
        UnresolvedDependencyException(String message) {
            super(message);
        }
    }

    /** The user interrupted the cell (Jupyter's interrupt button or interrupt_request). */
    static final class EvaluationInterruptedException extends Exception {
        EvaluationInterruptedException() {
            super("interrupted");
        }
    }

    /** Notebook code threw an Error (StackOverflowError, AssertionError, ...), kept as the cause. */
    static final class EvaluationError extends Exception {
        EvaluationError(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
