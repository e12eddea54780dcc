package arenakit.eda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.data.Winner;
import arenakit.eda.EdaResult.ModelRecord;
import arenakit.eda.EdaResult.Outcome;
import arenakit.eda.EdaResult.ResponseGroup.Kind;
import arenakit.eda.EdaResult.Split;
import arenakit.util.Json;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

/** Six hand-made rows, one per quirk, whose every number is worked out by hand in the comments. */
class EdaComputeTest {
    private static final String EMOJI10 = "\uD83D\uDE00".repeat(10); // 10 code points, 20 UTF-16 chars

    static final List<Conversation> TRAIN = List.of(
            row("1", "m1", "m2", Winner.A, new Turn("p1", "aaaa", "bb")),             // diff 2
            row("2", "m1", "m3", Winner.B, new Turn("p1", null, "hello")),            // A empty (null), diff -5
            row("3", "m2", "m1", Winner.TIE, new Turn("p2", "x", "x"), new Turn("p3", "yy", "yy")), // identical
            row("4", "m3", "m2", Winner.TIE, new Turn("p1", "  ", null)),             // both empty, diff 2
            row("5", "m1", "m2", Winner.A, new Turn(null, "z".repeat(300), EMOJI10)), // diff 290
            row("6", "m2", "m3", Winner.A, new Turn("p2", "abc", "")));              // B empty (blank), diff 3

    static final List<Conversation> TEST = List.of(
            row("7", null, null, null, new Turn("p1", "a", "b")),                    // prompt seen in train
            row("8", null, null, null, new Turn("new", "a", "a")));                  // identical

    private static Conversation row(String id, String a, String b, Winner w, Turn... turns) {
        return new Conversation(id, a, b, List.of(turns), w, 0);
    }

    private static TokenCounts tokens(int... modelInput) {
        int n = modelInput.length;
        return new TokenCounts("test/tokenizer.json", "pab", new int[n], new int[n], new int[n], modelInput);
    }

    private static EdaResult compute() {
        return Eda.compute(TRAIN, tokens(10, 20, 30, 40, 50, 1000), TEST, tokens(5, 6), EdaOptions.defaults());
    }

    @Test
    void classBalanceAndPrior() {
        Split train = compute().train();
        assertEquals(Outcome.of(3, 1, 2), train.classBalance());
        double expected = -(0.5 * Math.log(0.5) + 1 / 6.0 * Math.log(1 / 6.0) + 1 / 3.0 * Math.log(1 / 3.0));
        assertEquals(expected, train.priorLogLoss(), 1e-12);
        assertEquals(6, train.labeledRows());
    }

    @Test
    void responseGroupsPartitionTheRows() {
        Map<Kind, EdaResult.ResponseGroup> g = compute().train().responseGroups().stream()
                .collect(Collectors.toMap(EdaResult.ResponseGroup::group, x -> x));
        assertEquals(Outcome.of(0, 0, 1), g.get(Kind.BOTH_EMPTY).outcome());
        assertEquals(Outcome.of(0, 1, 0), g.get(Kind.A_EMPTY).outcome());
        assertEquals(Outcome.of(1, 0, 0), g.get(Kind.B_EMPTY).outcome());
        assertEquals(Outcome.of(0, 0, 1), g.get(Kind.IDENTICAL).outcome());
        assertEquals(Outcome.of(2, 0, 0), g.get(Kind.DIFFERENT).outcome());
        assertEquals(6, g.values().stream().mapToLong(EdaResult.ResponseGroup::rows).sum());
    }

    @Test
    void nullAndBlankElements() {
        // turns 7; null prompt in row 5; null responses: 2A, 4B; blank: 4A "  ", 6B "";
        // sides all null: 2A, 4B; sides without text: 2A, 4A, 4B, 6B
        assertEquals(new EdaResult.Elements(7, 1, 0, 2, 2, 2, 4), compute().train().elements());
    }

    @Test
    void turnsAndPrompts() {
        Split train = compute().train();
        assertEquals(List.of(new EdaResult.TurnCount(1, 5, 5 / 6.0), new EdaResult.TurnCount(2, 1, 1 / 6.0)),
                train.turns());
        // prompts: [p1] x3 (rows 1, 2, 4), [p2, p3], [null], [p2]
        assertEquals(new EdaResult.Prompts(4, 1, 3, 3, List.of(new EdaResult.RepeatedPrompt("p1", 1, 3))),
                train.prompts());
    }

    @Test
    void modelsAndPositionBias() {
        Split train = compute().train();
        assertEquals(3, train.distinctModels());
        List<ModelRecord> m = train.models();
        assertEquals(List.of("m2", "m1", "m3"), m.stream().map(ModelRecord::model).toList()); // 5, 4, 3 games
        ModelRecord m1 = m.get(1);
        assertEquals(List.of(4L, 2L, 1L, 1L), List.of(m1.games(), m1.wins(), m1.losses(), m1.ties()));
        Stats.Interval ci = Stats.wilson(2, 4, Stats.Z95);
        assertEquals(0.5, m1.winRate());
        assertEquals(ci.low(), m1.winRateLow());
        ModelRecord m2 = m.get(0);
        assertEquals(List.of(5L, 1L, 2L, 2L), List.of(m2.games(), m2.wins(), m2.losses(), m2.ties()));

        EdaResult.PositionBias p = train.positionBias();
        assertEquals(List.of(4L, 3L, 1L), List.of(p.decisiveRows(), p.winsA(), p.winsB()));
        assertEquals(0.75, p.shareA());
        assertEquals(Stats.wilson(3, 4, Stats.Z95).high(), p.shareAHigh());
    }

