package arenakit.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import arenakit.util.StrictJson;
import java.util.Map;

/**
 * Runs a pseudo-label stage as an Apache Spark job (the arena-kit-spark module on the classpath; docs/spark.md).
 *
 * @param master the Spark master ({@code local[2]}, {@code spark://host:7077}, {@code yarn}, {@code k8s://...});
 *     null = the one spark-submit started the application with
 * @param partitionTokens input tokens per Spark task (rows of one length bucket; with TTA each row counts twice):
 *     the unit of work that a failed or pre-empted task redoes; null = 2,000,000
 * @param device the device of every task; null = the GPU Spark assigned to the task
 *     ({@code spark.task.resource.gpu.amount=1}), else the stage's own {@code inference.devices} when those are CPUs
 * @param conf further Spark settings ({@code spark.executor.memory}, ...), applied when the job starts the session
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record SparkConfig(@StrictJson.Default("null") String master,
        @StrictJson.Default("2000000") Long partitionTokens, @StrictJson.Default("null") String device,
        @StrictJson.Default("{}") Map<String, String> conf) {
    public static final long DEFAULT_PARTITION_TOKENS = 2_000_000;

    public SparkConfig {
        partitionTokens = partitionTokens == null ? DEFAULT_PARTITION_TOKENS : partitionTokens;
        if (partitionTokens <= 0) {
            throw new IllegalArgumentException("spark.partition_tokens must be > 0, got " + partitionTokens);
        }
        conf = conf == null ? Map.of() : Map.copyOf(conf);
    }
}
