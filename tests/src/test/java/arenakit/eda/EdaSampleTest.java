package arenakit.eda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import arenakit.data.Conversation;
import arenakit.data.KaggleCsv;
import arenakit.eda.IndependentCounts.Row;
import arenakit.text.PromptEncoder;
import arenakit.text.Tokenizer;
import arenakit.util.ArenaHome;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The EDA of the 999 real competition rows in ../shared, checked number by number: eda.json is read as a plain
 * JSON tree, and every count is recomputed here from the CSV parsed with Jackson alone (and token counts with DJL's
 * Hugging Face tokenizer directly), not through lib's readers.
 */
class EdaSampleTest {
    static final String[] VERDICTS = {"winsA", "winsB", "ties"};

    @TempDir
    static Path out;
    static List<Row> train;
    static List<Row> test;
    static JsonNode json;
    static List<Conversation> trainRows;
    static Tokenizer tokenizer;

    @AfterAll
    static void closeTokenizer() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    @BeforeAll
    static void runEda() throws Exception {
        Path home = ArenaHome.find().orElseThrow();
        Path shared = home.resolve("..").resolve("shared").resolve("data").resolve("lmsys-sample").normalize();
        Assumptions.assumeTrue(Files.isRegularFile(shared.resolve("train_sample.csv")),
                "../shared/data/lmsys-sample is absent: skipping the checks on real rows");
        trainRows = KaggleCsv.readTrain(shared.resolve("train_sample.csv")).rows();
        List<Conversation> testRows = KaggleCsv.readTest(shared.resolve("test.csv")).rows();
        tokenizer = Tokenizer.gemma();
        Eda.run(trainRows, testRows, tokenizer, out, EdaOptions.defaults());
        json = Json.MAPPER.readTree(out.resolve(Eda.JSON_FILE).toFile());
        train = IndependentCounts.read(shared.resolve("train_sample.csv"));
        test = IndependentCounts.read(shared.resolve("test.csv"));
    }

    @Test
    void classBalance() {
        JsonNode balance = json.at("/train/classBalance");
        long[] counts = verdictCounts(train);
        assertEquals(999, json.at("/train/rows").asLong());
        for (int v = 0; v < 3; v++) {
            assertEquals(counts[v], balance.get(VERDICTS[v]).asLong(), VERDICTS[v]);
        }
        assertEquals((double) counts[2] / 999, balance.get("rateTie").asDouble());
        double prior = 0;
        for (long c : counts) {
            prior -= (double) c / 999 * Math.log((double) c / 999);
        }
        assertEquals(prior, json.at("/train/priorLogLoss").asDouble(), 1e-12);
    }

    @Test
    void tiesVsIdenticalAndEmptyResponses() {
        Map<String, List<Row>> byGroup = train.stream().collect(Collectors.groupingBy(EdaSampleTest::group));
        long total = 0;
        for (JsonNode g : json.at("/train/responseGroups")) {
            List<Row> rows = byGroup.getOrDefault(g.get("group").asText(), List.of());
            assertEquals(rows.size(), g.get("rows").asLong(), g.get("group").asText());
            long[] counts = verdictCounts(rows);
            for (int v = 0; v < 3; v++) {
                assertEquals(counts[v], g.at("/outcome/" + VERDICTS[v]).asLong(), g.get("group").asText());
            }
            total += rows.size();
        }
        assertEquals(999, total);
        assertTrue(byGroup.get("IDENTICAL").stream().allMatch(r -> r.verdict() == 2), "identical rows are ties here");

        JsonNode e = json.at("/train/elements");
        assertEquals(train.stream().mapToLong(r -> r.prompt().size()).sum(), e.get("turns").asLong());
        assertEquals(count(train, r -> r.prompt().stream().filter(Objects::isNull).count()), e.get("nullPrompts").asLong());
        assertEquals(count(train, r -> both(r).stream().filter(Objects::isNull).count()), e.get("nullResponses").asLong());
        assertEquals(count(train, r -> both(r).stream().filter(s -> s != null && s.isBlank()).count()),
                e.get("blankResponses").asLong());
        assertEquals(count(train, r -> (r.a().stream().allMatch(Objects::isNull) ? 1 : 0)
                + (r.b().stream().allMatch(Objects::isNull) ? 1 : 0)), e.get("sidesAllNull").asLong());
        assertEquals(count(train, r -> (IndependentCounts.hasText(r.a()) ? 0 : 1)
                + (IndependentCounts.hasText(r.b()) ? 0 : 1)), e.get("sidesWithoutText").asLong());
        assertTrue(e.get("nullResponses").asLong() > 0 && e.get("blankResponses").asLong() > 0,
                "the real rows do have null and blank responses");
    }

