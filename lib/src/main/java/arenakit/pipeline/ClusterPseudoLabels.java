package arenakit.pipeline;

import arenakit.train.PseudoLabels;
import arenakit.train.SparkConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Runs a pseudo-label stage on a cluster instead of in this process: the arena-kit-spark module implements it
 * (registered in its META-INF/services), so the library itself carries no Spark.
 */
public interface ClusterPseudoLabels {

    /**
     * Soft labels of every row of {@code inputs} (the stage's unlabeled files), in any order, predicted by the
     * stage {@code stage} of the setup {@code folder} whose stage outputs are in {@code out}; {@code work} keeps
     * the job's resumable partial results.
     */
    List<PseudoLabels.Label> run(ConfigFolder folder, Path out, String stage, SparkConfig spark, List<Path> inputs,
            Path work, Consumer<String> log) throws IOException;

    /** The implementation on the classpath; {@code where} names the config that asked for it in the error. */
    static ClusterPseudoLabels find(String where) {
        for (ClusterPseudoLabels c : ServiceLoader.load(ClusterPseudoLabels.class,
                ClusterPseudoLabels.class.getClassLoader())) {
            return c;
        }
        throw new ConfigException(where + ": 'spark' is set, but the Spark module is not on the classpath: run "
                + "jbang-scripts/spark-pseudo-labels.java --pipeline (or add org.arenakit:arena-kit-spark and Spark "
                + "4.0 to the classpath), or set \"spark\": null to predict in this process (docs/spark.md)");
    }
}
