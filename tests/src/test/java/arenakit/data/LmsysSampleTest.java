package arenakit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.text.PromptEncoder;
import arenakit.text.TestTokenizers;
import arenakit.text.Tokenizer;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvReadOptions;

/** The readers on the real competition rows in ../shared (skipped when that folder is absent). */
class LmsysSampleTest {
    static final Path SAMPLE = Path.of(System.getProperty("arena.home", ".."), "..", "shared", "data",
            "lmsys-sample").normalize();

    @TempDir
    Path tmp;

    @BeforeEach
    void needShared() {
        Assumptions.assumeTrue(Files.isDirectory(SAMPLE), "../shared/data/lmsys-sample not present: " + SAMPLE);
    }

    @Test
    void all999RealRowsParseWithCountsThatMatchAnIndependentCount() throws IOException {
        Path file = SAMPLE.resolve("train_sample.csv");
        DataSet data = KaggleCsv.readTrain(file);
        DataSummary s = data.summary();
        assertEquals(999, s.rows());

        // Independent count: Tablesaw's own CSV parser (univocity) and Jackson trees, none of our reader's code.
        ColumnType[] types = new ColumnType[9];
        java.util.Arrays.fill(types, ColumnType.STRING);
        Table t = Table.read().csv(CsvReadOptions.builder(file.toFile()).columnTypes(types)
                .maxCharsPerColumn(10_000_000).build());
        assertEquals(999, t.rowCount());
        Map<String, Integer> labels = new LinkedHashMap<>();
        int multi = 0;
        long nulls = 0;
        for (int r = 0; r < t.rowCount(); r++) {
            for (String col : List.of("winner_model_a", "winner_model_b", "winner_tie")) {
                if (t.stringColumn(col).get(r).equals("1")) {
                    labels.merge(col, 1, Integer::sum);
                }
            }
            JsonNode prompt = Json.MAPPER.readTree(t.stringColumn("prompt").get(r));
            multi += prompt.size() > 1 ? 1 : 0;
            for (String col : List.of("prompt", "response_a", "response_b")) {
                for (JsonNode e : Json.MAPPER.readTree(t.stringColumn(col).get(r))) {
                    nulls += e.isNull() ? 1 : 0;
                }
            }
        }
        assertEquals(labels.get("winner_model_a"), s.labels().get("A"));
        assertEquals(labels.get("winner_model_b"), s.labels().get("B"));
        assertEquals(labels.get("winner_tie"), s.labels().get("TIE"));
        assertEquals(multi, s.multiTurnRows());
        assertEquals(nulls, s.nullElements());
        // the numbers themselves, as a second check of the independent count
        assertEquals(Map.of("A", 352, "B", 352, "TIE", 295), s.labels());
        assertEquals(131, multi);
        assertEquals(5, nulls);
        assertTrue(data.repairs().isEmpty(), data.repairs().toString());
        assertEquals(2, data.rows().get(0).line());
    }

    @Test
    void realRowsFitEveryFormatsBudgetWithTheGemmaTokenizer() throws IOException {
        try (Tokenizer tok = TestTokenizers.gemmaOrNull()) {
            Assumptions.assumeTrue(tok != null, "Gemma tokenizer not installed (run bash environment/setup.sh)");
            List<Conversation> rows = KaggleCsv.readTrain(SAMPLE.resolve("train_sample.csv")).rows();
            String[][] combos = {{"pab", "proportional"}, {"papb", "drop-start"}, {"rounds", "longest-first"}};
            for (String[] combo : combos) {
                PromptEncoder enc = PromptEncoder.of(tok, combo[0], combo[1], 1024);
                int[] cue = enc.verdictCueIds();
                int cut = 0;
                for (int[] ids : enc.encodeAll(rows)) {
                    assertTrue(ids.length <= 1024, combo[0] + "/" + combo[1] + ": " + ids.length);
                    assertArrayEquals(cue, Arrays.copyOfRange(ids, ids.length - cue.length, ids.length));
                    cut += ids.length == 1024 ? 1 : 0;
                }
                assertTrue(cut > 50, combo[0] + ": real rows longer than the budget exist, got " + cut);
            }
        }
    }

    @Test
    void writersReproduceTheRealFilesByteForByte() throws IOException {
        for (String name : List.of("train_sample.csv", "test.csv")) {
            Path in = SAMPLE.resolve(name);
            DataSet data = KaggleCsv.read(in);
            Path out = tmp.resolve(name);
            if (data.kind() == DataKind.TRAIN) {
                KaggleCsv.writeTrain(out, data.rows());
            } else {
                KaggleCsv.writeTest(out, data.rows());
            }
            assertEquals(-1L, Files.mismatch(in, out), name + " differs after read + write");
        }
    }

    @Test
    void realTestRoundTripsToAValidSubmission() throws IOException {
        Path test = SAMPLE.resolve("test.csv");
        Path sample = SAMPLE.resolve("sample_submission.csv");
        DataSet rows = KaggleCsv.readTest(test);
        assertEquals(3, rows.size());
        Map<String, double[]> predictions = new LinkedHashMap<>();
        for (Conversation c : rows.rows()) {
            predictions.put(c.id(), new double[] {0.5, 0.3, 0.2});
        }
        Path out = tmp.resolve("submission.csv");
        Submission.write(out, predictions, test, sample);
        Submission.Report report = Submission.validate(out, test, sample);
        assertEquals(3, report.rows());
        assertEquals(Submission.readIds(sample), Submission.readIds(out));
        Submission.validate(sample, test, sample);
    }
}
