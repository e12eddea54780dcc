package arenakit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleGeneratorTest {
    @TempDir
    Path tmp;

    static final SampleGenerator.Options SMALL = SampleGenerator.Options.defaults().withRows(2000, 60, 300, 100);

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        var a = SampleGenerator.write(tmp.resolve("a"), SMALL);
        var b = SampleGenerator.write(tmp.resolve("b"), SMALL);
        var c = SampleGenerator.write(tmp.resolve("c"), SMALL.withSeed(7));
        for (String f : List.of("train.csv", "test.csv", "sample_submission.csv", "solution.csv", "lmsys-33k.csv",
                "preference.csv")) {
            assertEquals(-1L, Files.mismatch(tmp.resolve("a").resolve(f), tmp.resolve("b").resolve(f)), f);
        }
        assertNotEquals(-1L, Files.mismatch(a.train(), c.train()));
        assertEquals(-1L, Files.mismatch(a.train(), b.train()));
    }

    @Test
    void filesAreValidKaggleFilesWithTheRealDataQuirks() throws IOException {
        var files = SampleGenerator.write(tmp, SMALL);
        DataSet train = KaggleCsv.readTrain(files.train());
        DataSet test = KaggleCsv.readTest(files.test());
        DataSet external = KaggleCsv.readExternal(files.external());
        DataSet pref = PreferencePairs.read(files.preference());
        for (DataSet d : List.of(train, test, external, pref)) {
            assertTrue(d.repairs().isEmpty(), d.file() + ": " + d.repairs());
        }
        assertEquals(List.of(2000, 60, 300, 100), List.of(train.size(), test.size(), external.size(), pref.size()));
        Submission.checkTestIds(test, Submission.readIds(files.sampleSubmission()), files.sampleSubmission());
        assertEquals(Submission.readIds(files.sampleSubmission()), Submission.readIds(files.solution()));

        DataSummary s = train.summary();
        assertEquals(0.35, s.labels().get("A") / 2000.0, 0.03);
        assertEquals(0.34, s.labels().get("B") / 2000.0, 0.03);
        assertEquals(0.31, s.labels().get("TIE") / 2000.0, 0.03);
        assertEquals(0.15, s.multiTurnRows() / 2000.0, 0.03);
        assertTrue(s.nullElements() > 0 && s.emptyElements() > 0 && s.identicalResponses() > 0, s.toText());
        Set<String> models = new HashSet<>();
        train.rows().forEach(r -> {
            models.add(r.modelA());
            models.add(r.modelB());
        });
        assertTrue(models.size() >= 30, "model names: " + models.size());
        String raw = Files.readString(files.train());
        assertTrue(raw.contains("\\\"") && raw.contains("\\\\") && raw.contains("\\/") && raw.contains("\\ud83d")
                && raw.contains("\\u00e9"), "escapes and unicode present in the written JSON");
        Set<List<String>> trainPrompts = new HashSet<>();
        train.rows().forEach(r -> trainPrompts.add(prompts(r)));
        long shared = external.rows().stream().filter(r -> trainPrompts.contains(prompts(r))).count();
        assertTrue(shared > 20, "external rows repeating a train prompt: " + shared);
        assertTrue(pref.rows().stream().noneMatch(Conversation::labeled));

        var table = train.table();
        assertEquals(2000, table.rowCount());
        assertEquals(List.of("id", "model_a", "model_b", "turns", "prompt", "response_a", "response_b", "winner",
                "line"), table.columnNames());
        assertEquals(s.labels().get("TIE"), table.stringColumn("winner").isEqualTo("TIE").size());
        assertEquals(s.turns(), (long) table.intColumn("turns").sum());
        assertEquals(train.rows().get(5).id(), table.stringColumn("id").get(5));
    }

    @Test
    void preferencePairsBecomeUnlabeledPairsWithSeededRandomSides() {
        List<Conversation> pairs = SampleGenerator.generate(SMALL).preference();
        List<PreferencePairs.UnlabeledPair> u = PreferencePairs.unlabeled(pairs, 11);
        assertEquals(u, PreferencePairs.unlabeled(pairs, 11));
        long onA = u.stream().filter(p -> p.chosenSide() == Winner.A).count();
        assertTrue(onA > 30 && onA < 70, "chosen on side A in " + onA + " of 100");
        for (int i = 0; i < pairs.size(); i++) {
            Conversation c = u.get(i).conversation();
            assertTrue(!c.labeled());
            Turn original = pairs.get(i).turns().get(0);
            Turn placed = c.turns().get(0);
            assertEquals(original.responseA(), u.get(i).chosenSide() == Winner.A ? placed.responseA()
                    : placed.responseB(), "chosen response is where chosenSide says");
        }
        // a pair's side depends on its id and the seed only
        assertEquals(u.get(7), PreferencePairs.unlabeled(pairs.subList(7, 8), 11).get(0));
    }

    @Test
    void optionsCanBeChangedByNameAsConfigsDo() {
        SampleGenerator.Options o = SMALL.with(Map.of("multiTurnShare", 0.5, "maxTurns", 6));
        assertEquals(0.5, o.multiTurnShare());
        assertEquals(6, o.maxTurns());
        assertEquals(SMALL.trainRows(), o.trainRows());
        IllegalArgumentException unknown = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> SMALL.with(Map.of("multiturnShare", 0.5)));
        assertTrue(unknown.getMessage().contains("multiturnShare"), unknown.getMessage());
        IllegalArgumentException range = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> SMALL.with(Map.of("signal", 1.5)));
        assertTrue(range.getMessage().contains("signal"), range.getMessage());
    }

    /**
     * The planted signal is learnable from text alone: a lookup table over one crude feature (which response is
     * much longer, or empty) fitted on 1,500 rows beats the class prior clearly on 500 held-out rows, and does not
     * when the signal is switched off.
     */
    @Test
    void plantedSignalIsLearnableAndSwitchable() {
        double withSignal = heldOutLogLoss(SampleGenerator.generate(SMALL).train());
        double noSignal = heldOutLogLoss(SampleGenerator.generate(SMALL.withSignal(0, 0.5)).train());
        assertTrue(withSignal < 0.85, "log loss with signal " + withSignal);
        assertTrue(noSignal > 1.05, "log loss without signal " + noSignal);
    }

    private static double heldOutLogLoss(List<Conversation> rows) {
        Map<String, int[]> counts = new java.util.HashMap<>();
        for (Conversation c : rows.subList(0, 1500)) {
            counts.computeIfAbsent(feature(c), k -> new int[] {1, 1, 1})[c.winner().ordinal()]++;
        }
        double loss = 0;
        List<Conversation> held = rows.subList(1500, rows.size());
        for (Conversation c : held) {
            int[] k = counts.getOrDefault(feature(c), new int[] {1, 1, 1});
            loss -= Math.log(k[c.winner().ordinal()] / (double) (k[0] + k[1] + k[2]));
        }
        return loss / held.size();
    }

    private static String feature(Conversation c) {
        int a = 0;
        int b = 0;
        boolean emptyA = false;
        boolean emptyB = false;
        for (Turn t : c.turns()) {
            a += t.responseA() == null ? 0 : t.responseA().length();
            b += t.responseB() == null ? 0 : t.responseB().length();
            emptyA |= t.responseA() == null || t.responseA().isEmpty();
            emptyB |= t.responseB() == null || t.responseB().isEmpty();
        }
        if (emptyA != emptyB) {
            return emptyA ? "emptyA" : "emptyB";
        }
        if (Objects.equals(c.turns().stream().map(Turn::responseA).toList(),
                c.turns().stream().map(Turn::responseB).toList())) {
            return "same";
        }
        return a > 2 * b ? "A" : b > 2 * a ? "B" : a > 60 * c.turns().size() ? "both long" : "both short";
    }

    private static List<String> prompts(Conversation c) {
        return c.turns().stream().map(Turn::prompt).toList();
    }
}
