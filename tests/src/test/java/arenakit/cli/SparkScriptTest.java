package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark job's jbang script resolves (the spark module from ~/.m2, Spark from Maven Central) and starts; the job
 * itself is tested in the spark module (local[2] against the single-process stage).
 */
class SparkScriptTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void needJbang() {
        JbangRun.home();
    }

    @Test
    void helpListsTheJobsOptions() throws Exception {
        JbangRun.Result help = JbangRun.run(tmp, "spark-pseudo-labels.java", "--help");
        assertEquals(0, help.code(), help.out());
        for (String option : new String[] {"--input", "--output", "--format", "--partition-tokens", "--master",
            "--device", "--work"}) {
            assertTrue(help.out().contains(option), option + " in\n" + help.out());
        }
    }
}
