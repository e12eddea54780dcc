package arenakit.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Conversation;
import arenakit.data.SampleGenerator;
import arenakit.data.Turn;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weighted ensembles of models with known outputs: the average (probabilities or logits), swap TTA, the order the
 * models run in, and the fingerprinted chunks a re-run resumes from.
 */
class EnsembleTest {
    @TempDir
    Path dir;

    private static final List<Conversation> ROWS = SampleGenerator.generate(
            SampleGenerator.Options.defaults().withRows(0, 100, 0, 0).withResponseWords(8)).test();

    private static InferenceConfig inference(boolean tta) {
        return new InferenceConfig(tta, List.of("cpu"), InferenceConfig.SINGLE, null, 4096, null, 1000);
    }

    private static double[] probs(FakeModels.Member m, Conversation row, boolean tta) {
        int[] ab = m.encoder(m.maxLength()).apply(row);
        if (!tta) {
            return Predictor.softmax(m.logits(ab));
        }
        return Predictor.fold(m.logits(ab), m.logits(m.encoder(m.maxLength()).apply(row.swapped())));
    }

    @Test
    void averagesProbabilitiesOrLogitsWithTheWeights() throws IOException {
        FakeModels.Clock clock = new FakeModels.Clock();
        FakeModels.Member a = new FakeModels.Member("a", 2, 1024, clock);
        FakeModels.Member b = new FakeModels.Member("b", 1, 512, clock);
        for (boolean tta : new boolean[] {false, true}) {
            Ensemble.Result p = new Ensemble(List.of(b, a), inference(tta), Ensemble.Average.PROBABILITIES, s -> {})
                    .predict(ROWS, "test");
            Ensemble.Result z = new Ensemble(List.of(b, a), inference(tta), Ensemble.Average.LOGITS, s -> {})
                    .predict(ROWS, "test");
            for (int i = 0; i < ROWS.size(); i++) {
                double[] pa = probs(a, ROWS.get(i), tta);
                double[] pb = probs(b, ROWS.get(i), tta);
                double[] mean = new double[3];
                double[] logMean = new double[3];
                for (int k = 0; k < 3; k++) {
                    mean[k] = (2 * pa[k] + pb[k]) / 3;
                    logMean[k] = (2 * Math.log(pa[k]) + Math.log(pb[k])) / 3;
                }
                assertArrayEquals(mean, p.probs(i), 1e-12, "row " + i);
                assertArrayEquals(Predictor.softmax(logMean), z.probs(i), 1e-12, "row " + i);
                assertArrayEquals(Predictor.logs(p.probs(i)), p.logits(i), 0);
            }
            assertEquals(ROWS.size(), p.report().full());
        }
        // the two differ (a geometric mean is not an arithmetic one)
        Ensemble.Result p = new Ensemble(List.of(a, b), inference(false), Ensemble.Average.PROBABILITIES, s -> {})
                .predict(ROWS, "test");
        Ensemble.Result z = new Ensemble(List.of(a, b), inference(false), Ensemble.Average.LOGITS, s -> {})
                .predict(ROWS, "test");
        assertTrue(Math.abs(p.probs(0)[0] - z.probs(0)[0]) > 1e-6);
    }

    @Test
    void runsTheModelsOneAfterAnotherHighestWeightFirst() throws IOException {
        FakeModels.Clock clock = new FakeModels.Clock();
        FakeModels.Member light = new FakeModels.Member("light", 1, 1024, clock);
        FakeModels.Member heavy = new FakeModels.Member("heavy", 3, 1024, clock);
        List<String> log = new ArrayList<>();
        new Ensemble(List.of(light, heavy), inference(true), Ensemble.Average.PROBABILITIES, log::add)
                .predict(ROWS, "test");
        double heavyLast = heavy.trace.get(heavy.trace.size() - 1)[0];
        double lightFirst = light.trace.get(0)[0];
        assertTrue(heavyLast < lightFirst, "the weight-3 model runs first, and is done before the other starts");
        assertEquals(1, heavy.opened.get());
        assertEquals(1, light.opened.get());
        assertEquals(2 * ROWS.size(), heavy.sequences.get());
        // within a chunk the longest rows go first
        assertTrue(heavy.trace.get(0)[1] >= heavy.trace.get(heavy.trace.size() - 1)[1]);
    }

    private Ensemble chunked(FakeModels.Member m, boolean tta, int rows) {
        return new Ensemble(List.of(m), inference(tta), Ensemble.Average.PROBABILITIES, s -> {})
                .withChunks(dir.resolve("chunks"), rows);
    }

