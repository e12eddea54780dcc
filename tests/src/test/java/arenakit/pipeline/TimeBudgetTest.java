package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Conversation;
import arenakit.data.KaggleCsv;
import arenakit.data.SampleGenerator;
import arenakit.data.Submission;
import arenakit.infer.CostModel;
import arenakit.infer.Ensemble;
import arenakit.infer.FakeModels;
import arenakit.infer.InferenceConfig;
import arenakit.infer.TimeBudget;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The time budget against runners slowed by a fake clock: two models of known cost (weights 2 and 1, 400 test rows,
 * lengths 50-1000 tokens, swap TTA; about 680 s each with TTA, 5 s to load), so the true finish of every plan is
 * known. Each budget must bring exactly the degrade steps it needs, at the first batches after the projection
 * passes the hard limit, finish inside the budget, and leave a valid submission.
 */
class TimeBudgetTest {
    @TempDir
    static Path dir;
    private static SampleGenerator.SampleFiles files;
    private static List<Conversation> rows;

    @BeforeAll
    static void data() throws IOException {
        files = SampleGenerator.write(dir.resolve("data"), SampleGenerator.Options.defaults().withRows(40, 400, 0, 0)
                .withResponseWords(8));
        rows = KaggleCsv.readTest(files.test()).rows();
    }

    record Run(Ensemble.Result result, List<String> log, FakeModels.Member heavy, FakeModels.Member light,
            double seconds, Path submission) {
        List<String> decisions() {
            return result.report().decisions();
        }
    }

    private static Run run(double budgetSeconds, int slowAfter) throws IOException {
        FakeModels.Clock clock = new FakeModels.Clock();
        FakeModels.Member heavy = new FakeModels.Member("stage3", 2, 1024, clock);
        FakeModels.Member light = new FakeModels.Member("llama_stage3", 1, 1024, clock);
        heavy.slowAfter = slowAfter;
        List<String> log = new ArrayList<>();
        InferenceConfig inference = new InferenceConfig(true, List.of("cpu"), InferenceConfig.SINGLE, null, 8192,
                null, 1000);
        TimeBudget budget = new TimeBudget(Duration.ofMillis((long) (budgetSeconds * 1000)), clock::now, clock.now());
        Ensemble.Result result = new Ensemble(List.of(light, heavy), inference, Ensemble.Average.PROBABILITIES,
                log::add).withBudget(budget).withChunks(dir.resolve("chunks-" + budgetSeconds + "-" + slowAfter), 100)
                .predict(rows, "predict");
        Path out = dir.resolve("submission-" + budgetSeconds + "-" + slowAfter + ".csv");
        SubmissionStage.finish(result, rows, () -> new double[] {0.35, 0.34, 0.31}, null,
                Submission.readIds(files.sampleSubmission()), out, log::add);
        Submission.Report report = Submission.validate(out, files.test(), files.sampleSubmission());
        assertEquals(rows.size(), report.rows());
        System.out.printf("budget %.0f s, finished at %.0f s:%n  %s%n", budgetSeconds, clock.seconds(),
                String.join("\n  ", log.stream().filter(l -> !l.contains("rows predicted in")).toList()));
        return new Run(result, log, heavy, light, clock.seconds(), out);
    }

    /** Seconds one model needs for every row at a max length, with or without TTA (its true cost). */
    private static double cost(FakeModels.Member m, boolean tta, int maxLength) {
        double s = 0;
        for (Conversation r : rows) {
            int len = Math.min(FakeModels.length(r), maxLength);
            s += (tta ? 2 : 1) * (m.a * len + m.b * (double) len * len);
        }
        return s;
    }

    @Test
    void theTrueCostsAreWhatTheScenariosAssume() {
        FakeModels.Member m = new FakeModels.Member("m", 1, 1024, new FakeModels.Clock());
        assertEquals(680, cost(m, true, 1024), 80);
        assertEquals(340, cost(m, false, 1024), 40);
    }

    @Test
    void aBudgetThatFitsChangesNothing() throws IOException {
        // the whole run takes ~1370 s; a tokens/s extrapolation from the first (longest) batches says ~1900 s
        Run r = run(1500, Integer.MAX_VALUE);
        assertEquals(List.of(), r.decisions(), String.join("\n", r.log()));
        assertEquals(rows.size(), r.result().report().full());
        assertEquals(0, r.result().report().degraded());
        assertEquals(2 * rows.size(), r.heavy().sequences.get());
        assertEquals(2 * rows.size(), r.light().sequences.get());
        assertTrue(r.seconds() < 1500);
    }

    @Test
    void firstStepSwapTtaOffForTheRowsStillToDo() throws IOException {
        Run r = run(1000, Integer.MAX_VALUE);
        List<String> d = r.decisions();
        assertEquals(1, d.size(), String.join("\n", r.log()));
        assertTrue(d.get(0).contains("swap TTA off"), d.get(0));
        // it came with the heavy model's first batches: almost all its rows then ran without their swapped copy
        int heavyRows = rows.size();
        int withTta = r.heavy().sequences.get() - heavyRows;
        assertTrue(withTta < 40, withTta + " rows of the first model ran with TTA");
        assertEquals(rows.size(), r.light().sequences.get());
        assertEquals(rows.size(), r.result().report().full());
        assertTrue(r.seconds() <= 1000, r.seconds() + " s");
    }

