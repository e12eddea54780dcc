package arenakit.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * The best rank-k approximation (Eckart-Young: truncated SVD) of a sum of low-rank products
 * {@code D = sum_i B_i A_i} ({@code B_i [out, r_i]}, {@code A_i [r_i, in]}), without ever forming the
 * {@code [out, in]} matrix D.
 *
 * <p>With {@code B = [B_1 ... B_n]} ({@code [out, K]}, K the sum of the ranks) and {@code A = [A_1; ...; A_n]}
 * ({@code [K, in]}), D = B A. The Gram matrices {@code B^T B = W_b L_b W_b^T} and {@code A A^T = W_a L_a W_a^T}
 * (K x K, the only products over the large dimensions, run in PyTorch in float64) give orthonormal bases
 * {@code Q_b = B W_b L_b^-1/2} and {@code Q_a = A^T W_a L_a^-1/2} with {@code B = Q_b R_b}, {@code A^T = Q_a R_a},
 * {@code R = L^1/2 W^T}; directions of a Gram eigenvalue below {@link #GRAM_CUTOFF} of the largest carry nothing at
 * float32 precision and are dropped (so a rank-deficient sum, such as an adapter averaged with itself, is fine). Then
 * {@code D = Q_b M Q_a^T} with the small {@code M = R_b R_a^T}, whose SVD {@code U S V^T} (commons-math) gives D's
 * singular values and vectors. The result is {@code B' = Q_b U_k sqrt(S_k / s)}, {@code A' = sqrt(S_k / s) V_k^T
 * Q_a^T}, so that {@code s B' A'} is D's best rank-k approximation, split evenly between A and B as PiSSA splits W.
 * It is exact (to float rounding) when k is at least the rank of D, in particular when k >= K.
 */
final class LowRank {
    /** Gram eigenvalues below this fraction of the largest (singular values below 1e-7 of the largest) are noise. */
    static final double GRAM_CUTOFF = 1e-14;

    private LowRank() {}

    /**
     * A rank-k factorisation: {@code b [out, k]} and {@code a [k, in]} (float32, Java arrays, row-major), D's
     * singular values (descending), and how many of them {@code b a} keeps ({@code kept <= k}; the other rows of
     * {@code a} and columns of {@code b} are zero).
     */
    record Factors(float[] b, float[] a, long out, long in, int rank, int kept, double[] singularValues) {
        /** ||D||_F. */
        double norm() {
            double s = 0;
            for (double v : singularValues) {
                s += v * v;
            }
            return Math.sqrt(s);
        }

        /** ||D - s B' A'||_F: the singular values left out. */
        double residual() {
            double s = 0;
            for (int j = kept; j < singularValues.length; j++) {
                s += singularValues[j] * singularValues[j];
            }
            return Math.sqrt(s);
        }
    }

    /**
     * The rank-{@code rank} factorisation of {@code sum_i bs[i] as[i]} with scaling {@code scaling} (so that
     * {@code scaling * b a} approximates the sum). Inputs may be any float type on any device of {@code manager};
     * temporaries are freed.
     */
    static Factors truncate(List<NDArray> bs, List<NDArray> as, int rank, double scaling, NDManager manager) {
        try (NDScope scope = new NDScope()) {
            NDList bl = new NDList();
            NDList al = new NDList();
            for (int i = 0; i < bs.size(); i++) {
                bl.add(bs.get(i).toType(DataType.FLOAT64, false));
                al.add(as.get(i).toType(DataType.FLOAT64, false));
            }
            NDArray b = bl.size() == 1 ? bl.get(0) : NDArrays.concat(bl, 1); // [out, K]
            NDArray a = al.size() == 1 ? al.get(0) : NDArrays.concat(al, 0); // [K, in]
            long out = b.getShape().get(0);
            long in = a.getShape().get(1);
            int k = (int) b.getShape().get(1);
            Basis qb = basis(b.transpose().matMul(b).toDoubleArray(), k);
            Basis qa = basis(a.matMul(a.transpose()).toDoubleArray(), k);
            double[] sigma;
            RealMatrix u;
            RealMatrix v;
            if (qb == null || qa == null) { // a zero side: D = 0
                sigma = new double[0];
                u = null;
                v = null;
            } else {
                SingularValueDecomposition svd = new SingularValueDecomposition(qb.r().multiply(qa.r().transpose()));
                sigma = svd.getSingularValues();
                u = svd.getU();
                v = svd.getV();
            }
            int kept = 0;
            while (kept < Math.min(rank, sigma.length) && sigma[kept] > 0) {
                kept++;
            }
            // B' = B (W_b L_b^-1/2 U_k sqrt(S_k/s)): the K x rank mixing matrix, applied in PyTorch
            double[] pb = new double[k * rank];
            double[] pa = new double[rank * k];
            if (kept > 0) {
                RealMatrix left = qb.toQ().multiply(u.getSubMatrix(0, u.getRowDimension() - 1, 0, kept - 1));
                RealMatrix right = qa.toQ().multiply(v.getSubMatrix(0, v.getRowDimension() - 1, 0, kept - 1));
                for (int j = 0; j < kept; j++) {
                    double root = Math.sqrt(sigma[j] / scaling);
                    for (int i = 0; i < k; i++) {
                        pb[i * rank + j] = left.getEntry(i, j) * root;
                        pa[j * k + i] = right.getEntry(i, j) * root;
                    }
                }
            }
            NDArray bNew = b.matMul(manager.create(pb, new Shape(k, rank)).toDevice(b.getDevice(), false));
            NDArray aNew = manager.create(pa, new Shape(rank, k)).toDevice(a.getDevice(), false).matMul(a);
            return new Factors(bNew.toType(DataType.FLOAT32, false).toFloatArray(),
                    aNew.toType(DataType.FLOAT32, false).toFloatArray(), out, in, rank, kept, sigma);
        }
    }

    /**
     * From a Gram matrix {@code G = X^T X} ({@code k x k}): {@code R = L^1/2 W^T} ({@code [p, k]}, p the directions
     * kept) with {@code X = Q R}, and {@code W L^-1/2} ({@link Basis#toQ}: {@code Q = X W L^-1/2}); null when X = 0.
     */
    private static Basis basis(double[] gram, int k) {
        double[][] g = new double[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                g[i][j] = 0.5 * (gram[i * k + j] + gram[j * k + i]); // exactly symmetric
            }
        }
        EigenDecomposition eig = new EigenDecomposition(new Array2DRowRealMatrix(g, false));
        double[] values = eig.getRealEigenvalues();
        double max = 0;
        for (double x : values) {
            max = Math.max(max, x);
        }
        List<Integer> keep = new ArrayList<>();
        for (int j = 0; j < values.length; j++) {
            if (values[j] > GRAM_CUTOFF * max && values[j] > 0) {
                keep.add(j);
            }
        }
        if (keep.isEmpty()) {
            return null;
        }
        keep.sort((x, y) -> Double.compare(values[y], values[x]));
        RealMatrix w = eig.getV();
        double[][] r = new double[keep.size()][k];
        double[][] q = new double[k][keep.size()];
        for (int p = 0; p < keep.size(); p++) {
            int j = keep.get(p);
            double root = Math.sqrt(values[j]);
            for (int i = 0; i < k; i++) {
                r[p][i] = root * w.getEntry(i, j);
                q[i][p] = w.getEntry(i, j) / root;
            }
        }
        return new Basis(new Array2DRowRealMatrix(r, false), new Array2DRowRealMatrix(q, false));
    }

    /** {@code r = L^1/2 W^T} and {@code toQ = W L^-1/2} of one side. */
    private record Basis(RealMatrix r, RealMatrix toQ) {}
}