    @Test
    void perModelWinRates() {
        Map<String, long[]> wlt = new HashMap<>();
        for (Row r : train) {
            long[] a = wlt.computeIfAbsent(r.modelA(), m -> new long[3]);
            long[] b = wlt.computeIfAbsent(r.modelB(), m -> new long[3]);
            switch (r.verdict()) {
                case 0 -> { a[0]++; b[1]++; }
                case 1 -> { a[1]++; b[0]++; }
                default -> { a[2]++; b[2]++; }
            }
        }
        List<Map.Entry<String, long[]>> top = wlt.entrySet().stream()
                .sorted(Comparator.<Map.Entry<String, long[]>>comparingLong(en -> -Arrays.stream(en.getValue()).sum())
                        .thenComparing(Map.Entry::getKey))
                .limit(20).toList();
        JsonNode models = json.at("/train/models");
        assertEquals(20, models.size());
        assertEquals(wlt.size(), json.at("/train/distinctModels").asLong());
        for (int i = 0; i < 20; i++) {
            JsonNode m = models.get(i);
            long[] c = top.get(i).getValue();
            long games = c[0] + c[1] + c[2];
            assertEquals(top.get(i).getKey(), m.get("model").asText());
            assertEquals(List.of(games, c[0], c[1], c[2]), List.of(m.get("games").asLong(), m.get("wins").asLong(),
                    m.get("losses").asLong(), m.get("ties").asLong()));
            assertEquals((double) c[0] / games, m.get("winRate").asDouble());
            Stats.Interval ci = Stats.wilson(c[0], games, Stats.Z95);
            assertEquals(ci.low(), m.get("winRateLow").asDouble());
            assertEquals(ci.high(), m.get("winRateHigh").asDouble());
        }
    }

    @Test
    void positionBias() {
        long[] counts = verdictCounts(train);
        JsonNode p = json.at("/train/positionBias");
        assertEquals(counts[0] + counts[1], p.get("decisiveRows").asLong());
        assertEquals(counts[0], p.get("winsA").asLong());
        assertEquals((double) counts[0] / (counts[0] + counts[1]), p.get("shareA").asDouble());
    }

    @Test
    void lengthDifferenceVsOutcome() {
        List<Integer> edges = EdaOptions.defaults().lengthDiffEdges();
        JsonNode bins = json.at("/train/lengthDifference");
        assertEquals(edges.size() + 1, bins.size());
        for (int i = 0; i <= edges.size(); i++) {
            long from = i == 0 ? Long.MIN_VALUE : edges.get(i - 1);
            long to = i == edges.size() ? Long.MAX_VALUE : edges.get(i);
            List<Row> in = train.stream().filter(r -> {
                long d = IndependentCounts.codePoints(r.a()) - IndependentCounts.codePoints(r.b());
                return d >= from && d < to;
            }).toList();
            long[] counts = verdictCounts(in);
            for (int v = 0; v < 3; v++) {
                assertEquals(counts[v], bins.get(i).at("/outcome/" + VERDICTS[v]).asLong(),
                        bins.get(i).get("label").asText());
            }
        }
    }

    @Test
    void turnsAndPrompts() {
        Map<Integer, Long> turns = train.stream().collect(Collectors.groupingBy(r -> r.prompt().size(), TreeMap::new,
                Collectors.counting()));
        JsonNode t = json.at("/train/turns");
        assertEquals(turns.size(), t.size());
        int i = 0;
        for (Map.Entry<Integer, Long> e : turns.entrySet()) {
            assertEquals(e.getKey(), t.get(i).get("turns").asInt());
            assertEquals(e.getValue(), t.get(i++).get("rows").asLong());
        }

        Map<List<String>, Long> prompts = train.stream().collect(Collectors.groupingBy(Row::prompt,
                Collectors.counting()));
        JsonNode p = json.at("/train/prompts");
        assertEquals(prompts.size(), p.get("distinct").asLong());
        assertEquals(prompts.values().stream().filter(c -> c > 1).count(), p.get("repeatedPrompts").asLong());
        assertEquals(prompts.values().stream().filter(c -> c > 1).mapToLong(Long::longValue).sum(),
                p.get("rowsWithRepeatedPrompt").asLong());
        assertEquals(prompts.values().stream().mapToLong(Long::longValue).max().orElseThrow(),
                p.get("largestGroup").asLong());

        Set<List<String>> trainPrompts = new HashSet<>(prompts.keySet());
        assertEquals(test.stream().filter(r -> trainPrompts.contains(r.prompt())).count(),
                json.get("testRowsWithPromptInTrain").asLong());
        assertEquals(3, json.at("/test/rows").asLong());
        assertTrue(json.at("/test/classBalance").isNull());
    }

