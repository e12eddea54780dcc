package arenakit.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.DataException;
import arenakit.data.KaggleCsv;
import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.Pipeline;
import arenakit.train.PseudoLabels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark job on local[2] against the single-process pseudo-label stage on the smoke setup (its three-backbone
 * ensemble of stage-1 models, trained once for the class: Gemma-2, Llama, Qwen2, each encoding with its own tokenizer
 * and template): same ids in the same order, probabilities and logits within 1e-6; per-partition resume; the data
 * layer's messages for bad rows in CSV and Parquet; the pipeline's switch.
 */
class SparkPseudoLabelsTest {
    /** Small enough that the 60 preference pairs spread over several length buckets and partitions. */
    private static final long PARTITION_TOKENS = 1500;
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path out;
    static ConfigFolder smoke;
    static List<PseudoLabels.Label> reference;
    static Path preference;

    @BeforeAll
    static void trainAndLabelInOneProcess() throws IOException {
        out = dir.resolve("out");
        smoke = ConfigFolder.of("smoke");
        try (Pipeline p = Pipeline.open(smoke, out, s -> {})) {
            for (String stage : p.stagesBefore("pseudo_labels")) { // the stage-1 model of each backbone
                p.runStage(stage, 0);
            }
            p.runStage("pseudo_labels", 0);
        }
        reference = PseudoLabels.read(out.resolve("pseudo_labels/pseudo_labels.csv"));
        preference = out.resolve("data/preference.csv");
        spark = SparkSessions.start("local[2]", Map.of("spark.sql.shuffle.partitions", "4",
                "spark.default.parallelism", "2"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static SparkPseudoLabels.Job job(List<String> inputs, Path output, String format, String work) {
        return new SparkPseudoLabels.Job(smoke, out, "pseudo_labels", inputs, output.toUri().toString(), format, work,
                PARTITION_TOKENS, null);
    }

    private static List<PseudoLabels.Label> labels(Path output, String format) {
        List<PseudoLabels.Label> got = new ArrayList<>();
        for (Row r : spark.read().format(format).option("header", "true")
                .schema("id string, winner_model_a float, winner_model_b float, winner_tie float, logit_a float, "
                        + "logit_b float, logit_tie float").load(output.toString()).collectAsList()) {
            got.add(new PseudoLabels.Label(r.getString(0), new float[] {r.getFloat(1), r.getFloat(2), r.getFloat(3)},
                    new float[] {r.getFloat(4), r.getFloat(5), r.getFloat(6)}));
        }
        return got;
    }

    private static void assertSameLabels(List<PseudoLabels.Label> expected, List<PseudoLabels.Label> got) {
        assertEquals(expected.stream().map(PseudoLabels.Label::id).toList(),
                got.stream().map(PseudoLabels.Label::id).toList(), "same ids, in input order");
        double dp = 0;
        double dz = 0;
        for (int i = 0; i < expected.size(); i++) {
            for (int k = 0; k < 3; k++) {
                dp = Math.max(dp, Math.abs(expected.get(i).probs()[k] - got.get(i).probs()[k]));
                dz = Math.max(dz, Math.abs(expected.get(i).logits()[k] - got.get(i).logits()[k]));
            }
        }
        System.out.printf("spark vs single process: %d rows, largest |dp| %.2g, largest |dlogit| %.2g%n", got.size(),
                dp, dz);
        assertTrue(dp <= 1e-6, "largest probability difference " + dp);
        assertTrue(dz <= 1e-5, "largest logit difference " + dz);
    }

    @Test
    void equalsTheSingleProcessStageAndResumesByPartition() throws IOException {
        Path output = dir.resolve("labels");
        SparkPseudoLabels.Result first = SparkPseudoLabels.run(spark, job(List.of(), output, "parquet", null), s -> {});
        assertTrue(first.partitions() > 2, "several length buckets / partitions: " + first.partitions());
        assertSameLabels(reference, labels(output, "parquet"));

        // a failed run lost two partitions: only those are predicted again, and the result is the same
        Path parts = dir.resolve("labels.work/parts/stage1");
        List<Path> files;
        try (Stream<Path> s = Files.list(parts)) {
            files = s.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList();
        }
        assertEquals(first.partitions(), files.size());
        Files.delete(files.get(0));
        Files.delete(files.get(files.size() - 1));
        SparkPseudoLabels.Result again = SparkPseudoLabels.run(spark, job(List.of(), output, "parquet", null), s -> {});
        assertEquals(2, again.passes().get("stage1").predicted());
        assertEquals(first.partitions() - 2, again.passes().get("stage1").kept());
        assertSameLabels(reference, labels(output, "parquet"));

        // other settings over the same partial results are refused, not mixed
        IOException e = assertThrows(IOException.class, () -> SparkPseudoLabels.run(spark,
                new SparkPseudoLabels.Job(smoke, out, "pseudo_labels", List.of(), output.toUri().toString(), "parquet",
                        null, PARTITION_TOKENS * 2, null), s -> {}));
        assertTrue(e.getMessage().contains("plan.json was written for other partition_tokens"),
                e.getMessage());
    }

    @Test
    void parquetInputAndCsvOutputGiveTheSameLabels() throws IOException {
        Path pq = dir.resolve("pairs-parquet");
        spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"")
                .csv(preference.toString()).write().parquet(pq.toString());
        Path output = dir.resolve("labels-csv");
        SparkPseudoLabels.run(spark, job(List.of(pq.toString()), output, "csv", null), s -> {});
        assertSameLabels(reference, labels(output, "csv"));
    }

    @Test
    void aBadCsvRowStopsTheJobWithTheDataLayersMessage() throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(preference));
        lines.set(3, lines.get(3).replaceFirst("\\[", "["  + "\"unclosed,"));
        Path bad = dir.resolve("bad/pairs.csv");
        Files.createDirectories(bad.getParent());
        Files.write(bad, lines);
        DataException expected = assertThrows(DataException.class, () -> KaggleCsv.read(bad));
        DataException e = assertThrows(DataException.class, () -> SparkPseudoLabels.run(spark,
                job(List.of(bad.getParent().toString()), dir.resolve("bad-out"), "parquet", null), s -> {}));
        assertEquals(expected.getMessage(), e.getMessage());
    }

