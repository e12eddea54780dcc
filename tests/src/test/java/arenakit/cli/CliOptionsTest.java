package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.util.BuildInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What every command has: -V prints the version, --verbose is an option (the jbang scripts call the same commands). */
class CliOptionsTest {
    private static String run(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cli = Cli.commandLine(new ArenaKit()).setOut(new PrintWriter(out)).setErr(new PrintWriter(out));
        assertEquals(0, cli.execute(args), String.join(" ", args) + ":\n" + out);
        return out.toString();
    }

    @Test
    void everyCommandPrintsTheVersionAndTakesVerbose() {
        Set<String> commands = Cli.commandLine(new ArenaKit()).getSubcommands().keySet();
        assertTrue(commands.size() >= 12, commands.toString());
        String version = BuildInfo.get().describe();
        assertTrue(version.startsWith("arena-kit 0.1.0-SNAPSHOT (DJL 0.32.0, PyTorch 2.5.1)"), version);
        assertTrue(run("-V").contains(version));
        for (String command : commands) {
            assertTrue(run(command, "-V").contains(version), command + " -V");
            assertTrue(run(command, "--help").contains("--verbose"), command + " --help");
        }
    }

    @Test
    void theBuildKnowsTheCheckoutItWasBuiltFrom() {
        // a jbang script run outside the checkout finds .cache/ and configs/ through this
        assertTrue(BuildInfo.get().builtFrom().isPresent(), BuildInfo.get().toString());
        assertFalse(BuildInfo.get().version().contains("${"));
    }
}
