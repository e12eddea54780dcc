package arenakit.spark;

import arenakit.pipeline.ClusterPseudoLabels;
import arenakit.pipeline.ConfigFolder;
import arenakit.train.PseudoLabels;
import arenakit.train.SparkConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The pipeline's pseudo-label stage on Spark ({@code "spark": {...}} in its config): the job writes Parquet into
 * {@code <stage>/spark/labels}, keeps its resumable parts in {@code <stage>/spark/work}, and the stage reads the
 * labels back to write {@code pseudo_labels.csv} as it always does.
 */
public final class SparkCluster implements ClusterPseudoLabels {

    @Override
    public List<PseudoLabels.Label> run(ConfigFolder folder, Path out, String stage, SparkConfig spark,
            List<Path> inputs, Path work, Consumer<String> log) throws IOException {
        boolean owned = !SparkSessions.running();
        SparkSession session = SparkSessions.start(spark.master(), spark.conf());
        try {
            String labels = work.toAbsolutePath().resolve("labels").toUri().toString();
            SparkPseudoLabels.run(session, new SparkPseudoLabels.Job(folder, out, stage,
                    inputs.stream().map(p -> p.toAbsolutePath().toUri().toString()).toList(), labels, "parquet",
                    work.toAbsolutePath().resolve("work").toUri().toString(), spark.partitionTokens(), spark.device()),
                    log);
            List<PseudoLabels.Label> labels2 = new ArrayList<>();
            for (Row r : session.read().parquet(labels).collectAsList()) {
                labels2.add(new PseudoLabels.Label(r.getString(0), new float[] {r.getFloat(1), r.getFloat(2),
                    r.getFloat(3)}, new float[] {r.getFloat(4), r.getFloat(5), r.getFloat(6)}));
            }
            return labels2;
        } finally {
            if (owned) {
                session.stop();
            }
        }
    }
}
