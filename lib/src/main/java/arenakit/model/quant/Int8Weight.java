package arenakit.model.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import arenakit.model.lora.LinearWeight;
import arenakit.model.tensor.NoGrad;

/**
 * A linear layer's frozen weight stored as int8, symmetric per output channel (absmax, LLM.int8()'s row-wise
 * scheme without its outlier split): row {@code o} keeps {@code s_o = max_i |W_oi| / 127} and codes
 * {@code q_oi = round(W_oi / s_o)} in [-127, 127], so each weight is off by at most {@code s_o / 2}. The codes stay
 * int8 on the device; each forward dequantizes the whole projection ({@code q * s}, in the compute type), runs the
 * matmul and frees the copy, so one projection at a time exists in float.
 *
 * <p>Scales are kept in the compute type ({@code [out, 1]}; in float32 for a float16 weight with a row so small
 * that its float16 scale would be subnormal). The weight is never trained: DJL's {@code toType}
 * converts under no-grad, and the dequantized copy does not require a gradient, so autograd reaches the input (and
 * LoRA A/B above it) but never the codes. Under autograd the matmul keeps its dequantized weight for the backward
 * pass until then (the price of having no fused int8 kernel in DJL).
 */
public final class Int8Weight implements LinearWeight {
    /** Largest code: symmetric, so -128 is never used. */
    static final float QMAX = 127f;
    /** The smallest normal float16 (2^-14): smaller scales are kept in float32. */
    private static final float FP16_MIN_NORMAL = 6.1035156e-5f;

    private final NDArray codes;
    private final NDArray scales;
    private final DataType dtype;

    private Int8Weight(NDArray codes, NDArray scales, DataType dtype) {
        this.codes = codes;
        this.scales = scales;
        this.dtype = dtype;
    }

    /** {@link #quantize(NDArray, NDManager, DataType, String)} onto {@code w}'s own manager. */
    public static Int8Weight quantize(NDArray w, DataType dtype, String name) {
        return quantize(w, w.getManager(), dtype, name);
    }

    /**
     * Quantizes {@code w} ({@code [out, in]}, any float type, not consumed) into a new weight owned by {@code into}
     * (on {@code w}'s device) that computes in {@code dtype}. Computed in float32; a non-finite weight is an error
     * naming {@code name}.
     */
    public static Int8Weight quantize(NDArray w, NDManager into, DataType dtype, String name) {
        if (w.getShape().dimension() != 2) {
            throw new IllegalArgumentException(name + ": only 2-D weights are quantized, got " + w.getShape());
        }
        try (NoGrad g = NoGrad.enter(); NDManager tmp = w.getManager().newSubManager()) {
            NDArray w32 = w.getDataType() == DataType.FLOAT32 ? w.stopGradient() : w.toType(DataType.FLOAT32, false);
            w32.attach(tmp);
            NDArray absmax = w32.abs();
            absmax.attach(tmp);
            NDArray rowMax = absmax.max(new int[] {1}, true);
            rowMax.attach(tmp);
            absmax.close();
            if (!Float.isFinite(rowMax.max().getFloat())) {
                throw new IllegalArgumentException(name + ": has non-finite values (NaN or infinity); cannot "
                        + "quantize it to int8");
            }
            NDArray scale32 = rowMax.div(QMAX);
            scale32.attach(tmp);
            // an all-zero row has scale 0: divide by the smallest normal float instead (its codes are all 0)
            NDArray divisor = scale32.maximum(Float.MIN_NORMAL);
            divisor.attach(tmp);
            NDArray ratio = w32.div(divisor);
            ratio.attach(tmp);
            // |ratio| <= 127 up to one ulp by construction, so rounding never leaves [-127, 127]
            NDArray rounded = ratio.round();
            rounded.attach(tmp);
            ratio.close();
            NDArray codes = rounded.toType(DataType.INT8, false);
            // scales in the compute type, unless a float16 scale would be subnormal (a row with max |w| < 7.8e-3)
            // and so lose precision: then float32 scales, and the dequantization goes through float32
            DataType scaleType = dtype == DataType.FLOAT16 && smallestNonZero(scale32, tmp) < FP16_MIN_NORMAL
                    ? DataType.FLOAT32 : dtype;
            NDArray scales = scale32.toType(scaleType, false);
            if (scales == scale32) { // already that type: the same array, which tmp would close
                scales = scale32.duplicate();
            }
            for (NDArray a : new NDArray[] {codes, scales}) {
                a.attach(into);
                NDScope.unregister(a); // outlives any scope the caller has open
            }
            return new Int8Weight(codes, scales, dtype);
        }
    }

    /** The smallest non-zero value of {@code a} (non-negative), or the largest float when all are zero. */
    private static float smallestNonZero(NDArray a, NDManager tmp) {
        NDArray zeros = a.eq(0f).toType(DataType.FLOAT32, false);
        zeros.attach(tmp);
        NDArray lifted = zeros.muli(Float.MAX_VALUE).addi(a); // zeros lifted out of the way (0 x MAX is 0)
        return lifted.min().getFloat();
    }

    /** The per-row scales {@code [out, 1]}: in the compute type (float32 for a float16 weight with tiny rows). */
    public NDArray codes() {
        return codes;
    }

    public NDArray scales() {
        return scales;
    }

    @Override
    public NDArray apply(NDArray x, NDArray bias) {
        NDArray w = dense();
        NDArray y = Linear.linear(x, w, bias).singletonOrThrow();
        w.close(); // autograd, when recording, keeps its own reference for the backward pass
        return y;
    }

    /** {@code q * s} in the compute type: a new array (the caller closes it). */
    @Override
    public NDArray dense() {
        if (scales.getDataType() != dtype) {
            try (NDArray wide = codes.toType(scales.getDataType(), false).muli(scales)) {
                return wide.toType(dtype, false);
            }
        }
        return codes.toType(dtype, false).muli(scales);
    }

    @Override
    public LinearWeight plus(NDArray delta) {
        try (NDManager tmp = codes.getManager().newSubManager()) {
            NDArray w = codes.toType(DataType.FLOAT32, false);
            w.attach(tmp);
            NDArray s = scales.toType(DataType.FLOAT32, false);
            if (s != scales) { // a float32 scale is the weight's own array: it stays where it is
                s.attach(tmp);
            }
            NDArray d = delta;
            if (d.getDataType() != DataType.FLOAT32) {
                d = delta.toType(DataType.FLOAT32, false);
                d.attach(tmp);
            }
            return quantize(w.muli(s).addi(d), codes.getManager(), dtype, "merged weight");
        }
    }

    @Override
    public boolean quantized() {
        return true;
    }

    @Override
    public long bytes() {
        return codes.size() + scales.size() * scales.getDataType().getNumOfBytes();
    }

    @Override
    public Shape shape() {
        return codes.getShape();
    }

    @Override
    public DataType dataType() {
        return dtype;
    }

    @Override
    public NDManager manager() {
        return codes.getManager();
    }

    @Override
    public void close() {
        codes.close();
        scales.close();
    }
}
