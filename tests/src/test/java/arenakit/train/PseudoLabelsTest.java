package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.infer.Predictions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ensemble averaging, chunked resume and the file format of pseudo-labels, with predictors whose output is known. */
class PseudoLabelsTest {
    @TempDir
    Path dir;

    private static List<Conversation> rows(int n) {
        List<Conversation> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Conversation("id," + i, null, null, List.of(new Turn("q" + i, "a", "b")), null, 0));
        }
        return out;
    }

    /** "Model" k predicts (k, 1, 1) / (k + 2) for every row and counts the rows it was asked about. */
    private static PseudoLabels.Opener constant(AtomicInteger predicted) {
        return name -> new PseudoLabels.ModelPredictor() {
            @Override
            public Predictions predict(List<Conversation> chunk) {
                predicted.addAndGet(chunk.size());
                double k = Double.parseDouble(name);
                double[][] p = new double[chunk.size()][];
                double[][] z = new double[chunk.size()][];
                for (int i = 0; i < p.length; i++) {
                    p[i] = new double[] {k / (k + 2), 1 / (k + 2), 1 / (k + 2)};
                    z[i] = new double[] {Math.log(p[i][0]), Math.log(p[i][1]), Math.log(p[i][2])};
                }
                return new Predictions(chunk.stream().map(Conversation::id).toList(), p, z);
            }

            @Override
            public void close() {}
        };
    }

    @Test
    void averagesModelsAndResumesByChunk() throws IOException {
        List<Conversation> rows = rows(7);
        AtomicInteger predicted = new AtomicInteger();
        List<PseudoLabels.Label> labels = PseudoLabels.generate(rows, List.of("1", "2"), constant(predicted), dir, 3,
                s -> {});
        assertEquals(14, predicted.get());
        // average of (1,1,1)/3 and (2,1,1)/4
        float[] expected = {(1f / 3 + 0.5f) / 2, (1f / 3 + 0.25f) / 2, (1f / 3 + 0.25f) / 2};
        assertArrayEquals(expected, labels.get(6).probs(), 1e-6f);
        assertArrayEquals(new float[] {(float) Math.log(expected[0]), (float) Math.log(expected[1]),
                (float) Math.log(expected[2])}, labels.get(6).logits(), 1e-6f);
        assertEquals("id,6", labels.get(6).id()); // ids with commas survive the CSV
        assertEquals(labels.size(), PseudoLabels.read(dir.resolve("pseudo_labels.csv")).size());

        // an interruption lost model 2's last chunk: only those rows are predicted again
        Files.delete(dir.resolve("chunks/2/chunk-00002.csv"));
        predicted.set(0);
        List<PseudoLabels.Label> again = PseudoLabels.generate(rows, List.of("1", "2"), constant(predicted), dir, 3,
                s -> {});
        assertEquals(1, predicted.get());
        assertArrayEquals(labels.get(6).probs(), again.get(6).probs(), 0f);
    }

    @Test
    void changedInputIsRefusedNotMixed() throws IOException {
        PseudoLabels.generate(rows(4), List.of("1"), constant(new AtomicInteger()), dir, 2, s -> {});
        List<Conversation> other = new ArrayList<>(rows(4));
        other.set(1, new Conversation("new", null, null, List.of(new Turn("q", "a", "b")), null, 0));
        IOException e = assertThrows(IOException.class, () -> PseudoLabels.generate(other, List.of("1"),
                constant(new AtomicInteger()), dir, 2, s -> {}));
        assertTrue(e.getMessage().contains("has id id,1 but the input row there is new"), e.getMessage());
    }

    @Test
    void badNumberNamesFileLineAndColumn() throws IOException {
        Path f = dir.resolve("bad.csv");
        Files.writeString(f, "id,winner_model_a,winner_model_b,winner_tie,logit_a,logit_b,logit_tie\n"
                + "1,0.2,0.3,0.5,-1,-1,-1\n2,0.2,x,0.5,-1,-1,-1\n");
        IOException e = assertThrows(IOException.class, () -> PseudoLabels.read(f));
        assertTrue(e.getMessage().contains("bad.csv line 3, column winner_model_b: 'x' is not a number"),
                e.getMessage());
    }
}
