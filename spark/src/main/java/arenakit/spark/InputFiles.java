package arenakit.spark;

import arenakit.data.Conversation;
import arenakit.data.DataException;
import arenakit.data.DataKind;
import arenakit.data.KaggleCsv;
import arenakit.data.RowReader;
import arenakit.pipeline.PseudoLabelPredictor;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.util.CollectionAccumulator;

/**
 * The job's input: unlabeled preference pairs ({@code id, prompt, chosen, rejected}) or test rows ({@code id,
 * prompt, response_a, response_b}; train-shaped files are read too), as CSV or Parquet files on any Hadoop path
 * (a file, a folder of them, or a glob), validated by the data layer row by row.
 *
 * <p>A CSV is read by one task from start to end (a quoted cell may span lines, so a file cannot be split, as with
 * Spark's own multi-line CSV) through {@link KaggleCsv#stream}: the data layer's strict UTF-8, header check and
 * per-cell rules. Parquet files are read in parallel splits, each row through the same {@link RowReader}. A bad
 * row stops the job with the data layer's message (file, line or row, id, column); nothing is dropped. Preference
 * pairs get their sides from the pipeline's seeded coin ({@link PseudoLabelPredictor#unlabeled}), as in the
 * single-process stage.
 */
final class InputFiles implements Serializable {
    private static final long serialVersionUID = 1L;
    private final List<String> files;

    private InputFiles(List<String> files) {
        this.files = List.copyOf(files);
    }

    /** Every file the inputs name, in order (a folder: its .csv and .parquet files, sorted by name). */
    static InputFiles list(List<String> inputs, HadoopConf conf) throws IOException {
        List<String> files = new ArrayList<>();
        for (String input : inputs) {
            Path p = new Path(input);
            FileSystem fs = conf.fs(p);
            FileStatus[] found = fs.globStatus(p);
            if (found == null || found.length == 0) {
                throw new IOException("input " + input + ": no such file or folder");
            }
            List<String> here = new ArrayList<>();
            for (FileStatus s : found) {
                if (s.isDirectory()) {
                    for (FileStatus f : fs.listStatus(s.getPath())) {
                        String name = f.getPath().getName();
                        if (f.isFile() && !name.startsWith("_") && !name.startsWith(".") && format(name) != null) {
                            here.add(fs.makeQualified(f.getPath()).toString());
                        }
                    }
                } else if (format(s.getPath().getName()) == null) {
                    throw new IOException("input " + s.getPath() + ": expected a .csv or .parquet file");
                } else {
                    here.add(fs.makeQualified(s.getPath()).toString());
                }
            }
            if (here.isEmpty()) {
                throw new IOException("input " + input + ": no .csv or .parquet files in it");
            }
            here.sort(null);
            files.addAll(here);
        }
        return new InputFiles(files);
    }

    List<String> files() {
        return files;
    }

