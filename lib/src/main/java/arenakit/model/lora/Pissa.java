package arenakit.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * PiSSA initialisation (Meng et al., 2024; PEFT's {@code init_lora_weights="pissa_niter_N"}): LoRA starts on the
 * top-r singular directions of W, {@code A = sqrt(S_r / s) V_r^T}, {@code B = U_r sqrt(S_r / s)}, and the base
 * becomes the residual {@code W - s B A}, so the model computes exactly what it did before.
 *
 * <p>The top-r SVD is a randomized subspace iteration (Halko et al.), as {@code torch.svd_lowrank}: the large
 * products run in DJL on W's device, only k x k problems (k = r + 8) are solved in Java. DJL has no SVD.
 */
final class Pissa {
    private static final int OVERSAMPLE = 8;

    private Pissa() {}

    /** The starting adapter: A {@code [r, in]}, B {@code [out, r]}, float32, in W's manager. */
    record Init(NDArray a, NDArray b) {}

    static Init decompose(NDArray weight, int r, double scaling, int iterations, Random random) {
        int m = (int) weight.getShape().get(0);
        int n = (int) weight.getShape().get(1);
        if (r > Math.min(m, n)) {
            throw new IllegalArgumentException("PiSSA rank " + r + " exceeds min" + weight.getShape());
        }
        int k = Math.min(r + OVERSAMPLE, Math.min(m, n));
        NDManager manager = weight.getManager();
        try (NDScope scope = new NDScope()) {
            NDArray w = weight.stopGradient().toType(DataType.FLOAT32, false);
            float[] omega = new float[n * k];
            for (int i = 0; i < omega.length; i++) {
                omega[i] = (float) random.nextGaussian();
            }
            NDArray q = orthonormal(w.matMul(manager.create(omega, new Shape(n, k)).toDevice(w.getDevice(), false)),
                    random);
            NDArray wt = w.transpose();
            for (int it = 0; it < iterations; it++) {
                NDArray z = orthonormal(wt.matMul(q), random);
                q = orthonormal(w.matMul(z), random);
            }
            NDArray small = q.transpose().matMul(w); // [k, n]: W ~ q small
            NDArray small64 = small.toType(DataType.FLOAT64, false);
            double[] gram = small64.matMul(small64.transpose()).toDoubleArray();
            double[][] vectors = new double[k][k];
            double[] values = symmetricEigen(gram, k, vectors);

            double[] topVectors = new double[k * r];
            float[] rootScaled = new float[r];
            float[] invSigma = new float[r];
            double sigma0 = Math.sqrt(Math.max(values[0], 0));
            for (int j = 0; j < r; j++) {
                double sigma = Math.sqrt(Math.max(values[j], 0));
                rootScaled[j] = (float) Math.sqrt(sigma / scaling);
                invSigma[j] = sigma > 1e-12 * sigma0 ? (float) (1 / sigma) : 0f;
                for (int i = 0; i < k; i++) {
                    topVectors[i * r + j] = vectors[i][j];
                }
            }
            NDArray ub = manager.create(topVectors, new Shape(k, r)).toType(DataType.FLOAT32, false)
                    .toDevice(w.getDevice(), false);
            NDArray u = q.matMul(ub); // [m, r]
            NDArray inv = manager.create(invSigma, new Shape(r, 1)).toDevice(w.getDevice(), false);
            NDArray vt = ub.transpose().matMul(small).mul(inv); // [r, n]
            NDArray root = manager.create(rootScaled).toDevice(w.getDevice(), false);
            NDArray b = u.mul(root);
            NDArray a = vt.mul(root.reshape(r, 1));
            NDScope.unregister(a, b);
            a.attach(manager);
            b.attach(manager);
            return new Init(a, b);
        }
    }

    /** Orthonormal columns spanning {@code y} ({@code [p, k]}): Cholesky-QR twice in float64, Gram-Schmidt if singular. */
    private static NDArray orthonormal(NDArray y, Random random) {
        int k = (int) y.getShape().get(1);
        NDArray cur = y.toType(DataType.FLOAT64, false);
        for (int pass = 0; pass < 2; pass++) {
            double[] gram = cur.transpose().matMul(cur).toDoubleArray();
            double[] rInv = choleskyUpperInverse(gram, k);
            if (rInv == null) {
                return gramSchmidt(y, random);
            }
            cur = cur.matMul(cur.getManager().create(rInv, new Shape(k, k)).toDevice(cur.getDevice(), false));
        }
        return cur.toType(DataType.FLOAT32, false);
    }

    /** R^-1 for G = R^T R (R upper triangular), or null when G is not numerically positive definite. */
    private static double[] choleskyUpperInverse(double[] g, int k) {
        double[] r = new double[k * k];
        double maxDiag = 0;
        for (int i = 0; i < k; i++) {
            maxDiag = Math.max(maxDiag, g[i * k + i]);
        }
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) {
                double s = g[i * k + j];
                for (int p = 0; p < i; p++) {
                    s -= r[p * k + i] * r[p * k + j];
                }
                if (i == j) {
                    if (s <= 1e-13 * maxDiag) {
                        return null;
                    }
                    r[i * k + i] = Math.sqrt(s);
                } else {
                    r[i * k + j] = s / r[i * k + i];
                }
            }
        }
        double[] inv = new double[k * k]; // back substitution, column by column
        for (int c = 0; c < k; c++) {
            for (int i = c; i >= 0; i--) {
                double s = i == c ? 1 : 0;
                for (int p = i + 1; p <= c; p++) {
                    s -= r[i * k + p] * inv[p * k + c];
                }
                inv[i * k + c] = s / r[i * k + i];
            }
        }
        return inv;
    }

    /** Modified Gram-Schmidt with re-orthogonalisation; a vanishing column is replaced by a random direction. */
    private static NDArray gramSchmidt(NDArray y, Random random) {
        int p = (int) y.getShape().get(0);
        int k = (int) y.getShape().get(1);
        double[] a = y.toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] cols = new double[k][p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < k; j++) {
                cols[j][i] = a[i * k + j];
            }
        }
        for (int j = 0; j < k; j++) {
            double before = norm(cols[j]);
            for (int pass = 0; pass < 2; pass++) {
                for (int q = 0; q < j; q++) {
                    double dot = 0;
                    for (int i = 0; i < p; i++) {
                        dot += cols[q][i] * cols[j][i];
                    }
                    for (int i = 0; i < p; i++) {
                        cols[j][i] -= dot * cols[q][i];
                    }
                }
            }
            double after = norm(cols[j]);
            if (after <= 1e-10 * Math.max(before, 1e-300)) {
                for (int i = 0; i < p; i++) {
                    cols[j][i] = random.nextGaussian();
                }
                j--; // orthogonalise the random replacement
                continue;
            }
            for (int i = 0; i < p; i++) {
                cols[j][i] /= after;
            }
        }
        float[] out = new float[p * k];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < k; j++) {
                out[i * k + j] = (float) cols[j][i];
            }
        }
        return y.getManager().create(out, new Shape(p, k)).toDevice(y.getDevice(), false);
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    /**
     * Eigen-decomposition of a symmetric {@code k x k} matrix (cyclic Jacobi): eigenvalues in descending order,
     * eigenvectors in the columns of {@code vectors}.
     */
    static double[] symmetricEigen(double[] matrix, int k, double[][] vectors) {
        double[][] a = new double[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                a[i][j] = matrix[i * k + j];
                vectors[i][j] = i == j ? 1 : 0;
            }
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            double total = 0;
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    total += a[i][j] * a[i][j];
                    if (i != j) {
                        off += a[i][j] * a[i][j];
                    }
                }
            }
            if (off <= 1e-30 * total) {
                break;
            }
            for (int p = 0; p < k - 1; p++) {
                for (int q = p + 1; q < k; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int i = 0; i < k; i++) {
                        double aip = a[i][p];
                        double aiq = a[i][q];
                        a[i][p] = c * aip - s * aiq;
                        a[i][q] = s * aip + c * aiq;
                    }
                    for (int i = 0; i < k; i++) {
                        double api = a[p][i];
                        double aqi = a[q][i];
                        a[p][i] = c * api - s * aqi;
                        a[q][i] = s * api + c * aqi;
                    }
                    for (int i = 0; i < k; i++) {
                        double vip = vectors[i][p];
                        double viq = vectors[i][q];
                        vectors[i][p] = c * vip - s * viq;
                        vectors[i][q] = s * vip + c * viq;
                    }
                }
            }
        }
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(a[y][y], a[x][x]));
        double[] values = new double[k];
        double[][] sorted = new double[k][k];
        for (int j = 0; j < k; j++) {
            values[j] = a[order[j]][order[j]];
            for (int i = 0; i < k; i++) {
                sorted[i][j] = vectors[i][order[j]];
            }
        }
        for (int i = 0; i < k; i++) {
            vectors[i] = sorted[i];
        }
        return values;
    }
}
