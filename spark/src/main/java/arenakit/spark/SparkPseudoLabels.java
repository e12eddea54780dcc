package arenakit.spark;

import arenakit.data.DataException;
import arenakit.infer.Predictions;
import arenakit.infer.Predictor;
import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.Pipeline;
import arenakit.pipeline.PseudoLabelPredictor;
import arenakit.train.PseudoLabels;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import scala.Tuple2;

/**
 * The pseudo-label stage as a Spark job: soft labels for every row of the input files, predicted by the stage's
 * models with its settings, one model (or the GPUs Spark gave the task) per task.
 *
 * <ol>
 *   <li>Read and validate the inputs ({@link InputFiles}); an id in two places stops the job.</li>
 *   <li>Count each row's input tokens and divide the rows into length-bucket partitions ({@link LengthPlan}).</li>
 *   <li>For each model of the ensemble, one pass over the partitions: a task predicts its partition on its device
 *       and writes {@code <work>/parts/<model>/part-NNNNN.csv} whole or not at all ({@link PartFiles}). A partition
 *       whose file exists (an earlier, failed run got that far) is checked, row by row, against the partition's ids
 *       and kept.</li>
 *   <li>Average the models as the stage does and write {@code id, winner_model_a, winner_model_b, winner_tie,
 *       logit_a, logit_b, logit_tie} in input order as Parquet or CSV.</li>
 * </ol>
 * {@code <work>/plan.json} records what the parts were computed from (configs, models, inputs, partition size); a
 * re-run with anything else refuses to mix results.
 */
public final class SparkPseudoLabels {
    private SparkPseudoLabels() {}

    /**
     * What to run.
     *
     * @param folder the setup (its configs are sent to the workers as text)
     * @param out the setup's stage outputs (trained models, base checkpoint, tokenizer): a path every node sees
     * @param stage the pseudo-label stage's name
     * @param inputs Hadoop paths, folders or globs of .csv / .parquet files; empty = the setup's data.unlabeled
     * @param output where the labels go (a folder of part files, as Spark writes them)
     * @param format "parquet" or "csv"
     * @param work the resumable partial results; null = {@code <output>.work}
     * @param partitionTokens input tokens per task (TTA copies included)
     * @param device every task's device; null = the task's GPU from Spark, else the stage's CPU devices
     */
    public record Job(ConfigFolder folder, java.nio.file.Path out, String stage, List<String> inputs, String output,
            String format, String work, long partitionTokens, String device) {
        public Job {
            inputs = List.copyOf(inputs);
            if (!format.equals("parquet") && !format.equals("csv")) {
                throw new IllegalArgumentException("format must be parquet or csv, got " + format);
            }
            if (partitionTokens <= 0) {
                throw new IllegalArgumentException("partition tokens must be > 0, got " + partitionTokens);
            }
        }

        String workDir() {
            return work != null ? work : output.replaceAll("/+$", "") + ".work";
        }
    }

    /**
     * How it went.
     *
     * @param rows labeled rows
     * @param partitions tasks per model pass
     * @param passes per model: partitions predicted now, partitions kept from an earlier run, tokens predicted,
     *     summed task seconds, wall seconds
     */
    public record Result(long rows, int partitions, Map<String, Pass> passes, double seconds, String output) {}

    /** One model's pass. */
    public record Pass(int predicted, int kept, long tokens, double taskSeconds, double wallSeconds) {
        /** Tokens per second of one task slot (what one executor GPU does). */
        public double tokensPerTaskSecond() {
            return taskSeconds > 0 ? tokens / taskSeconds : 0;
        }
    }

    /** What a task did, sent back to the driver. */
    record TaskReport(int partition, long rows, long tokens, double seconds, boolean kept, String device)
            implements Serializable {}

    /** Runs the job in {@code spark}; log lines go to {@code log}. */
    public static Result run(SparkSession spark, Job job, Consumer<String> log) throws IOException {
        long start = System.nanoTime();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        HadoopConf conf = new HadoopConf(sc.hadoopConfiguration());
        SetupFiles setup;
        List<String> models;
        boolean tta;
        List<String> inputs = job.inputs();
        try (Pipeline p = Pipeline.open(job.folder(), job.out(), log);
                PseudoLabelPredictor stage = PseudoLabelPredictor.open(p, job.stage())) {
            setup = SetupFiles.of(job.folder(), p, job.out(), job.stage());
            models = stage.models();
            tta = stage.config().inference().tta();
            if (inputs.isEmpty()) {
                inputs = stage.unlabeledFiles().stream().map(f -> f.toUri().toString()).toList();
            }
        }
        try {
            return run(spark, sc, conf, job, setup, models, tta, inputs, log, start);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) { // Scala declares no exceptions: a failed job is a checked SparkException
            throw unwrap(e);
        } finally {
            Workers.release(setup);
        }
    }

