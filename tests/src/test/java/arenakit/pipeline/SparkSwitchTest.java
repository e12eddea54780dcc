package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pseudo-label stage's "spark" switch without the Spark module on the classpath (this module has none): the
 * setup is refused when it is opened, before any stage runs, naming the file and what to do.
 */
class SparkSwitchTest {
    @TempDir
    Path dir;

    @Test
    void aSparkStageWithoutTheSparkModuleFailsAtOnce() throws Exception {
        ConfigFolder.of("smoke").copyTo(dir);
        Path config = dir.resolve("pseudo_labels.json");
        Files.writeString(config, Files.readString(config).replace("\"spark\": null", "\"spark\": {\"master\": "
                + "\"local[2]\"}"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> Pipeline.open(ConfigFolder.of(dir.toString()), dir.resolve("out"), s -> {}));
        assertTrue(e.getMessage().startsWith(config + ": 'spark' is set, but the Spark module is not on the "
                + "classpath"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("out/stage1")), "nothing ran");
    }

    @Test
    void aMisspeltSparkFieldIsNamed() throws Exception {
        ConfigFolder smoke = ConfigFolder.of("smoke");
        Files.writeString(dir.resolve("pseudo_labels.json"), smoke.text("pseudo_labels.json")
                .replace("\"spark\": null", "\"spark\": {\"mastr\": \"local[2]\"}"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigFolder.of(dir.toString()).read("pseudo_labels.json", arenakit.train.PseudoLabelConfig.class));
        assertTrue(e.getMessage().contains("unknown field 'spark.mastr'"), e.getMessage());
    }
}