    /** "csv", "parquet", or null for anything else. */
    static String format(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".csv") ? "csv" : n.endsWith(".parquet") ? "parquet" : null;
    }

    /** Where a row came from, as messages name it: "pairs.csv line 12", "part-0.parquet row 7". */
    String place(int source, long line) {
        String f = shown(files.get(source));
        return f + (format(f).equals("csv") ? " line " : " row ") + line;
    }

    /** A local file as a plain path (what the single-process stage prints), anything else as its URI. */
    static String shown(String uri) {
        return uri.startsWith("file:") ? new Path(uri).toUri().getPath() : uri;
    }

    /** The validated rows of every file; repairs the data layer made are added to {@code repairs}. */
    JavaRDD<PairRow> read(SparkSession spark, HadoopConf conf, CollectionAccumulator<String> repairs) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Integer> csv = new ArrayList<>();
        JavaRDD<PairRow> out = null;
        for (int i = 0; i < files.size(); i++) {
            if (format(files.get(i)).equals("csv")) {
                csv.add(i);
            } else {
                JavaRDD<PairRow> rows = parquet(spark, i, conf, repairs);
                out = out == null ? rows : out.union(rows);
            }
        }
        if (!csv.isEmpty()) {
            List<String> names = files;
            JavaRDD<PairRow> rows = sc.parallelize(csv, csv.size())
                    .flatMap(i -> csv(names.get(i), i, conf, repairs).iterator());
            out = out == null ? rows : rows.union(out);
        }
        return out;
    }

    private static List<PairRow> csv(String uri, int source, HadoopConf conf, CollectionAccumulator<String> repairs)
            throws IOException {
        Path path = new Path(uri);
        java.nio.file.Path name = java.nio.file.Path.of(shown(uri));
        List<PairRow> rows = new ArrayList<>();
        RowReader reader;
        try {
            reader = KaggleCsv.stream(conf.fs(path).open(path), name, c -> rows.add(PairRow.of(c, source, c.line())));
        } catch (DataException e) {
            throw located(e, name.toString(), shown(uri));
        } catch (UncheckedIOException e) {
            throw new IOException("reading " + uri + ": " + e.getCause().getMessage(), e.getCause());
        }
        if (reader.kind() == DataKind.PREFERENCE) {
            rows.replaceAll(r -> PairRow.of(PseudoLabelPredictor.unlabeled(r.conversation()), source, r.line));
        }
        if (!reader.repairs().isEmpty()) {
            repairs.add(shown(uri) + ": " + reader.repairs().toString().replace("\n", "; "));
        }
        return rows;
    }

    /** The data layer names a file by a local path; a Hadoop URI that does not survive as one is put back. */
    private static DataException located(DataException e, String given, String real) {
        return given.equals(real) ? e : new SourceException(e, given, real);
    }

    private JavaRDD<PairRow> parquet(SparkSession spark, int source, HadoopConf conf,
            CollectionAccumulator<String> repairs) {
        String uri = files.get(source);
        Dataset<Row> df = spark.read().parquet(uri);
        List<String> columns = Arrays.asList(df.columns());
        DataKind kind = RowReader.forHeader(java.nio.file.Path.of(shown(uri)), columns).kind();
        List<Column> cells = new ArrayList<>();
        for (String c : kind.columns()) {
            cells.add(functions.col(c).cast("string"));
        }
        cells.add(functions.col("_metadata.row_index").alias("_row_index"));
        String shown = shown(uri);
        return df.select(cells.toArray(Column[]::new)).javaRDD().mapPartitions(it -> {
            // one reader per task: ids are checked against each other here, and across files by the job
            RowReader reader = RowReader.of(java.nio.file.Path.of("parquet"), kind);
            List<PairRow> rows = new ArrayList<>();
            while (it.hasNext()) {
                Row r = it.next();
                String[] values = new String[kind.columns().size()];
                for (int k = 0; k < values.length; k++) {
                    values[k] = r.getString(k);
                }
                long row = r.getLong(values.length) + 1;
                Conversation c;
                try {
                    c = reader.read(0, values);
                } catch (DataException e) {
                    throw new SourceException(e, "parquet", shown + " row " + row);
                }
                if (kind == DataKind.PREFERENCE) {
                    c = PseudoLabelPredictor.unlabeled(c);
                }
                rows.add(PairRow.of(c, source, row));
            }
            if (!reader.repairs().isEmpty()) {
                repairs.add(shown + ": " + reader.repairs().toString().replace("\n", "; "));
            }
            return rows.iterator();
        });
    }

    /** Ids that occur more than once across all files, with where (the first few). */
    static Map<String, String> duplicates(JavaRDD<PairRow> rows, InputFiles files, int show) {
        List<scala.Tuple2<String, Places>> dup = rows
                .mapToPair(r -> new scala.Tuple2<>(r.id, new Places(1, r.source, r.line, -1, 0)))
                .reduceByKey(Places::merge)
                .filter(t -> t._2().count > 1)
                .take(show);
        Map<String, String> out = new HashMap<>();
        for (scala.Tuple2<String, Places> t : dup) {
            Places p = t._2();
            out.put(t._1(), files.place(p.source1, p.line1) + " and " + files.place(p.source2, p.line2)
                    + (p.count > 2 ? " (" + p.count + " times in all)" : ""));
        }
        return out;
    }

    /** How often an id occurs, and its first two places in input order. */
    record Places(long count, int source1, long line1, int source2, long line2) implements Serializable {
        static Places merge(Places x, Places y) {
            List<long[]> all = new ArrayList<>(List.of(new long[] {x.source1, x.line1}, new long[] {y.source1, y.line1}));
            if (x.source2 >= 0) {
                all.add(new long[] {x.source2, x.line2});
            }
            if (y.source2 >= 0) {
                all.add(new long[] {y.source2, y.line2});
            }
            all.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
            return new Places(x.count + y.count, (int) all.get(0)[0], all.get(0)[1], (int) all.get(1)[0],
                    all.get(1)[1]);
        }
    }
}
