package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file format of pseudo-labels (their generation, averaging and resumable chunks: arenakit.infer.EnsembleTest).
 */
class PseudoLabelsTest {
    @TempDir
    Path dir;

    @Test
    void labelsSurviveTheCsvIncludingIdsWithCommas() throws IOException {
        List<PseudoLabels.Label> labels = List.of(new PseudoLabels.Label("id,6", new float[] {0.5f, 0.25f, 0.25f},
                new float[] {(float) Math.log(0.5), (float) Math.log(0.25), (float) Math.log(0.25)}));
        Path f = dir.resolve("pseudo_labels.csv");
        PseudoLabels.write(f, labels);
        List<PseudoLabels.Label> back = PseudoLabels.read(f);
        assertEquals("id,6", back.get(0).id());
        assertArrayEquals(labels.get(0).probs(), back.get(0).probs(), 0f);
        assertArrayEquals(labels.get(0).logits(), back.get(0).logits(), 0f);
    }

    @Test
    void leftOutIdsRoundTripAndNoneRemovesTheFile() throws IOException {
        PseudoLabels.writeLeftOut(dir, List.of("a", "b,c"));
        assertEquals(Set.of("a", "b,c"), PseudoLabels.leftOut(dir));
        PseudoLabels.writeLeftOut(dir, List.of());
        assertTrue(Files.notExists(dir.resolve(PseudoLabels.LEFT_OUT)));
        assertEquals(Set.of(), PseudoLabels.leftOut(dir));
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
