package arenakit.model.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import arenakit.model.DecoderClassifier;
import arenakit.model.TinyCheckpoints;
import arenakit.model.family.DecoderConfig;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.io.SafetensorsWriter;
import arenakit.model.tensor.NoGrad;
import arenakit.util.Engines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA averaging: the average of the merged deltas (alpha/r) B A, factored back by truncated SVD. Checked against
 * the deltas computed directly in double precision and against a full SVD of the averaged delta.
 */
class AdapterAverageTest {
    private static final DecoderConfig CONFIG = TinyCheckpoints.testConfig(128);
    private static final List<PeftAdapter.Module> MODULES = PeftAdapter.Module.ofCheckpoint(CONFIG.tensorShapes());

    @TempDir
    static Path tmp;
    static Path base;

    @BeforeAll
    static void writeModel() throws Exception {
        base = TinyCheckpoints.write(tmp.resolve("base"), CONFIG, DType.F32, 1, 5);
    }

    /** A random adapter of rank r on {@code targets}, with a linear head (seeded values). */
    static Path adapter(String name, int r, double alpha, List<String> targets, long seed) throws Exception {
        return RandomAdapters.write(tmp.resolve(name), CONFIG, r, alpha, targets, true, seed);
    }

    /** scaling * B A of one module, in double, [out][in]; zero when the adapter does not adapt it. */
    static double[][] delta(PeftAdapter.Dir a, PeftAdapter.Module m) throws Exception {
        double[][] d = new double[(int) m.outFeatures()][(int) m.inFeatures()];
        PeftAdapter.Pair pair = a.lora().get(m.path());
        if (pair == null) {
            return d;
        }
        try (NDManager manager = Engines.newManager()) {
            float[] av = a.weights().load(pair.a().name(), manager, DataType.FLOAT32, true).toFloatArray();
            float[] bv = a.weights().load(pair.b().name(), manager, DataType.FLOAT32, true).toFloatArray();
            int r = (int) pair.a().shape()[0];
            int in = (int) m.inFeatures();
            double s = a.config().scaling();
            for (int o = 0; o < d.length; o++) {
                for (int i = 0; i < in; i++) {
                    double sum = 0;
                    for (int k = 0; k < r; k++) {
                        sum += bv[o * r + k] * (double) av[k * in + i];
                    }
                    d[o][i] = s * sum;
                }
            }
        }
        return d;
    }

