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
 */
public final class Attention {
    private Attention() {}

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
        NDArray mask = positions.mask(sliding);
        // In pieces: each packed sequence on its own span; padded rows in groups whose scores stay small (in cache
        // on a CPU, bounded on a GPU). Results are exactly those of one big batched call.
        TokenBatch batch = positions.batch();
        List<NDIndex> spans = new ArrayList<>();
        List<NDArray> masks = new ArrayList<>();
        if (batch.packed()) {
            int[] lengths = batch.lengths();
            int[] offsets = batch.offsets();
            for (int i = 0; i < lengths.length; i++) {
                spans.add(new NDIndex(":, " + offsets[i] + ":" + (offsets[i] + lengths[i])));
                masks.add(mask.get(":" + lengths[i] + ", :" + lengths[i]));
            }
        } else {
            long scoresPerRow = heads * t * t * q.getDataType().getNumOfBytes();
            long rows = Math.max(1, (q.getDevice().isGpu() ? 1L << 30 : 8L << 20) / scoresPerRow);
            for (long r = 0; r < b; r += rows) {
                spans.add(new NDIndex(r + ":" + Math.min(b, r + rows)));
                masks.add(mask);
            }
        }
        NDArray out;
        if (spans.size() == 1) {
            out = attend(q, k, v, mask, softCap);
        } else {
            NDList parts = new NDList();
            for (int i = 0; i < spans.size(); i++) {
                NDIndex span = spans.get(i);
                parts.add(attend(q.get(span), k.get(span), v.get(span), masks.get(i), softCap));
            }
            out = NDArrays.concat(parts, batch.packed() ? 1 : 0);
            parts.close();
        }
        q.close();
        k.close();
        v.close();
        return out;
    }

    /**
     * One block of rows. Grouped-query attention without repeat_kv: the query heads that share a kv head are stacked
     * as {@code group * t} rows, one matmul per kv head.
     */
    private static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask, Float softCap) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        long heads = q.getShape().get(2);
        long d = q.getShape().get(3);
        long kvHeads = k.getShape().get(2);
        long group = heads / kvHeads;
        Elementwise ew = Elementwise.current();

        NDArray qg = q.transpose(0, 2, 1, 3).reshape(b, kvHeads, group * t, d);
        NDArray scores = qg.matMul(k.transpose(0, 2, 3, 1));
        qg.close();
        if (softCap != null) { // q was pre-divided by the cap
            scores = ew.mul(Elementwise.consume(scores, NDArray::tanh), softCap);
        }
        NDArray probs = Elementwise.consume(ew.add(scores.reshape(b, kvHeads, group, t, t), mask), s -> s.softmax(-1));
        scores.close();
        NDArray out = Elementwise.consume(probs.reshape(b, kvHeads, group * t, t), p -> p.matMul(v.transpose(0, 2, 1, 3)));
        probs.close();
        return Elementwise.consume(out, o -> o.reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, heads * d));
    }
}
