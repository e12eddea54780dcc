package arenakit.model.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import arenakit.model.lora.LoraLinear;

/** The gated MLP of all three families: {@code down_proj(act(gate_proj(x)) * up_proj(x))}. */
public final class GatedMlp {
    private GatedMlp() {}

    /** The MLP on {@code x [..., hidden]}; {@code x} is not closed. */
    public static NDArray forward(NDArray x, LoraLinear gateProj, LoraLinear upProj, LoraLinear downProj,
            Activation act, boolean training) {
        Shape shape = x.getShape();
        long width = shape.get(shape.dimension() - 1);
        long tokens = shape.size() / width;
        // Token blocks keep the intermediate (several times wider than hidden) small: in cache on a CPU (about 4 MB
        // per array), and a fraction of the micro-batch's memory on a GPU.
        long block = blockTokens(gateProj.outFeatures(), x.getDevice().isGpu());
        if (tokens <= block) {
            return block(x, gateProj, upProj, downProj, act, training);
        }
        NDArray flat = x.reshape(tokens, width);
        NDList parts = new NDList();
        for (long start = 0; start < tokens; start += block) {
            parts.add(block(flat.get(start + ":" + Math.min(tokens, start + block)), gateProj, upProj, downProj, act,
                    training));
        }
        NDArray out = NDArrays.concat(parts, 0).reshape(shape.slice(0, shape.dimension() - 1).add(downProj.outFeatures()));
        parts.close();
        return out;
    }

    /** Tokens per block of an MLP of width {@code intermediate}: about 4 MB per array on a CPU, 64 MB on a GPU. */
    public static long blockTokens(long intermediate, boolean gpu) {
        return Math.max(64, (gpu ? 1L << 24 : 1L << 20) / intermediate);
    }

    private static NDArray block(NDArray x, LoraLinear gateProj, LoraLinear upProj, LoraLinear downProj,
            Activation act, boolean training) {
        NDArray gate = Elementwise.consume(gateProj.forward(x, training), act::apply);
        NDArray up = upProj.forward(x, training);
        NDArray h = Elementwise.current().mul(gate, up);
        up.close();
        return Elementwise.consume(h, a -> downProj.forward(a, training));
    }
}