    @Test
    void tokenLengthsOfPromptAndResponses() throws Exception {
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(ArenaHome.gemmaTokenizer())
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build()) {
            Map<String, Function<Row, List<String>>> fields = Map.of(
                    "prompt", Row::prompt, "response_a", Row::a, "response_b", Row::b);
            for (JsonNode f : json.at("/train/tokens/fields")) {
                Function<Row, List<String>> field = fields.get(f.get("field").asText());
                if (field == null) {
                    continue; // model_input: checked below against the data layer's encoder, row by row
                }
                List<String> texts = new ArrayList<>();
                List<Integer> owner = new ArrayList<>();
                for (int i = 0; i < train.size(); i++) {
                    for (String s : field.apply(train.get(i))) {
                        if (s != null) {
                            texts.add(s);
                            owner.add(i);
                        }
                    }
                }
                Encoding[] encodings = hf.batchEncode(texts.toArray(String[]::new));
                int[] lengths = new int[train.size()];
                for (int k = 0; k < encodings.length; k++) {
                    lengths[owner.get(k)] += encodings[k].getIds().length;
                }
                Arrays.sort(lengths);
                assertQuantiles(lengths, f);
            }
        }
    }

    @Test
    void modelInputLengthsAndRecommendedMaxLength() throws Exception {
        PromptEncoder unlimited = PromptEncoder.of(tokenizer, "pab", "longest-first", 1 << 30);
        int[] lengths = trainRows.stream().mapToInt(c -> unlimited.encode(c).length).sorted().toArray();
        JsonNode input = null;
        for (JsonNode f : json.at("/train/tokens/fields")) {
            input = f.get("field").asText().equals("model_input") ? f : input;
        }
        assertQuantiles(lengths, input);
        int at95 = lengths[(int) Math.ceil(0.95 * lengths.length) - 1];
        JsonNode rec = json.at("/train/tokens/recommendation");
        assertEquals((at95 + 15) / 16 * 16, rec.get("maxLength").asInt());
        int max = rec.get("maxLength").asInt();
        assertEquals(Arrays.stream(lengths).filter(n -> n <= max).count(), rec.get("rowsCovered").asLong());
        assertTrue(rec.get("shareCovered").asDouble() >= 0.95);
        for (JsonNode c : json.at("/train/tokens/coverage")) {
            int m = c.get("maxLength").asInt();
            assertEquals(Arrays.stream(lengths).filter(n -> n <= m).count(), c.get("rows").asLong(), "fit " + m);
        }
        // the histogram's running sum is the coverage at every bin edge
        int w = input.get("binWidth").asInt();
        long running = 0;
        for (int i = 0; i + 1 < input.get("histogram").size(); i++) {
            running += input.get("histogram").get(i).asLong();
            int edge = (i + 1) * w;
            assertEquals(Arrays.stream(lengths).filter(n -> n <= edge).count(), running, "rows <= " + edge);
        }
    }

    // ------------------------------------------------------------------ independent definitions

    private static void assertQuantiles(int[] sorted, JsonNode f) {
        String name = f.get("field").asText();
        int n = sorted.length;
        assertEquals(n, f.get("rows").asLong(), name);
        assertEquals(sorted[(int) Math.ceil(0.50 * n) - 1], f.get("p50").asInt(), name + " p50");
        assertEquals(sorted[(int) Math.ceil(0.90 * n) - 1], f.get("p90").asInt(), name + " p90");
        assertEquals(sorted[(int) Math.ceil(0.95 * n) - 1], f.get("p95").asInt(), name + " p95");
        assertEquals(sorted[(int) Math.ceil(0.99 * n) - 1], f.get("p99").asInt(), name + " p99");
        assertEquals(sorted[n - 1], f.get("max").asInt(), name + " max");
        assertEquals(Arrays.stream(sorted).average().orElseThrow(), f.get("mean").asDouble(), 1e-9, name + " mean");
    }

    private static String group(Row r) {
        boolean a = IndependentCounts.hasText(r.a());
        boolean b = IndependentCounts.hasText(r.b());
        if (!a && !b) {
            return "BOTH_EMPTY";
        }
        if (!a || !b) {
            return a ? "B_EMPTY" : "A_EMPTY";
        }
        return r.a().equals(r.b()) ? "IDENTICAL" : "DIFFERENT";
    }

    private static List<String> both(Row r) {
        List<String> all = new ArrayList<>(r.a());
        all.addAll(r.b());
        return all;
    }

    private static long count(List<Row> rows, ToLongFunction<Row> f) {
        return rows.stream().mapToLong(f).sum();
    }

    private static long[] verdictCounts(List<Row> rows) {
        long[] c = new long[3];
        rows.forEach(r -> c[r.verdict()]++);
        return c;
    }
}
