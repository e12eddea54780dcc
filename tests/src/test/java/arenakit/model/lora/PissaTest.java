package arenakit.model.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import arenakit.util.Engines;
import org.junit.jupiter.api.Test;

/** PiSSA's randomized SVD on a matrix whose spectrum is known. */
class PissaTest {

    @Test
    void pissaFindsTheTopSingularDirections() {
        try (NDManager m = Engines.newManager()) {
            // W = U diag(s) V^T with a clear spectrum: 40 x 24, rank-3 truncation known exactly
            m.getEngine().setRandomSeed(3);
            NDArray u = orthonormal(m, 40, 24);
            NDArray v = orthonormal(m, 24, 24);
            float[] s = new float[24];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) (10 * Math.pow(0.5, i));
            }
            NDArray w = u.mul(m.create(s)).matMul(v.transpose());
            double scaling = 2;
            Pissa.Init init = Pissa.decompose(w, 3, scaling, 8, new java.util.Random(1));
            NDArray approx = init.b().matMul(init.a()).mul(scaling);
            NDArray top3 = u.get(":, :3").mul(m.create(new float[] {s[0], s[1], s[2]})).matMul(v.get(":, :3").transpose());
            assertTrue(approx.sub(top3).abs().max().getFloat() < 1e-4, "rank-3 part recovered");
            // A = sqrt(S/s) V^T: rows orthogonal with squared norms S/s
            float[] gram = init.a().matMul(init.a().transpose()).toFloatArray();
            assertEquals(s[0] / scaling, gram[0], 1e-4);
            assertEquals(s[2] / scaling, gram[8], 1e-4);
            assertEquals(0, gram[1], 1e-4);
        }
    }

    private static NDArray orthonormal(NDManager m, int rows, int cols) {
        NDArray a = m.randomNormal(new Shape(rows, cols));
        // Gram-Schmidt through Pissa's own helper would be circular; use the eigenvectors of A^T A instead
        double[][] vec = new double[cols][cols];
        double[] g = a.transpose().matMul(a).toType(DataType.FLOAT64, false).toDoubleArray();
        double[] val = Pissa.symmetricEigen(g, cols, vec);
        double[] inv = new double[cols * cols];
        for (int i = 0; i < cols; i++) {
            for (int j = 0; j < cols; j++) {
                inv[i * cols + j] = vec[i][j] / Math.sqrt(val[j]);
            }
        }
        return a.matMul(m.create(inv, new Shape(cols, cols)).toType(DataType.FLOAT32, false));
    }

}
