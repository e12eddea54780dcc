package arenakit.kernel;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import jdk.jshell.execution.LocalExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

/**
 * JShell's in-process execution ({@link LocalExecutionControl}: same JVM, stop support on every JDK) with three
 * additions the kernel needs:
 * <ul>
 *   <li>the real value of each snippet, not only JShell's string of it, so a cell ending in a Tablesaw table
 *       renders as HTML;</li>
 *   <li>the real exception a snippet threw, so errors carry the user's exception type and trace;</li>
 *   <li>the thread context class loader set to the session's class loader for every snippet: libraries that find
 *       plug-ins with {@link java.util.ServiceLoader} on it (DJL finds its PyTorch engine that way) otherwise see
 *       only the kernel's own class path and not the jars added with %maven / %jars.</li>
 * </ul>
 * All three happen in {@link #trampoline()}, which JShell's machinery invokes in place of the snippet's method.
 */
final class CapturingExecutionControl extends LocalExecutionControl {
    private static final Method TRAMPOLINE;

    static {
        try {
            TRAMPOLINE = CapturingExecutionControl.class.getDeclaredMethod("trampoline");
            TRAMPOLINE.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The snippet call in progress; inherited by the thread that LocalExecutionControl starts for it. */
    private static final InheritableThreadLocal<Call> CURRENT = new InheritableThreadLocal<>();

    /** One invocation of a snippet's method and what came out of it. */
    static final class Call {
        final Method snippet;
        Object value;
        Throwable thrown;
        boolean stopped;

        Call(Method snippet) {
            this.snippet = snippet;
        }
    }

    private volatile Call last;

    /** The most recent snippet call (null before any). */
    Call lastCall() {
        return last;
    }

    void forgetLastCall() {
        last = null;
    }

    @Override
    protected String invoke(Method snippet) throws Exception {
        Call call = new Call(snippet);
        Call outer = CURRENT.get(); // set when notebook code evaluates code itself (Kernel.eval)
        CURRENT.set(call);
        try {
            return super.invoke(TRAMPOLINE);
        } catch (StoppedException e) {
            call.stopped = true;
            throw e;
        } finally {
            CURRENT.set(outer);
            last = call; // after any nested evaluation's calls, so the outer snippet's result is the one read
        }
    }

    /** Runs on JShell's snippet thread in place of the snippet method. */
    private static Object trampoline() throws Throwable {
        Call call = CURRENT.get();
        Thread.currentThread().setContextClassLoader(call.snippet.getDeclaringClass().getClassLoader());
        try {
            call.value = call.snippet.invoke(null);
            return call.value;
        } catch (InvocationTargetException e) {
            call.thrown = e.getCause();
            throw e.getCause();
        }
    }

    /** Hands JShell a {@link CapturingExecutionControl} and keeps it for the evaluator. */
    static final class Provider implements ExecutionControlProvider {
        private volatile CapturingExecutionControl control;

        @Override
        public String name() {
            return "arena-kit-local";
        }

        @Override
        public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            control = new CapturingExecutionControl();
            return control;
        }

        CapturingExecutionControl control() {
            return control;
        }
    }
}