    private static Result run(SparkSession spark, JavaSparkContext sc, HadoopConf conf, Job job, SetupFiles setup,
            List<String> models, boolean tta, List<String> inputs, Consumer<String> log, long start)
            throws IOException {
        InputFiles files = InputFiles.list(inputs, conf);
        log.accept("spark " + spark.version() + " (" + sc.master() + "): stage " + job.stage() + ", models " + models
                + (tta ? ", with swap TTA" : "") + ", " + files.files().size() + " input file(s)");
        CollectionAccumulator<String> repairs = sc.sc().collectionAccumulator("arena-kit repairs");

        // 1-2: rows with their token counts, kept while the plan is made and the rows are shuffled into it
        JavaRDD<PairRow> rows = files.read(spark, conf, repairs).mapPartitions(it -> tokens(setup, it))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Map<String, String> dup = InputFiles.duplicates(rows, files, 3);
            if (!dup.isEmpty()) {
                Map.Entry<String, String> first = dup.entrySet().iterator().next();
                throw new SourceException(first.getValue().split(" and ")[0], first.getKey(), "id",
                        "duplicate id (" + first.getValue() + ")" + (dup.size() > 1 ? "; also " + dup.keySet() : ""));
            }
            for (String r : repairs.value()) {
                log.accept("repaired while reading " + r);
            }
            int copies = tta ? 2 : 1;
            Map<Integer, Long> tokensByBucket = new LinkedHashMap<>();
            Map<Integer, Long> rowsByBucket = new LinkedHashMap<>();
            rows.mapToPair(r -> new Tuple2<>(LengthPlan.bucket(r.tokens), new long[] {1, (long) r.tokens * copies}))
                    .reduceByKey((a, b) -> new long[] {a[0] + b[0], a[1] + b[1]}).collectAsMap()
                    .forEach((bucket, n) -> {
                        rowsByBucket.put(bucket, n[0]);
                        tokensByBucket.put(bucket, n[1]);
                    });
            long total = rowsByBucket.values().stream().mapToLong(Long::longValue).sum();
            LengthPlan plan = LengthPlan.of(tokensByBucket, job.partitionTokens());
            log.accept(String.format(Locale.ROOT, "%,d rows, %,d input tokens%s in %d partition(s) of <= %,d tokens, "
                    + "by length:", total, tokensByBucket.values().stream().mapToLong(Long::longValue).sum(),
                    tta ? " (TTA copies included)" : "", plan.partitions(), job.partitionTokens()));
            plan.describe(rowsByBucket).forEach(line -> log.accept("  " + line));
            writePlan(conf, job, setup, models, files, plan, total);

            JavaRDD<PairRow> partitioned = rows.mapToPair(r -> new Tuple2<>(plan.partition(r.id, r.tokens), r))
                    .partitionBy(new LengthPlan.ByIndex(plan.partitions())).values()
                    .persist(StorageLevel.MEMORY_AND_DISK());
            try {
                PartFiles parts = new PartFiles(job.workDir(), conf);
                Map<String, Pass> passes = new LinkedHashMap<>();
                for (String model : models) {
                    passes.put(model, pass(partitioned, parts, setup, model, job.device(), log));
                }
                long written = write(spark, partitioned, parts, setup, models, job, total);
                double seconds = (System.nanoTime() - start) / 1e9;
                log.accept(String.format(Locale.ROOT, "%,d soft labels -> %s (%s) in %s", written, job.output(),
                        job.format(), Predictor.duration(seconds)));
                return new Result(written, plan.partitions(), passes, seconds, job.output());
            } finally {
                partitioned.unpersist(false);
            }
        } finally {
            rows.unpersist(false);
        }
    }

    private static Iterator<PairRow> tokens(SetupFiles setup, Iterator<PairRow> it) throws IOException {
        List<PairRow> out = new ArrayList<>();
        Workers.with(setup, "", p -> {
            while (it.hasNext()) {
                PairRow r = it.next();
                r.tokens = p.tokens(r.conversation());
                out.add(r);
            }
            return null;
        });
        return out.iterator();
    }

    /** One model over every partition: predicted where its part file is missing, checked and kept where not. */
    private static Pass pass(JavaRDD<PairRow> partitioned, PartFiles parts, SetupFiles setup, String model,
            String device, Consumer<String> log) {
        long start = System.nanoTime();
        JavaSparkContext.fromSparkContext(partitioned.context()).setJobDescription("arena-kit pseudo-labels: "
                + model);
        List<TaskReport> reports = partitioned.mapPartitionsWithIndex((index, it) -> {
            List<PairRow> rows = sorted(it);
            return List.of(predictPartition(index, rows, parts, setup, model, device)).iterator();
        }, true).collect();
        int kept = 0;
        int predicted = 0;
        long tokens = 0;
        double taskSeconds = 0;
        for (TaskReport r : reports) {
            if (r.kept()) {
                kept++;
            } else if (r.rows() > 0) {
                predicted++;
                tokens += r.tokens();
                taskSeconds += r.seconds();
            }
        }
        double wall = (System.nanoTime() - start) / 1e9;
        Pass pass = new Pass(predicted, kept, tokens, taskSeconds, wall);
        log.accept(String.format(Locale.ROOT, "%s: %d partition(s) predicted, %d kept from an earlier run; %,d tokens "
                + "in %s (%.0f tokens/s per task, %.0f tokens/s in all)", model, predicted, kept, tokens,
                Predictor.duration(wall), pass.tokensPerTaskSecond(), wall > 0 ? tokens / wall : 0));
        return pass;
    }

    private static List<PairRow> sorted(Iterator<PairRow> it) {
        List<PairRow> rows = new ArrayList<>();
        it.forEachRemaining(rows::add);
        rows.sort(PairRow::compare);
        return rows;
    }

    private static TaskReport predictPartition(int index, List<PairRow> rows, PartFiles parts, SetupFiles setup,
            String model, String device) throws IOException {
        long start = System.nanoTime();
        if (rows.isEmpty()) {
            return new TaskReport(index, 0, 0, 0, false, "");
        }
        if (parts.exists(model, index)) {
            check(parts.read(model, index), rows, parts.file(model, index));
            return new TaskReport(index, rows.size(), 0, 0, true, "");
        }
        List<String> devices = TaskDevices.of(TaskContext.get(), device);
        String key = devices == null ? "stage" : String.join(",", devices);
        int[] copies = {1};
        Predictions p = Workers.with(setup, key, predictor -> {
            TaskDevices.check(predictor.config().inference(), devices);
            copies[0] = predictor.config().inference().tta() ? 2 : 1;
            return predictor.predict(model, rows.stream().map(PairRow::conversation).toList(), devices);
        });
        TaskContext tc = TaskContext.get();
        String attempt = tc == null ? "0" : tc.stageAttemptNumber() + "-" + tc.taskAttemptId();
        parts.write(model, index, PseudoLabels.labels(p), attempt);
        long tokens = 0;
        for (PairRow r : rows) {
            tokens += r.tokens;
        }
        return new TaskReport(index, rows.size(), tokens * copies[0], (System.nanoTime() - start) / 1e9, false, key);
    }

    /** A kept part must hold exactly the partition's rows, in order; otherwise the inputs changed. */
    private static void check(List<PseudoLabels.Label> labels, List<PairRow> rows, Path file) throws IOException {
        for (int i = 0; i < Math.max(labels.size(), rows.size()); i++) {
            String had = i < labels.size() ? labels.get(i).id() : "(none)";
            String now = i < rows.size() ? rows.get(i).id : "(none)";
            if (!had.equals(now)) {
                throw new IOException(file + " row " + (i + 1) + " has id " + had + " but the partition's row there is "
                        + now + ": the input changed since that file was written; delete the work folder "
                        + file.getParent().getParent().getParent() + " to start over");
            }
        }
    }

    /** The ensemble average of every partition, in input order, as Parquet or CSV. */
    private static long write(SparkSession spark, JavaRDD<PairRow> partitioned, PartFiles parts, SetupFiles setup,
            List<String> models, Job job, long total) {
        JavaSparkContext.fromSparkContext(partitioned.context()).setJobDescription("arena-kit pseudo-labels: merge");
        JavaRDD<Row> merged = partitioned.mapPartitionsWithIndex((index, it) -> {
            List<PairRow> rows = sorted(it);
            List<Row> out = new ArrayList<>(rows.size());
            if (rows.isEmpty()) {
                return out.iterator();
            }
            List<List<PseudoLabels.Label>> byModel = new ArrayList<>();
            for (String model : models) {
                List<PseudoLabels.Label> labels = parts.read(model, index);
                check(labels, rows, parts.file(model, index));
                byModel.add(labels);
            }
            Workers.with(setup, "", predictor -> {
                for (int i = 0; i < rows.size(); i++) {
                    List<float[]> probs = new ArrayList<>(models.size());
                    for (List<PseudoLabels.Label> m : byModel) {
                        probs.add(m.get(i).probs());
                    }
                    PairRow r = rows.get(i);
                    PseudoLabels.Label l = predictor.combine(r.id, probs);
                    out.add(RowFactory.create(r.id, l.probs()[0], l.probs()[1], l.probs()[2], l.logits()[0],
                            l.logits()[1], l.logits()[2], r.source, r.line));
                }
                return null;
            });
            return out.iterator();
        }, true);
        StructType schema = new StructType()
                .add("id", DataTypes.StringType, false)
                .add("winner_model_a", DataTypes.FloatType, false)
                .add("winner_model_b", DataTypes.FloatType, false)
                .add("winner_tie", DataTypes.FloatType, false)
                .add("logit_a", DataTypes.FloatType, false)
                .add("logit_b", DataTypes.FloatType, false)
                .add("logit_tie", DataTypes.FloatType, false)
                .add("_source", DataTypes.IntegerType, false)
                .add("_line", DataTypes.LongType, false);
        Dataset<Row> labels = spark.createDataFrame(merged, schema).orderBy("_source", "_line")
                .drop("_source", "_line");
        labels.write().mode(SaveMode.Overwrite).option("header", "true").format(job.format()).save(job.output());
        return total;
    }

    /**
     * Records what the parts are computed from; a re-run must match it, or a model retrained in the meantime (or
     * other configs, inputs or partition size) would mix old and new numbers.
     */
    private static void writePlan(HadoopConf conf, Job job, SetupFiles setup, List<String> models, InputFiles files,
            LengthPlan plan, long rows) throws IOException {
        Map<String, Object> want = new LinkedHashMap<>();
        want.put("stage", job.stage());
        want.put("models", models);
        want.put("configs", SetupFiles.sha256(setup.files().toString()));
        want.put("trained", trained(job.out(), models));
        want.put("inputs", files.files());
        want.put("rows", rows);
        want.put("partition_tokens", job.partitionTokens());
        want.put("partitions", plan.partitions());
        Path file = new Path(job.workDir(), "plan.json");
        FileSystem fs = conf.fs(file);
        JsonNode wanted = Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(want)); // numbers as read back
        if (fs.exists(file)) {
            JsonNode had;
            try (var in = fs.open(file)) {
                had = Json.MAPPER.readTree(in);
            }
            if (!had.equals(wanted)) {
                List<String> differ = new ArrayList<>();
                wanted.fieldNames().forEachRemaining(f -> {
                    if (!wanted.get(f).equals(had.get(f))) {
                        differ.add(f);
                    }
                });
                throw new IOException(file + " was written for other " + String.join(", ", differ) + " than this run's: "
                        + "its partial results would not match. Delete " + file.getParent() + " to start over, or "
                        + "give this run another work folder");
            }
            return;
        }
        fs.mkdirs(file.getParent());
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(wanted)
                    .getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Each model's summary.json when it is a stage of the setup (it changes when the stage is trained again). */
    private static Map<String, String> trained(java.nio.file.Path out, List<String> models) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String model : models) {
            java.nio.file.Path f = out.toAbsolutePath().resolve(model).resolve("summary.json");
            m.put(model, java.nio.file.Files.isRegularFile(f)
                    ? SetupFiles.sha256(java.nio.file.Files.readString(f)) : model);
        }
        return m;
    }

    /** A task's failure as the error it was on the executor: a bad row is the data layer's message, not a trace. */
    static IOException unwrap(Exception e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof DataException d) {
                throw d;
            }
            if (c instanceof IOException io) {
                return io;
            }
            if (c instanceof IllegalStateException || c instanceof IllegalArgumentException) {
                throw (RuntimeException) c;
            }
        }
        return new IOException("the Spark job failed: " + e.getMessage(), e);
    }
}
