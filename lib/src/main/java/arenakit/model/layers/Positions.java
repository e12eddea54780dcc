package arenakit.model.layers;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import arenakit.model.tensor.TorchScalar;

/**
 * What every decoder layer needs besides its input, for one batch layout on one device: the RoPE tables of each
 * token's position and the attention masks. Built once per batch and device and shared by the layers there, so a
 * single layer can also be run (or re-run, for activation checkpointing) on its own.
 *
 * <p>The query tables also carry the attention's score scale (and {@code 1 / cap} for soft-capped scores, see
 * {@link Attention}), so no pass over the scores is spent on scaling.
 */
public final class Positions implements AutoCloseable {
    private final NDManager manager;
    private final Device device;
    private final TokenBatch batch;
    private final NDArray cosQ;
    private final NDArray sinQ;
    private final NDArray cosK;
    private final NDArray sinK;
    private final NDArray causalMask;
    private final NDArray slidingMask;
    private final Integer slidingWindow;

    /**
     * Tables for {@code batch} in {@code dtype}, owned by a sub-manager of {@code parent} on {@code device}: RoPE per
     * position (padded) or per token (packed), computed in float32 as transformers does; causal and (with a
     * {@code slidingWindow}) sliding-window masks for the longest sequence (a sequence of the packed layout uses
     * their top-left corner).
     *
     * @param inverseFrequencies {@link Rope#inverseFrequencies()}, {@code head_dim / 2} values
     * @param queryScale multiplies every query (the score scale, e.g. {@code head_dim^-0.5})
     * @param slidingWindow a query sees at most this many keys (itself included) in sliding layers; null for none
     */
    public Positions(TokenBatch batch, float[] inverseFrequencies, float queryScale, Integer slidingWindow,
            NDManager parent, Device device, DataType dtype) {
        this.manager = parent.newSubManager(device);
        this.device = device;
        this.batch = batch;
        this.slidingWindow = slidingWindow;
        int length = batch.maxLength();
        int half = inverseFrequencies.length;
        int d = 2 * half;
        // Angles and their cos/sin in float32 PyTorch ops, as transformers computes them. Only the positions and
        // frequencies come from Java: arrays made from Java data sit in direct buffers that are freed at garbage
        // collection only (and must not back anything autograd keeps, hence duplicate()).
        long[] positions = batch.positions();
        int n = positions.length;
        try (NDManager tmp = manager.newSubManager()) {
            NDArray pos = tmp.create(positions).duplicate().toType(DataType.FLOAT32, false).reshape(n, 1);
            NDArray freq = tmp.create(inverseFrequencies).duplicate().reshape(1, half);
            NDArray angle = pos.mul(freq);
            NDArray cosHalf = angle.cos();
            NDArray sinHalf = angle.sin();
            NDArray cos = cosHalf.concat(cosHalf, 1).reshape(n, 1, d);
            NDArray sin = sinHalf.neg().concat(sinHalf, 1).reshape(n, 1, d); // rotate_half's sign folded in
            NDArray scale = TorchScalar.of(cos, queryScale);
            this.cosQ = keep(cos.mul(scale).toType(dtype, false));
            this.sinQ = keep(sin.mul(scale).toType(dtype, false));
            this.cosK = keep(cos.toType(dtype, true));
            this.sinK = keep(sin.toType(dtype, true));

            // the [t, t] masks filled in place where broadcast comparisons say: beside them only boolean [t, t]
            NDArray query = tmp.arange(length).reshape(length, 1);
            NDArray key = tmp.arange(length).reshape(1, length);
            NDArray future = key.gt(query);
            this.causalMask = keep(masked(tmp, length, future, dtype));
            this.slidingMask = slidingWindow == null ? causalMask : keep(masked(tmp, length,
                    future.logicalOr(query.gte(key.add(slidingWindow))), dtype));
        }
    }

    /** An additive mask: -inf where {@code hidden}, else 0. */
    private static NDArray masked(NDManager m, int length, NDArray hidden, DataType dtype) {
        NDArray mask = m.zeros(new Shape(length, length), dtype);
        mask.set(hidden, Float.NEGATIVE_INFINITY);
        return mask;
    }

    /** Moves a table out of the temporaries into this object's manager. */
    private NDArray keep(NDArray a) {
        a.attach(manager);
        return a;
    }

    public TokenBatch batch() {
        return batch;
    }

    public Device device() {
        return device;
    }

    /** RoPE of queries {@code [b, t, heads, head_dim]}, times the query scale; {@code q} is used up. */
    public NDArray rotateQueries(NDArray q) {
        return rotate(q, cosQ, sinQ);
    }

    /** RoPE of keys {@code [b, t, kvHeads, head_dim]}; {@code k} is used up. */
    public NDArray rotateKeys(NDArray k) {
        return rotate(k, cosK, sinK);
    }

    /** Keys a query sees in sliding layers (itself included), or null when no layer slides. */
    public Integer slidingWindow() {
        return slidingWindow;
    }

    /** The additive {@code [t, t]} mask (0 or -inf): causal, and limited to the window when {@code sliding}. */
    public NDArray mask(boolean sliding) {
        return sliding ? slidingMask : causalMask;
    }

    /** {@code x * cos + rotate_half(x) * sin}, with rotate_half's sign folded into sin; x is used up. */
    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        Elementwise ew = Elementwise.current();
        Shape s = x.getShape();
        NDArray rotated = ew.mul(x.reshape(s.get(0), s.get(1), s.get(2), 2, s.get(3) / 2).flip(3).reshape(s), sin);
        NDArray out = ew.add(ew.mul(x, cos), rotated);
        rotated.close();
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