    @Test
    void secondStepDropsTheLowestWeightModel() throws IOException {
        Run r = run(500, Integer.MAX_VALUE);
        List<String> d = r.decisions();
        assertEquals(2, d.size(), String.join("\n", r.log()));
        assertTrue(d.get(0).contains("swap TTA off"), d.get(0));
        assertTrue(d.get(1).contains("drop llama_stage3 (weight 1"), d.get(1));
        assertEquals(0, r.light().opened.get(), "the dropped model is never loaded");
        assertEquals(0, r.result().report().full());
        assertEquals(rows.size(), r.result().report().partial());
        assertTrue(r.seconds() <= 500, r.seconds() + " s");
    }

    @Test
    void thirdStepShortensMaxLength() throws IOException {
        Run r = run(200, Integer.MAX_VALUE);
        List<String> d = r.decisions();
        assertEquals(3, d.size(), String.join("\n", r.log()));
        assertTrue(d.get(0).contains("swap TTA off"), d.get(0));
        assertTrue(d.get(1).contains("drop llama_stage3"), d.get(1));
        assertTrue(d.get(2).contains("max_length"), d.get(2));
        assertTrue(r.seconds() <= 200, r.seconds() + " s");
        assertEquals(rows.size(), r.result().report().partial(), "every row still has the first model's prediction");
        // the rows that came after the decision are no longer than the new max_length
        int cap = Integer.parseInt(d.get(2).replaceAll(".*1024 -> (\\d+).*", "$1"));
        double[] last = r.heavy().trace.get(r.heavy().trace.size() - 1);
        assertTrue(last[1] <= cap);
        assertTrue(cap < 1024 && cap >= 256, "cap " + cap);
    }

    @Test
    void atTheHardLimitEveryRowStillGetsAPrediction() throws IOException {
        // the first model turns 10x slower after 6 batches: no projection saw that coming
        Run r = run(600, 6);
        Ensemble.Report report = r.result().report();
        assertTrue(report.hardLimit(), String.join("\n", r.log()));
        assertTrue(report.none() > 0, "rows left without any model");
        assertTrue(r.seconds() <= 600, r.seconds() + " s");
        assertTrue(r.log().stream().anyMatch(l -> l.contains("get the class prior")), String.join("\n", r.log()));
        Map<String, double[]> written = Submission.read(r.submission());
        assertEquals(rows.size(), written.size());
    }

    @Test
    void durationsAsConfigsAndTheCommandLineWriteThem() {
        assertEquals(Duration.ofMinutes(510), TimeBudget.parse("8h30m"));
        assertEquals(Duration.ofSeconds(90), TimeBudget.parse("90s"));
        assertEquals(Duration.ofMinutes(90), TimeBudget.parse("1.5h"));
        assertEquals(Duration.ofSeconds(8130), TimeBudget.parse("2h15m30s"));
        assertEquals(null, TimeBudget.parse("off"));
        assertEquals(null, TimeBudget.parse(null));
        for (String bad : List.of("8.5", "8 hours", "0s", "-1h", "1d")) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> TimeBudget.parse(bad), bad);
            assertTrue(e.getMessage().contains("time_budget"), e.getMessage());
        }
        assertEquals("8h30m", TimeBudget.format(Duration.ofMinutes(510)));
        assertEquals("1m30s", TimeBudget.format(Duration.ofSeconds(90)));
        // the reserve: 1% between 2 s and 2 min, at most half of a tiny budget
        assertEquals(30600 - 120, new TimeBudget(Duration.ofMinutes(510), () -> 0, 0).hardLimit(), 1e-9);
        assertEquals(600 - 6, new TimeBudget(Duration.ofMinutes(10), () -> 0, 0).hardLimit(), 1e-9);
        assertEquals(0.5, new TimeBudget(Duration.ofSeconds(1), () -> 0, 0).hardLimit(), 1e-9);
        // a malformed budget in a stage config fails when the config is read
        assertThrows(IllegalArgumentException.class, () -> new InferenceConfig(true, List.of("cpu"),
                InferenceConfig.SINGLE, null, 4096, null, 8, "soon"));
    }

    @Test
    void theCostModelIsNotALinearExtrapolation() {
        // batches as the runner sees them: the longest first
        CostModel fit = new CostModel(4e-4, 1e-7, 1);
        double a = 1.2e-3;
        double b = 6e-7;
        List<int[]> lengths = new ArrayList<>();
        for (int len = 1000; len >= 50; len -= 50) {
            lengths.add(new int[] {len, 8192 / len});
        }
        double truth = 0;
        for (int[] l : lengths) {
            truth += l[1] * (a * l[0] + b * (double) l[0] * l[0]);
        }
        double seconds = 0;
        double tokens = 0;
        double allTokens = lengths.stream().mapToDouble(l -> (double) l[0] * l[1]).sum();
        for (int i = 0; i < lengths.size(); i++) {
            int[] l = lengths.get(i);
            double t = l[1] * (a * l[0] + b * (double) l[0] * l[0]);
            fit.observe(CostModel.Work.of(l[0], l[1]), t);
            seconds += t;
            tokens += (double) l[0] * l[1];
            double projected = seconds;
            for (int[] rest : lengths.subList(i + 1, lengths.size())) {
                projected += fit.seconds(CostModel.Work.of(rest[0], rest[1]));
            }
            double linear = seconds / tokens * allTokens;
            if (i == 5) { // six batches of 1000 down to 750 tokens: the prior's ratio still weighs in
                assertTrue(Math.abs(projected - truth) < 0.5 * Math.abs(linear - truth),
                        "projected " + projected + ", linear " + linear + ", truth " + truth);
                assertEquals(truth, projected, 0.08 * truth, fit.describe());
            }
            if (i == 9) { // half way, the fit has separated the two terms
                assertEquals(truth, projected, 0.02 * truth, fit.describe());
            }
        }
    }
}