    @Test
    void aBadParquetRowIsNamedByFileRowIdAndColumn() {
        Path pq = dir.resolve("bad-parquet");
        spark.createDataFrame(List.of(org.apache.spark.sql.RowFactory.create("p1", "[\"q\"]", "[\"a\"]", "[\"b\"]"),
                org.apache.spark.sql.RowFactory.create("p2", "[\"q\"", "[\"a\"]", "[\"b\"]")),
                new org.apache.spark.sql.types.StructType().add("id", "string").add("prompt", "string")
                        .add("chosen", "string").add("rejected", "string"))
                .coalesce(1).write().parquet(pq.resolve("rows").toString());
        DataException e = assertThrows(DataException.class, () -> SparkPseudoLabels.run(spark,
                job(List.of(pq.resolve("rows").toString()), dir.resolve("bad-pq-out"), "parquet", null), s -> {}));
        assertTrue(e.getMessage().matches(".*rows/part-[^ ]*\\.parquet row 2 \\(id p2\\) column prompt: malformed JSON.*"),
                e.getMessage());
    }

    @Test
    void anIdInTwoFilesIsRefused() throws IOException {
        Path copy = dir.resolve("twice/more.csv");
        Files.createDirectories(copy.getParent());
        Files.copy(preference, copy);
        DataException e = assertThrows(DataException.class, () -> SparkPseudoLabels.run(spark,
                job(List.of(preference.toString(), copy.toString()), dir.resolve("twice-out"), "parquet", null),
                s -> {}));
        assertTrue(e.getMessage().contains("column id: duplicate id (" + preference + " line "), e.getMessage());
        assertTrue(e.getMessage().contains(" and " + copy + " line "), e.getMessage());
    }

    @Test
    void thePipelineStageRunsThroughSparkWithOneSwitch() throws IOException {
        Path setup = smoke.copyTo(dir.resolve("smoke-spark"));
        Path config = setup.resolve("pseudo_labels.json");
        Files.writeString(config, Files.readString(config).replace("\"spark\": null",
                "\"spark\": {\"master\": \"local[2]\", \"partition_tokens\": " + PARTITION_TOKENS + "}"));
        Path out2 = dir.resolve("out-spark");
        for (String d : List.of("data", "base-model", "base-model-llama", "base-model-qwen2", "stage1", "llama_stage1",
                "qwen_stage1")) {
            arenakit.util.Folders.copyTree(out.resolve(d), out2.resolve(d));
        }
        try (Pipeline p = Pipeline.open(ConfigFolder.of(setup.toString()), out2, s -> {})) {
            p.runStage("pseudo_labels", 0);
        }
        assertSameLabels(reference, PseudoLabels.read(out2.resolve("pseudo_labels/pseudo_labels.csv")));
        assertTrue(Files.isDirectory(out2.resolve("pseudo_labels/spark/work/parts/stage1")));
    }

    /** The jbang scripts name Spark's version in their //DEPS (jbang reads no pom): the one the module is built on. */
    @Test
    void theScriptsAskForTheSparkTheModuleIsBuiltOn() throws IOException {
        Path home = Path.of(System.getProperty("arena.home"));
        for (String script : List.of("spark-pseudo-labels.java", "bench-spark.java")) {
            String text = Files.readString(home.resolve("jbang-scripts").resolve(script));
            assertTrue(text.contains("//DEPS org.apache.spark:spark-sql_2.13:" + spark.version() + "\n"), script);
        }
    }
}
