package arenakit.spark;

import arenakit.data.Winner;
import arenakit.train.PseudoLabels;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Serializable;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * One model's predictions of one partition, {@code <work>/parts/<model>/part-00007.csv}, in the single-process
 * stage's chunk format ({@code id, winner_model_a, winner_model_b, winner_tie, logit_a, logit_b, logit_tie};
 * floats written so they read back exactly). A file is written under a temporary name and renamed when complete,
 * so it exists only whole: a re-run keeps every partition that has its file and redoes only the others. (On an
 * object store without renames, S3 for instance, a file appears only once its upload completed, to the same end.)
 */
final class PartFiles implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final List<String> COLUMNS = List.of("id", Winner.A.column(), Winner.B.column(),
            Winner.TIE.column(), "logit_a", "logit_b", "logit_tie");
    private static final CsvMapper CSV = new CsvMapper();
    private final String work;
    private final HadoopConf conf;

    PartFiles(String work, HadoopConf conf) {
        this.work = work;
        this.conf = conf;
    }

    Path file(String model, int partition) {
        return new Path(work, String.format(Locale.ROOT, "parts/%s/part-%05d.csv", safe(model), partition));
    }

    /** The folder name of a model: its stage name, or a folder path with the separators replaced. */
    static String safe(String model) {
        return model.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    boolean exists(String model, int partition) throws IOException {
        Path f = file(model, partition);
        return conf.fs(f).exists(f);
    }

    void write(String model, int partition, List<PseudoLabels.Label> labels, String attempt) throws IOException {
        Path target = file(model, partition);
        FileSystem fs = conf.fs(target);
        Path tmp = new Path(target.getParent(), "_tmp/" + target.getName() + "." + attempt);
        try (FSDataOutputStream stream = fs.create(tmp, true);
                Writer w = new OutputStreamWriter(stream, StandardCharsets.UTF_8)) {
            CsvSchema schema = CsvSchema.builder().addColumns(COLUMNS, CsvSchema.ColumnType.STRING).build()
                    .withHeader();
            try (var seq = CSV.writer(schema).writeValues(w)) {
                for (PseudoLabels.Label l : labels) {
                    float[] p = l.probs();
                    float[] z = l.logits();
                    seq.write(List.of(l.id(), Float.toString(p[0]), Float.toString(p[1]), Float.toString(p[2]),
                            Float.toString(z[0]), Float.toString(z[1]), Float.toString(z[2])));
                }
            }
        }
        if (!fs.rename(tmp, target)) {
            // a speculative copy of this task finished first: same rows, same model, same numbers
            fs.delete(tmp, false);
            if (!fs.exists(target)) {
                throw new IOException("could not rename " + tmp + " to " + target);
            }
        }
    }

    List<PseudoLabels.Label> read(String model, int partition) throws IOException {
        Path f = file(model, partition);
        List<PseudoLabels.Label> out = new ArrayList<>();
        try (var in = new InputStreamReader(conf.fs(f).open(f), StandardCharsets.UTF_8);
                MappingIterator<Map<String, String>> it = CSV.readerFor(Map.class)
                        .with(CsvSchema.emptySchema().withHeader()).readValues(in)) {
            long line = 1;
            while (it.hasNextValue()) {
                Map<String, String> row = it.nextValue();
                line++;
                float[] p = new float[3];
                float[] z = new float[3];
                for (int k = 0; k < 3; k++) {
                    p[k] = number(f, line, COLUMNS.get(1 + k), row);
                    z[k] = number(f, line, COLUMNS.get(4 + k), row);
                }
                out.add(new PseudoLabels.Label(row.get("id"), p, z));
            }
        }
        return out;
    }

    private static float number(Path f, long line, String column, Map<String, String> row) throws IOException {
        String v = row.get(column);
        try {
            float x = Float.parseFloat(v);
            if (Float.isFinite(x)) {
                return x;
            }
        } catch (NumberFormatException | NullPointerException e) {
            // reported below
        }
        throw new IOException(f + " line " + line + ", column " + column + ": '" + v + "' is not a number (delete "
                + "the file and re-run: only its partition is redone)");
    }
}
