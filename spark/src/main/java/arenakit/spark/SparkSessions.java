package arenakit.spark;

import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** The Spark session a job runs in: the one spark-submit (or a notebook) started, else a new one. */
final class SparkSessions {
    private SparkSessions() {}

    /** Whether a session exists already (then a job uses it and leaves it running). */
    static boolean running() {
        return SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
    }

    /**
     * The running session, or a new one on {@code master} (null: spark-submit's, else {@code local[2]}) with
     * {@code conf} over quiet local defaults (no web UI, driver on the loopback address).
     */
    static SparkSession start(String master, Map<String, String> conf) {
        SparkSession.Builder b = SparkSession.builder().appName("arena-kit pseudo-labels");
        String m = master != null ? master : System.getProperty("spark.master", "local[2]");
        b.master(m);
        if (m.startsWith("local")) {
            b.config("spark.ui.enabled", "false");
            b.config("spark.driver.host", "127.0.0.1");
            b.config("spark.driver.bindAddress", "127.0.0.1");
            b.config("spark.sql.shuffle.partitions", "8");
        }
        conf.forEach(b::config);
        return b.getOrCreate();
    }
}
