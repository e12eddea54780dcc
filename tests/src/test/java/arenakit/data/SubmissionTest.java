package arenakit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubmissionTest {
    @TempDir
    Path tmp;

    @Test
    void clipsAndRenormalises() {
        double[] p = Submission.normalise(new double[] {1, 0, 0}, 1e-3);
        assertEquals(1.0, p[0] + p[1] + p[2], 1e-12);
        assertTrue(p[1] > 0 && p[2] > 0 && p[0] < 1);
        assertArrayEquals(new double[] {0.2 / 1.1, 0.3 / 1.1, 0.6 / 1.1},
                Submission.normalise(new double[] {0.2, 0.3, 0.6}, 1e-6), 1e-12);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Submission.normalise(new double[] {Double.NaN, 0.5, 0.5}, 1e-6));
        assertTrue(e.getMessage().contains("winner_model_a"));
    }

    @Test
    void writesInSampleOrderAndValidates() throws IOException {
        var files = SampleGenerator.write(tmp.resolve("d"), SampleGenerator.Options.defaults().withRows(5, 20, 0, 0));
        List<String> order = Submission.readIds(files.sampleSubmission());
        Map<String, double[]> predictions = new HashMap<>();
        for (String id : order) {
            predictions.put(id, new double[] {0.7, 0.2, 0.1});
        }
        Path out = tmp.resolve("submission.csv");
        Submission.write(out, predictions, files.test(), files.sampleSubmission());
        assertEquals(order, Submission.readIds(out));
        Submission.Report r = Submission.validate(out, files.test(), files.sampleSubmission());
        assertEquals(20, r.rows());
        assertEquals(0.7, r.mean()[0], 1e-9);
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp file left");
        }

        predictions.remove(order.get(3));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Submission.write(out, predictions, files.test(), files.sampleSubmission()));
        assertTrue(missing.getMessage().contains(order.get(3)), missing.getMessage());
    }

    @Test
    void validateNamesTheBadRow() throws IOException {
        var files = SampleGenerator.write(tmp.resolve("d"), SampleGenerator.Options.defaults().withRows(5, 3, 0, 0));
        List<String> ids = Submission.readIds(files.sampleSubmission());
        String header = "id,winner_model_a,winner_model_b,winner_tie\n";
        Path sum = Files.writeString(tmp.resolve("sum.csv"), header + ids.get(0) + ",0.5,0.5,0.5\n"
                + ids.get(1) + ",0.2,0.3,0.5\n" + ids.get(2) + ",0.2,0.3,0.5\n");
        DataException e = assertThrows(DataException.class,
                () -> Submission.validate(sum, files.test(), files.sampleSubmission()));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("sum to 1.5"), e.getMessage());

        // lines are the file's own, also where blank lines (skipped by the reader) sit between records
        Path gap = Files.writeString(tmp.resolve("gap.csv"), header + "\n" + ids.get(0) + ",0.2,0.3,0.5\n"
                + ids.get(1) + ",0.2,0.3,0.6\n" + ids.get(2) + ",0.2,0.3,0.5\n");
        DataException g = assertThrows(DataException.class,
                () -> Submission.validate(gap, files.test(), files.sampleSubmission()));
        assertEquals(4, g.line(), g.getMessage());
        assertEquals(ids.get(1), g.id());
        Path gapOrder = Files.writeString(tmp.resolve("gap-order.csv"), header + ids.get(0) + ",0.2,0.3,0.5\n\n"
                + ids.get(2) + ",0.2,0.3,0.5\n" + ids.get(1) + ",0.2,0.3,0.5\n");
        DataException go = assertThrows(DataException.class,
                () -> Submission.validate(gapOrder, files.test(), files.sampleSubmission()));
        assertEquals(4, go.line(), go.getMessage());

        Path order = Files.writeString(tmp.resolve("order.csv"), header + ids.get(1) + ",0.2,0.3,0.5\n"
                + ids.get(0) + ",0.2,0.3,0.5\n" + ids.get(2) + ",0.2,0.3,0.5\n");
        DataException o = assertThrows(DataException.class,
                () -> Submission.validate(order, files.test(), files.sampleSubmission()));
        assertTrue(o.getMessage().contains("order"), o.getMessage());

        Path nan = Files.writeString(tmp.resolve("nan.csv"), header + ids.get(0) + ",NaN,0.3,0.5\n"
                + ids.get(1) + ",0.2,0.3,0.5\n" + ids.get(2) + ",0.2,0.3,0.5\n");
        DataException n = assertThrows(DataException.class,
                () -> Submission.validate(nan, files.test(), files.sampleSubmission()));
        assertEquals("winner_model_a", n.column());
    }
}