    @Test
    void lengthDifferenceCountsCodePoints() {
        List<EdaResult.LengthBin> bins = compute().train().lengthDifference();
        assertEquals(11, bins.size());
        EdaResult.LengthBin middle = bins.get(5);
        assertEquals("[-50, 50)", middle.label());
        assertEquals(Outcome.of(2, 1, 2), middle.outcome()); // rows 1, 2, 3, 4, 6
        EdaResult.LengthBin longer = bins.get(7);
        assertEquals(200L, longer.from());
        assertEquals(Outcome.of(1, 0, 0), longer.outcome()); // row 5: 300 - 10 code points
        assertEquals(6, bins.stream().mapToLong(b -> b.outcome().rows()).sum());
        assertNull(bins.get(0).from());
        assertNull(bins.get(10).to());
    }

    @Test
    void tokenQuantilesCoverageAndRecommendation() {
        EdaResult.TokenLengths t = compute().train().tokens();
        EdaResult.FieldLengths input = t.field("model_input");
        // nearest rank of 6 values: p50 -> 3rd, p90 -> ceil(5.4) = 6th
        assertEquals(List.of(30, 1000, 1000, 1000, 1000), List.of(input.p50(), input.p90(), input.p95(), input.p99(),
                input.max()));
        assertEquals(1150 / 6.0, input.mean(), 1e-12);
        // bin width: p99 1000 over 60 bins -> 17 -> rounded up to 32
        assertEquals(32, input.binWidth());
        assertEquals(61, input.histogram().size());
        assertEquals(List.of(3L, 2L), input.histogram().subList(0, 2));
        assertEquals(1L, input.histogram().get(31));
        assertEquals(new EdaResult.MaxLength(0.95, 16, 1008, 6, 1.0), t.recommendation());
        assertEquals(new EdaResult.Coverage(512, 5, 5 / 6.0), t.coverage().get(0));
    }

    @Test
    void testSplitHasNoLabelParts() {
        EdaResult r = compute();
        Split test = r.test();
        assertEquals(1L, r.testRowsWithPromptInTrain());
        assertNull(test.classBalance());
        assertNull(test.positionBias());
        assertTrue(test.models().isEmpty() && test.lengthDifference().isEmpty());
        assertEquals(0, test.distinctModels());
        assertTrue(test.responseGroups().stream().allMatch(g -> g.outcome() == null));
        assertEquals(1, test.responseGroups().stream().filter(g -> g.group() == Kind.IDENTICAL)
                .mapToLong(EdaResult.ResponseGroup::rows).sum());
    }

    @Test
    void anUnknownFormatIsRejectedWithTheOptions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EdaOptions.defaults().withFormat("pba"));
        assertTrue(e.getMessage().contains("pab, papb, rounds"), e.getMessage());
    }

    @Test
    void jsonRoundTrips() throws Exception {
        EdaResult r = compute();
        String json = Json.MAPPER.writeValueAsString(r);
        assertEquals(r, Json.MAPPER.readValue(json, EdaResult.class));
    }

    @Test
    void tablesAndChartsBuildFromTheResult() {
        EdaResult r = compute();
        assertEquals(3, EdaTables.classBalance(r.train()).rowCount());
        assertEquals(5, EdaTables.responseGroups(r.test()).rowCount());
        assertEquals(3, EdaTables.models(r.train()).rowCount());
        assertEquals(10, EdaTables.coverage(r.train()).rowCount()); // 9 lengths + the recommendation (1008)
        EdaResult at512 = Eda.compute(TRAIN, tokens(500, 500, 500, 500, 500, 500), null, null, EdaOptions.defaults());
        Table coverage = EdaTables.coverage(at512.train());
        assertEquals(9, coverage.rowCount(), "a recommendation already in the list is marked, not repeated");
        assertEquals("recommended for 95.0% coverage", coverage.stringColumn("note").get(0));
        String html = EdaReport.build(r).html();
        assertTrue(html.contains("Win rate of the most-played models"));

        // an empty test split and an unlabeled train split still make a report (without the label parts)
        EdaResult emptyTest = Eda.compute(TRAIN, tokens(10, 20, 30, 40, 50, 1000), List.of(), tokens(),
                EdaOptions.defaults());
        assertEquals(0, emptyTest.test().rows());
        assertNull(emptyTest.test().tokens().recommendation());
        assertTrue(EdaReport.build(emptyTest).html().contains("Turns per conversation"));
        EdaResult unlabeled = Eda.compute(TEST, tokens(5, 6), null, null, EdaOptions.defaults());
        String page = EdaReport.build(unlabeled).html();
        assertTrue(page.contains("Token lengths") && !page.contains("Class balance"));
    }
}