    private static double maxAbs(double[][] d) {
        double m = 0;
        for (double[] row : d) {
            for (double v : row) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    private static double maxDiff(double[][] a, double[][] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return m;
    }

    private static double[][] weighted(List<double[][]> ds, double[] w) {
        double[][] out = new double[ds.get(0).length][ds.get(0)[0].length];
        for (int k = 0; k < ds.size(); k++) {
            for (int i = 0; i < out.length; i++) {
                for (int j = 0; j < out[i].length; j++) {
                    out[i][j] += w[k] * ds.get(k)[i][j];
                }
            }
        }
        return out;
    }

    @Test
    void atTheSumOfTheRanksTheAverageIsExactAndTheHeadsAreAveraged() throws Exception {
        PeftAdapter.Dir a = PeftAdapter.read(adapter("a", 4, 8, LoraConfig.ALL_LINEAR, 1));
        PeftAdapter.Dir b = PeftAdapter.read(adapter("b", 2, 16, List.of("q_proj", "v_proj", "down_proj"), 2));
        Path out = tmp.resolve("avg-exact");
        AdapterAverage.Report report = AdapterAverage.average(List.of(new AdapterAverage.Input(a, 3),
                new AdapterAverage.Input(b, 1)), null, out, "base");
        assertEquals(6, report.rank());
        assertTrue(report.exact(), report.summary());
        assertTrue(report.relativeError() < 1e-6, report.summary());
        PeftAdapter.Dir avg = PeftAdapter.read(out);
        assertEquals(6, avg.config().r());
        assertEquals(a.config().scaling(), avg.config().scaling(), 1e-12, "alpha / r is the first adapter's");
        double[] w = {0.75, 0.25};
        for (PeftAdapter.Module m : MODULES) {
            double[][] want = weighted(List.of(delta(a, m), delta(b, m)), w);
            double[][] got = delta(avg, m);
            assertTrue(maxDiff(want, got) <= 1e-5 * maxAbs(want), m.path() + ": " + maxDiff(want, got) + " of "
                    + maxAbs(want));
        }
        try (NDManager manager = Engines.newManager()) {
            float[] ha = a.weights().load(a.head().get("weight").name(), manager, DataType.FLOAT32, true).toFloatArray();
            float[] hb = b.weights().load(b.head().get("weight").name(), manager, DataType.FLOAT32, true).toFloatArray();
            float[] h = avg.weights().load(avg.head().get("weight").name(), manager, DataType.FLOAT32, true)
                    .toFloatArray();
            for (int i = 0; i < h.length; i++) {
                assertEquals(0.75 * ha[i] + 0.25 * hb[i], h[i], 1e-6);
            }
        }
        // the union of the targets, each module's delta exact: the result adapts every module either did
        assertEquals(a.lora().keySet(), avg.lora().keySet());
    }

    @Test
    void belowTheRankOfTheAverageItIsTheBestApproximationAndReportsItsError() throws Exception {
        PeftAdapter.Dir a = PeftAdapter.read(adapter("c", 4, 8, List.of("q_proj", "o_proj"), 3));
        PeftAdapter.Dir b = PeftAdapter.read(adapter("d", 4, 8, List.of("q_proj", "o_proj"), 4));
        Path out = tmp.resolve("avg-rank3");
        AdapterAverage.Report report = AdapterAverage.average(List.of(new AdapterAverage.Input(a, 1),
                new AdapterAverage.Input(b, 1)), 3, out, "base");
        assertFalse(report.exact());
        PeftAdapter.Dir avg = PeftAdapter.read(out);
        double dropped = 0;
        double total = 0;
        for (PeftAdapter.Module m : MODULES) {
            if (!avg.lora().containsKey(m.path())) {
                continue;
            }
            double[][] d = weighted(List.of(delta(a, m), delta(b, m)), new double[] {0.5, 0.5});
            SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(d));
            double[] s = svd.getSingularValues();
            double[][] best = svd.getU().getSubMatrix(0, d.length - 1, 0, 2)
                    .multiply(new Array2DRowRealMatrix(new double[][] {{s[0], 0, 0}, {0, s[1], 0}, {0, 0, s[2]}}))
                    .multiply(svd.getV().getSubMatrix(0, d[0].length - 1, 0, 2).transpose()).getData();
            double[][] got = delta(avg, m);
            assertTrue(maxDiff(best, got) <= 1e-5 * maxAbs(d), m.path() + ": the rank-3 SVD truncation");
            double err = 0;
            double norm = 0;
            for (int j = 0; j < s.length; j++) {
                norm += s[j] * s[j];
                err += j >= 3 ? s[j] * s[j] : 0;
            }
            dropped += err;
            total += norm;
            AdapterAverage.ModuleError e = report.modules().stream().filter(x -> x.module().equals(m.path()))
                    .findFirst().orElseThrow();
            assertEquals(Math.sqrt(err / norm), e.relativeError(), 1e-6, m.path());
            assertEquals(8, e.inputRank());
        }
        assertEquals(Math.sqrt(dropped / total), report.relativeError(), 1e-6);
        assertTrue(report.relativeError() > 0.05, "rank 3 of a rank-8 sum loses something: " + report.summary());
    }

    /** A PiSSA adapter (saved as plain LoRA of rank 2r) averaged with itself predicts as it did. */
    @Test
    void aPissaAdapterAveragedWithItselfIsItselfAndLoadsAndPredicts() throws Exception {
        Path pissa = tmp.resolve("pissa");
        float[] trained;
        LoraConfig cfg = LoraConfig.of(2, 4, 0).withInit(LoraConfig.Init.PISSA);
        try (DecoderClassifier model = DecoderClassifier.load(base, options().lora(cfg))) {
            try (NoGrad g = NoGrad.enter(); NDManager m = Engines.newManager()) {
                m.getEngine().setRandomSeed(7);
                for (NDArray p : model.trainable().values()) {
                    p.addi(m.randomNormal(0, 0.05f, p.getShape(), DataType.FLOAT32));
                }
            }
            trained = logits(model);
            model.saveAdapter(pissa);
        }
        PeftAdapter.Dir p = PeftAdapter.read(pissa);
        assertEquals(4, p.config().r(), "PiSSA saves rank 2r");
        Path out = tmp.resolve("pissa-avg");
        AdapterAverage.Report report = AdapterAverage.average(List.of(new AdapterAverage.Input(p, 1),
                new AdapterAverage.Input(p, 2)), 4, out, "base");
        assertTrue(report.relativeError() < 1e-6, report.summary());
        try (DecoderClassifier reloaded = DecoderClassifier.load(base, options()
                .adapter(out, true))) {
            float[] got = logits(reloaded);
            for (int i = 0; i < got.length; i++) {
                assertEquals(trained[i], got[i], 1e-4, "logit " + i);
            }
        }
        for (PeftAdapter.Module m : MODULES) {
            double[][] want = delta(p, m);
            assertTrue(maxDiff(want, delta(PeftAdapter.read(out), m)) <= 1e-5 * Math.max(maxAbs(want), 1e-30),
                    m.path());
        }
    }

    @Test
    void adaptersOfDifferentBasesOrHeadsAreRefused() throws Exception {
        PeftAdapter.Dir a = PeftAdapter.read(adapter("e", 2, 4, List.of("q_proj"), 5));
        Path noHead = RandomAdapters.write(tmp.resolve("e-headless"), CONFIG, 2, 4, List.of("q_proj"), false, 6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AdapterAverage.average(
                List.of(new AdapterAverage.Input(a, 1), new AdapterAverage.Input(PeftAdapter.read(noHead), 1)), null,
                tmp.resolve("never"), "base"));
        assertTrue(e.getMessage().contains("heads can be averaged only when every adapter has the same one"),
                e.getMessage());
    }

    private static DecoderClassifier.Options options() {
        return DecoderClassifier.Options.defaults().placement(arenakit.model.Placement.single(ai.djl.Device.cpu()))
                .dtype(DataType.FLOAT32).log(s -> { });
    }

    private static float[] logits(DecoderClassifier model) {
        try (NDManager scope = Engines.newManager()) {
            return model.logits(scope, List.of(new int[] {5, 9, 3, 44, 17, 2}, new int[] {8, 1, 77}), false)
                    .toFloatArray();
        }
    }
}
