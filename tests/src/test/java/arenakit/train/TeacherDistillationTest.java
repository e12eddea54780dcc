package arenakit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import arenakit.data.Conversation;
import arenakit.data.DataException;
import arenakit.data.LogitsCsv;
import arenakit.model.SequenceClassifier;
import arenakit.util.Engines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Distillation from outside teachers' logits: the loss against the formula computed by hand, w = 0 as plain
 * cross-entropy, rows without logits inside a distilled micro-batch, how several teachers combine, and the strict
 * reading of logits files.
 */
class TeacherDistillationTest {
    @TempDir
    Path dir;

    private static double[] softmax(double[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v / t);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int k = 0; k < z.length; k++) {
            p[k] = Math.exp(z[k] / t - max);
            sum += p[k];
        }
        for (int k = 0; k < z.length; k++) {
            p[k] /= sum;
        }
        return p;
    }

    /** w T^2 KL(softmax(teacher/T) || softmax(student/T)) + (1 - w) CE(target), by hand in double. */
    static double formula(double[] student, double[] teacher, double[] target, double t, double w) {
        double[] q = softmax(student, 1);
        double ce = 0;
        for (int k = 0; k < 3; k++) {
            ce -= target[k] * Math.log(q[k]);
        }
        if (teacher == null) {
            return ce;
        }
        double[] pt = softmax(teacher, t);
        double[] ps = softmax(student, t);
        double kl = 0;
        for (int k = 0; k < 3; k++) {
            kl += pt[k] * Math.log(pt[k] / ps[k]);
        }
        return w * t * t * kl + (1 - w) * ce;
    }

    private static final double[][] STUDENT = {{0.3, -1.2, 0.8}, {2.0, 0.1, -0.4}, {-0.5, 0.9, 0.2}, {1.1, 1.0, -2}};
    private static final double[][] TEACHER = {{1.5, -0.5, 0.25}, null, {-3.0, 4.0, 0.5}, null};
    private static final double[][] TARGET = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 0}};

    private static float[][] f(double[][] a) {
        float[][] out = new float[a.length][3];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < 3; k++) {
                out[i][k] = a[i] == null ? 0f : (float) a[i][k];
            }
        }
        return out;
    }

    @Test
    void lossOnAHandMadeBatchIsTheFormula() {
        boolean[] distilled = {true, false, true, false};
        for (double w : new double[] {0.9, 0.0, 1.0}) {
            DistillConfig d = new DistillConfig(5, w);
            try (NDManager m = Engines.newManager()) {
                float[] loss = Losses.objective(m.create(f(STUDENT)), m.create(f(TARGET)), m.create(f(TEACHER)), d,
                        distilled).toFloatArray();
                for (int i = 0; i < STUDENT.length; i++) {
                    assertEquals(formula(STUDENT[i], TEACHER[i], TARGET[i], 5, w), loss[i], 1e-5, "w " + w + " row " + i);
                }
                if (w == 0) { // no soft part: exactly plain cross-entropy, with or without teachers
                    assertArrayEquals(Losses.crossEntropy(m.create(f(STUDENT)), m.create(f(TARGET))).toFloatArray(),
                            loss, 1e-6f);
                    assertArrayEquals(Losses.crossEntropy(m.create(f(STUDENT)), m.create(f(TARGET))).toFloatArray(),
                            Losses.objective(m.create(f(STUDENT)), m.create(f(TARGET)), m.create(f(TEACHER)), d,
                                    new boolean[] {true, true, true, true}).toFloatArray(), 1e-6f);
                }
            }
        }
    }

    /**
     * Through the trainer: one micro-batch with and without teacher logits gives the step's mean of the per-row
     * formula over the model's own logits.
     */
    @Test
    void trainerAccumulatesTheFormulaPerRow() throws IOException {
        try (TinySetup s = new TinySetup(dir, 8); SequenceClassifier model = s.lora(0.0)) {
            List<Trainer.Sequence> seqs = new ArrayList<>();
            List<int[]> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Conversation c = s.sample.train().get(i);
                ids.add(s.encoder.encode(c));
                seqs.add(new Trainer.Sequence(ids.get(i), f(TARGET)[i], TEACHER[i] == null ? null : f(TEACHER)[i]));
            }
            DistillConfig d = new DistillConfig(5, 0.9);
            double loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                loss = Trainer.accumulate(model, gc, seqs, 1 << 20, d, 1f);
            }
            double expected = 0;
            try (NDManager m = Engines.newManager()) {
                float[] logits = model.logits(m, ids, false).toFloatArray();
                for (int i = 0; i < 4; i++) {
                    double[] z = {logits[3 * i], logits[3 * i + 1], logits[3 * i + 2]};
                    expected += formula(z, TEACHER[i], TARGET[i], 5, 0.9) / 4;
                }
            }
            assertEquals(expected, loss, 1e-5);
        }
    }

    private Path csv(String name, String... lines) throws IOException {
        return Files.write(dir.resolve(name), List.of(lines));
    }

    private static Conversation row(String id) {
        return new Conversation(id, "m1", "m2", List.of(new arenakit.data.Turn("p", "a", "b")),
                arenakit.data.Winner.B, 0);
    }

    @Test
    void teachersCombineAsWeightedMeanProbabilitiesAtT() throws IOException {
        Path a = csv("a.csv", "id,logit_a,logit_b,logit_tie", "r1,2.0,-1.0,0.5", "r2,0,0,0", "held,1,1,1");
        Path b = csv("b.csv", "logit_tie,id,logit_b,logit_a", "-1,r1,3,0.5");
        List<Example> rows = List.of(Example.labeled(row("r1")), Example.labeled(row("r2")),
                Example.labeled(row("r3")));
        double t = 4;
        TeacherLogits.Result r = TeacherLogits.attach(List.of(new DistillConfig.Teacher(a.toString(), 3.0),
                new DistillConfig.Teacher(b.toString(), null)), t, rows, Map.of("held", "held-out rows"));
        // r1: (3 softmax(a/T) + 1 softmax(b/T)) / 4, handed over as T log p
        double[] pa = softmax(new double[] {2, -1, 0.5}, t);
        double[] pb = softmax(new double[] {0.5, 3, -1}, t);
        double[] got = softmax(toDouble(r.rows().get(0).teacherLogits()), t);
        for (int k = 0; k < 3; k++) {
            assertEquals((3 * pa[k] + pb[k]) / 4, got[k], 1e-6);
        }
        // r2: only teacher a: its own distribution at T
        assertArrayEquals(new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}, softmax(toDouble(r.rows().get(1).teacherLogits()),
                t), 1e-6);
        assertNull(r.rows().get(2).teacherLogits(), "r3 has no teacher: plain cross-entropy");
        assertArrayEquals(rows.get(0).target(), r.rows().get(0).target(), "the human label stays the CE target");
        TeacherLogits.Report report = r.report();
        assertEquals(2, report.distilled());
        assertEquals(1, report.plain());
        assertEquals(1, report.partial());
        assertEquals(Map.of("held-out rows", 1L), report.ignored());
        String line = report.describe(t);
        assertTrue(line.contains("a.csv (weight 3, 3 rows), b.csv (weight 1, 1 rows), combined as the weighted mean")
                && line.contains("2 of 3 labeled training rows distilled, 1 on plain cross-entropy")
                && line.contains("ignored: 1 held-out rows"), line);
        // full swap: the swapped copy's teacher swaps A and B
        float[] tl = r.rows().get(0).teacherLogits();
        assertArrayEquals(new float[] {tl[1], tl[0], tl[2]}, r.rows().get(0).swapped().teacherLogits());
    }

    private static double[] toDouble(float[] v) {
        return new double[] {v[0], v[1], v[2]};
    }

    @Test
    void anIdOfNoRowIsAnErrorWithFileLineAndId() throws IOException {
        Path a = csv("a.csv", "id,logit_a,logit_b,logit_tie", "r1,2.0,-1.0,0.5", "ghost,0,0,0");
        DataException e = assertThrows(DataException.class, () -> TeacherLogits.attach(
                List.of(new DistillConfig.Teacher(a.toString(), 1.0)), 5, List.of(Example.labeled(row("r1"))),
                Map.of()));
        assertTrue(e.getMessage().startsWith(a + " line 3 (id ghost) column id: names no labeled row"),
                e.getMessage());
    }

    @Test
    void logitsFilesAreReadStrictly() throws IOException {
        assertEquals(2, LogitsCsv.read(csv("ok.csv", "id,logit_tie,logit_b,logit_a", "x,1e-3,-2,+0.5",
                "\"y\",3,.5,7")).size());
        assertError(csv("m.csv", "id,logit_a,logit_b", "x,1,2"), "line 1: header does not match: missing column(s) "
                + "[logit_tie]");
        assertError(csv("u.csv", "id,logit_a,logit_b,logit_tie,prob", "x,1,2,3,4"), "unexpected column(s) [prob]");
        assertError(csv("n.csv", "id,logit_a,logit_b,logit_tie", "x,1,2,3", "y,1,two,3"),
                "line 3 (id y) column logit_b: 'two' is not a number");
        assertError(csv("f.csv", "id,logit_a,logit_b,logit_tie", "x,1,NaN,3"),
                "line 2 (id x) column logit_b: 'NaN' is not a finite number");
        assertError(csv("d.csv", "id,logit_a,logit_b,logit_tie", "x,1,2,3", "z,1,2,3", "x,1,2,3"),
                "line 4 (id x) column id: repeated id (first on line 2)");
        assertError(csv("b.csv", "id,logit_a,logit_b,logit_tie", ",1,2,3"), "line 2 column id: blank id");
        assertError(csv("h.csv", "id,logit_a,logit_b,logit_tie"), "header only");
        assertError(csv("r.csv", "id,logit_a,logit_b,logit_tie", "x,1,2"), "line 2 (id x): record has 3 fields");
        assertError(dir.resolve("absent.csv"), "file not found");
    }

    private static void assertError(Path file, String expected) {
        DataException e = assertThrows(DataException.class, () -> LogitsCsv.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void configChecks() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DistillConfig.Teacher("t.csv", 0.0));
        assertTrue(e.getMessage().contains("weight of t.csv must be > 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DistillConfig.Teacher(null, 1.0));
        assertTrue(e.getMessage().contains("'logits'"), e.getMessage());
        assertEquals(List.of(), new DistillConfig(5, 0.9).teachers());
    }
}
