package arenakit.model.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * Causal grouped-query attention as transformers' {@code eager_attention_forward}, over the packed or padded
 * layout of {@link TokenBatch}: {@code softmax(q k^T * scale + mask) v}, with query head {@code h} reading kv head
 * {@code h / (heads / kvHeads)} (repeat_kv's order; multi-head attention is the case heads = kvHeads).
 *
 * <p>The scale comes with the queries ({@link Positions#rotateQueries}). With a soft cap the scores become
 * {@code cap * tanh(s / cap)} (Gemma-2); the queries then arrive divided by {@code cap} as well, so the scores,
 * the largest tensor of a layer, see only the tanh and one multiplication.
 *
 * <p>The scores are made block by block, never for a whole long sequence at once: each packed sequence (or group of
 * padded rows) is split into blocks of query rows whose scores stay under {@link #blockBytes} (in cache on a CPU,
 * bounded on a GPU), and a block of queries {@code [q0, q1)} meets only the keys it can see, {@code [0, q1)} (or the
 * sliding window's). That skips the masked upper triangle (about half the work and, under autograd, half the saved
 * scores) and bounds what a block allocates besides what autograd keeps. Results are exactly those of one big call.
 */
public final class Attention {
    private Attention() {}

    /** Bytes of one block's scores: in cache on a CPU, a bounded share of the memory on a GPU. */
    public static long blockBytes(boolean gpu) {
        return gpu ? 1L << 30 : 8L << 20;
    }

    /**
     * Query rows of one block under {@link #blockBytes}, at least 64 (and at most 512 on a GPU, so that a long
     * sequence still skips most of the masked triangle): for {@code rows} rows of keys {@code keys}.
     */
    public static long blockRows(long rows, long heads, long keys, long bytes, boolean gpu) {
        Long fixed = BLOCK_ROWS.get();
        if (fixed != null) {
            return fixed;
        }
        long fit = Math.max(64, blockBytes(gpu) / Math.max(1, rows * heads * keys * bytes));
        return gpu ? Math.min(512, fit) : fit;
    }

    private static final ThreadLocal<Long> BLOCK_ROWS = new ThreadLocal<>();

    /**
     * Runs {@code body} on this thread with blocks of {@code rows} query rows (tests: many blocks on short
     * sequences, with sliding windows inside them, or one block per sequence), then the usual sizes.
     */
    public static <T> T withBlockRows(long rows, java.util.function.Supplier<T> body) {
        if (rows <= 0) {
            throw new IllegalArgumentException("block rows must be > 0, got " + rows);
        }
        BLOCK_ROWS.set(rows);
        try {
            return body.get();
        } finally {
            BLOCK_ROWS.remove();
        }
    }

    /**
     * Score elements per head and row that one sequence of {@code length} tokens computes (and, under autograd,
     * keeps twice: the soft cap's tanh and the probabilities), blocked as {@link #grouped} blocks it.
     */
    public static long scoreElements(long length, long blockRows, Integer window) {
        long n = 0;
        for (long q0 = 0; q0 < length; q0 += blockRows) {
            long q1 = Math.min(length, q0 + blockRows);
            long k0 = window == null ? 0 : Math.max(0, q0 - window + 1);
            n += (q1 - q0) * (q1 - k0);
        }
        return n;
    }

    /**
     * Attention of {@code q [b, t, heads, d]} (rotated and scaled) over {@code k, v [b, t, kvHeads, d]}; returns
     * {@code [b, t, heads * d]}. The inputs are closed.
     *
     * @param sliding use the sliding-window mask of {@code positions} (a layer with local attention)
     * @param softCap the soft cap of the scores, or null for none
     */
    public static NDArray grouped(NDArray q, NDArray k, NDArray v, Positions positions, boolean sliding,
            Float softCap) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        long heads = q.getShape().get(2);
        long bytes = q.getDataType().getNumOfBytes();
        boolean gpu = q.getDevice().isGpu();
        NDArray mask = positions.mask(sliding);
        Integer window = sliding ? positions.slidingWindow() : null;
        TokenBatch batch = positions.batch();
        // spans: rows [r0, r1) x tokens [t0, t0 + length) attending among themselves
        List<long[]> spans = new ArrayList<>();
        if (batch.packed()) {
            int[] lengths = batch.lengths();
            int[] offsets = batch.offsets();
            for (int i = 0; i < lengths.length; i++) {
                spans.add(new long[] {0, 1, offsets[i], lengths[i]});
            }
        } else {
            long rows = Math.max(1, blockBytes(gpu) / (heads * t * t * bytes));
            for (long r = 0; r < b; r += rows) {
                spans.add(new long[] {r, Math.min(b, r + rows), 0, t});
            }
        }
        NDList groups = new NDList();
        for (long[] span : spans) {
            long rows = span[1] - span[0];
            long length = span[3];
            long block = blockRows(rows, heads, length, bytes, gpu);
            String r = span[0] + ":" + span[1] + ", ";
            NDIndex tokens = new NDIndex(r + span[2] + ":" + (span[2] + length));
            boolean whole = spans.size() == 1;
            NDArray qs = whole ? q : q.get(tokens);
            // keys as [b, kv, d, t] and values as [b, kv, t, d], made contiguous once per span: every block reads
            // a view of them, so autograd keeps one copy, not one per block
            NDArray keys = contiguous(Elementwise.consume(whole ? k : k.get(tokens), x -> x.transpose(0, 2, 3, 1)));
            NDArray values = contiguous(Elementwise.consume(whole ? v : v.get(tokens),
                    x -> x.transpose(0, 2, 1, 3)));
            NDList blocks = new NDList();
            for (long q0 = 0; q0 < length; q0 += block) {
                long q1 = Math.min(length, q0 + block);
                long k0 = window == null ? 0 : Math.max(0, q0 - window + 1);
                boolean all = q0 == 0 && q1 == length && k0 == 0;
                blocks.add(attend(all ? qs : qs.get(":, " + q0 + ":" + q1),
                        all ? keys : keys.get(":, :, :, " + k0 + ":" + q1),
                        all ? values : values.get(":, :, " + k0 + ":" + q1), mask.get(q0 + ":" + q1 + ", " + k0 + ":"
                        + q1), softCap));
            }
            keys.close();
            values.close();
            groups.add(concat(blocks, 1));
        }
        NDArray out = concat(groups, batch.packed() ? 1 : 0);
        q.close();
        k.close();
        v.close();
        return out;
    }

    /** {@code x} laid out contiguously (a copy when it is a strided view, e.g. transposed). */
    private static NDArray contiguous(NDArray x) {
        NDArray flat = x.flatten();
        NDArray out = flat.reshape(x.getShape());
        flat.close();
        x.close();
        return out;
    }

    private static NDArray concat(NDList parts, int axis) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        NDArray out = NDArrays.concat(parts, axis);
        parts.close();
        return out;
    }

    /**
     * One block: queries {@code [b, tq, heads, d]} over keys {@code [b, kvHeads, d, tk]} and values
     * {@code [b, kvHeads, tk, d]} with the additive mask {@code [tq, tk]}. Grouped-query attention without
     * repeat_kv: the query heads that share a kv head are stacked as {@code group * tq} rows, one matmul per kv head.
     */
    private static NDArray attend(NDArray q, NDArray keys, NDArray values, NDArray mask, Float softCap) {
        long b = q.getShape().get(0);
        long tq = q.getShape().get(1);
        long heads = q.getShape().get(2);
        long d = q.getShape().get(3);
        long kvHeads = keys.getShape().get(1);
        long tk = keys.getShape().get(3);
        long group = heads / kvHeads;
        Elementwise ew = Elementwise.current();

        NDArray qg = q.transpose(0, 2, 1, 3).reshape(b, kvHeads, group * tq, d);
        NDArray scores = qg.matMul(keys);
        qg.close();
        if (softCap != null) { // q was pre-divided by the cap
            scores = ew.mul(Elementwise.consume(scores, NDArray::tanh), softCap);
        }
        // the mask added in place even under autograd: neither the product above nor the add keeps the scores
        NDArray masked = scores.reshape(b, kvHeads, group, tq, tk).addi(mask);
        scores.close();
        NDArray probs = Elementwise.consume(masked, s -> s.softmax(-1));
        NDArray out = Elementwise.consume(probs.reshape(b, kvHeads, group * tq, tk), p -> p.matMul(values));
        probs.close();
        return Elementwise.consume(out, o -> o.reshape(b, heads, tq, d).transpose(0, 2, 1, 3).reshape(b, tq, heads * d));
    }
}