    private List<Path> chunkFiles() throws IOException {
        try (Stream<Path> s = Files.walk(dir.resolve("chunks"))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void aReRunReusesEveryRowPredictedWithTheSameModelAndSettings() throws IOException {
        FakeModels.Clock clock = new FakeModels.Clock();
        FakeModels.Member m = new FakeModels.Member("stage1", 1, 1024, clock);
        Ensemble.Result first = chunked(m, true, 30).predict(ROWS, "test");
        assertEquals(200, m.sequences.get());
        assertEquals(4, chunkFiles().size()); // 30 + 30 + 30 + 10 rows

        m.sequences.set(0);
        Ensemble.Result again = chunked(m, true, 30).predict(ROWS, "test");
        assertEquals(0, m.sequences.get());
        assertEquals(1, m.opened.get(), "nothing to predict: the model is not even loaded");
        for (int i = 0; i < ROWS.size(); i++) {
            assertArrayEquals(first.probs(i), again.probs(i), 0, "row " + i);
        }

        // an interruption lost the second chunk: only its rows are predicted again
        Files.delete(chunkFiles().get(1));
        m.sequences.set(0);
        chunked(m, true, 30).predict(ROWS, "test");
        assertEquals(60, m.sequences.get());

        // another chunk_rows: every row is found by its key, no crash, and the files follow the new layout
        m.sequences.set(0);
        Ensemble.Result relaid = chunked(m, true, 45).predict(ROWS, "test");
        assertEquals(0, m.sequences.get());
        assertEquals(List.of("rows-00000000-00000045.json", "rows-00000045-00000090.json",
                "rows-00000090-00000100.json"), chunkFiles().stream().map(p -> p.getFileName().toString()).toList());
        assertArrayEquals(first.probs(99), relaid.probs(99), 0);

        // one input row changed: that row alone is predicted again
        List<Conversation> edited = new ArrayList<>(ROWS);
        Conversation c = ROWS.get(17);
        edited.set(17, new Conversation(c.id(), null, null, List.of(new Turn("another prompt", "x", "y")), null, 0));
        m.sequences.set(0);
        chunked(m, true, 45).predict(edited, "test");
        assertEquals(2, m.sequences.get());
    }

    @Test
    void chunksOfOtherSettingsOrModelFilesAreRecomputedNeverMixedIn() throws IOException {
        FakeModels.Clock clock = new FakeModels.Clock();
        FakeModels.Member m = new FakeModels.Member("stage1", 1, 1024, clock);
        Ensemble.Result tta = chunked(m, true, 40).predict(ROWS, "test");

        m.sequences.set(0);
        Ensemble.Result plain = chunked(m, false, 40).predict(ROWS, "test"); // TTA off
        assertEquals(100, m.sequences.get());
        assertNotEquals(tta.probs(3)[0], plain.probs(3)[0]);

        FakeModels.Member shorter = new FakeModels.Member("stage1", 1, 512, clock); // another max_length
        chunked(shorter, false, 40).predict(ROWS, "test");
        assertTrue(shorter.sequences.get() > 0);

        FakeModels.Member retrained = new FakeModels.Member("stage1", 1, 512, clock);
        retrained.fingerprint = "fake-retrained"; // other model files
        chunked(retrained, false, 40).predict(ROWS, "test");
        assertEquals(100, retrained.sequences.get());
        try (Stream<Path> folders = Files.list(dir.resolve("chunks"))) {
            assertEquals(1, folders.count(), "the folders of other fingerprints are pruned");
        }
        // a chunk file carries the fingerprint and each row's key and settings
        var chunk = Json.MAPPER.readTree(chunkFiles().get(0).toFile());
        assertEquals(retrained.fingerprint(null), chunk.get("fingerprint").asText());
        assertEquals(PredictionChunks.rowKey(ROWS.get(0)), chunk.get("rows").get(0).get("key").asText());
        assertEquals(512, chunk.get("rows").get(0).get("max_length").asInt());
    }

    @Test
    void configEntriesAreNamesOrWeightedObjects() throws IOException {
        record Models(List<WeightedModel> models) {}
        Models m = Json.MAPPER.readValue("{\"models\": [\"stage3\", {\"model\": \"llama\", \"weight\": 2, "
                + "\"max_length\": 2048}, {\"model\": \"qwen\"}]}", Models.class);
        assertEquals(List.of(new WeightedModel("stage3", 1.0, null), new WeightedModel("llama", 2.0, 2048),
                new WeightedModel("qwen", 1.0, null)), m.models());
        assertEquals("[stage3, llama x2 @2048, qwen]", m.models().toString());
        for (String bad : List.of("{\"models\": [{\"model\": \"a\", \"wieght\": 2}]}",
                "{\"models\": [{\"model\": \"a\", \"weight\": 0}]}", "{\"models\": [{\"weight\": 1}]}")) {
            assertThrows(IOException.class, () -> Json.MAPPER.readValue(bad, Models.class), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Ensemble.Average.of("mean"));
    }
}
