package arenakit.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.Partitioner;

/**
 * How rows are divided into Spark tasks: by length bucket (quarter-octaves of the row's input tokens, so the
 * longest row of a bucket is at most 19% longer than its shortest and a task's micro-batches carry little
 * padding), each bucket cut into as many partitions as its tokens need at {@code partitionTokens} per task, a
 * row's partition within its bucket chosen by a hash of its id. Longest buckets come first: Spark starts tasks in
 * partition order, so an out-of-memory shows up in the first minutes, as in the single-process predictor.
 *
 * <p>A row's partition depends only on the data and the settings, never on the run: a re-run finds the same rows
 * in the same partitions, which is what lets it keep the partitions an earlier run finished.
 */
final class LengthPlan implements Serializable {
    private static final long serialVersionUID = 1L;
    /** bucket -> {first partition, partitions}; buckets in descending order. */
    private final TreeMap<Integer, int[]> buckets;
    private final int partitions;

    private LengthPlan(TreeMap<Integer, int[]> buckets, int partitions) {
        this.buckets = buckets;
        this.partitions = partitions;
    }

    /** A row's bucket: 4 log2(tokens), rounded down. */
    static int bucket(int tokens) {
        return (int) Math.floor(4 * Math.log(Math.max(tokens, 1)) / Math.log(2));
    }

    /** The shortest token count of a bucket (for logs). */
    static int from(int bucket) {
        return (int) Math.ceil(Math.pow(2, bucket / 4.0) - 1e-9);
    }

    /** The plan for these per-bucket token totals (each already counting the TTA copies). */
    static LengthPlan of(Map<Integer, Long> tokensByBucket, long partitionTokens) {
        TreeMap<Integer, int[]> buckets = new TreeMap<>(java.util.Comparator.reverseOrder());
        int next = 0;
        for (Map.Entry<Integer, Long> b : new TreeMap<>(tokensByBucket).descendingMap().entrySet()) {
            int n = (int) Math.max(1, (b.getValue() + partitionTokens - 1) / partitionTokens);
            buckets.put(b.getKey(), new int[] {next, n});
            next += n;
        }
        return new LengthPlan(buckets, next);
    }

    int partitions() {
        return partitions;
    }

    int partition(String id, int tokens) {
        int[] b = buckets.get(bucket(tokens));
        if (b == null) {
            throw new IllegalStateException("no partition for a row of " + tokens + " tokens (id " + id
                    + "): the input changed while the job ran");
        }
        return b[0] + Math.floorMod(mix(id.hashCode()), b[1]);
    }

    /** One line per bucket: token range, partitions. */
    List<String> describe(Map<Integer, Long> rowsByBucket) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<Integer, int[]> b : buckets.entrySet()) {
            out.add(String.format(Locale.ROOT, "tokens %5d-%-5d: %,9d rows, %4d partition(s)", from(b.getKey()),
                    from(b.getKey() + 1) - 1, rowsByBucket.getOrDefault(b.getKey(), 0L), b.getValue()[1]));
        }
        return out;
    }

    /** murmur3's finalizer: spreads String.hashCode's bits so that close ids land in different partitions. */
    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    /** Sends a row, keyed by its partition number, to that partition. */
    static final class ByIndex extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int n;

        ByIndex(int n) {
            this.n = n;
        }

        @Override
        public int numPartitions() {
            return n;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }
    }
}
