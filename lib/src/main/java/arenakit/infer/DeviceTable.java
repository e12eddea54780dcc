package arenakit.infer;

import ai.djl.util.cuda.CudaUtils;
import java.util.List;
import java.util.Locale;

/**
 * The prior of the {@link CostModel}: how fast a device is assumed to run a decoder classifier before anything has
 * been measured. An estimate, for planning (the "about 3 h on 2x T4" printed before loading) and for the models of an
 * ensemble not yet run; the measured batches replace it as soon as there are some.
 *
 * <p>Derivation. A forward pass costs {@code 2 P} FLOPs per token for the P decoder parameters (projections and
 * MLP) plus, per layer, {@code 4 q length} FLOPs per token for the attention products (q = heads x head_dim) and
 * {@code heads x length^2} attention scores per sequence that eager attention (no FlashAttention on a T4) writes
 * and reads about six times in 16-bit (QK^T, the Gemma-2 soft-cap, the mask, softmax, the AV read): 12 bytes per
 * score. The effective rates below assume about 35% of each card's dense fp16 tensor peak (eager PyTorch, HF-style
 * modules, padded batches of ~16k tokens), 60% of its fp32 peak, and 80% of its memory bandwidth:
 *
 * <pre>
 * device        fp16 peak   fp16 used   fp32 used   bandwidth used
 * T4 (sm75)     65 TFLOP/s  22 TFLOP/s   5 TFLOP/s   256 GB/s
 * A100 (sm80)   312         110         12          1244
 * H100 (sm90)   989         350         40          2680
 * cpu           -           -           0.05        20      (a rough figure; CPUs vary too much for a table)
 * </pre>
 *
 * Two devices: pipelined halves run at 90% of twice one device (the hand-off and the pipeline's fill), data
 * parallel at 95%. For gemma-2-9b (8.3e9 decoder parameters) 35M tokens (25k rows x 700 x 2 for TTA) come to
 * about 4.5 h on 2x T4 by this table.
 */
public final class DeviceTable {
    /** One row of the table (rates in FLOP/s and bytes/s). */
    public record Device(String name, double fp16Flops, double fp32Flops, double bandwidth) {}

    static final Device T4 = new Device("T4", 22e12, 5e12, 256e9);
    static final Device A100 = new Device("A100", 110e12, 12e12, 1244e9);
    static final Device H100 = new Device("H100", 350e12, 40e12, 2680e9);
    static final Device CPU = new Device("cpu", 0, 5e10, 20e9);
    static final double SCORE_BYTES = 12;
    static final double PIPELINE_EFFICIENCY = 0.9;
    static final double DATA_PARALLEL_EFFICIENCY = 0.95;

    private DeviceTable() {}

    /** The decoder's size as the cost model needs it (from config.json, nothing loaded). */
    public record Shape(long params, int layers, int heads, int qDim, long weightBytes, boolean float16) {}

    /** The table's row for a DJL device name: the GPU's compute capability when one is visible, else a T4. */
    public static Device device(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (!n.startsWith("gpu")) {
            return CPU;
        }
        String digits = n.replaceAll("\\D", "");
        int id = digits.isEmpty() ? 0 : Integer.parseInt(digits);
        List<String> found = gpus();
        if (id < found.size()) {
            String cc = found.get(id);
            return cc.startsWith("9") ? H100 : cc.startsWith("8") ? A100 : T4;
        }
        return T4; // no CUDA runtime to ask: plan for Kaggle's card
    }

    /** Whether the devices named are looked up on this machine (false: assumed, e.g. planning on a CPU machine). */
    public static boolean detected(List<String> devices) {
        return devices.stream().noneMatch(d -> d.toLowerCase(Locale.ROOT).startsWith("gpu")) || !gpus().isEmpty();
    }

    private static List<String> gpus;

    /** The compute capabilities of this machine's GPUs, asked once (DJL logs a warning per question without CUDA). */
    private static synchronized List<String> gpus() {
        if (gpus == null) {
            List<String> out = new java.util.ArrayList<>();
            try {
                if (CudaUtils.hasCuda()) {
                    for (int i = 0; i < CudaUtils.getGpuCount(); i++) {
                        out.add(CudaUtils.getComputeCapability(i));
                    }
                }
            } catch (RuntimeException | LinkageError e) {
                // no CUDA runtime
            }
            gpus = List.copyOf(out);
        }
        return gpus;
    }

    /** The prior cost model of a model of this shape on the configured devices and mode. */
    public static CostModel prior(Shape shape, InferenceConfig inference, double calibration) {
        Device d = device(inference.devices().get(0));
        boolean half = shape.float16() && d.fp16Flops() > 0;
        double flops = half ? d.fp16Flops() : d.fp32Flops();
        double bytes = half ? SCORE_BYTES : 2 * SCORE_BYTES;
        double speedup = switch (inference.mode()) {
            case InferenceConfig.PIPELINE -> 2 * PIPELINE_EFFICIENCY;
            case InferenceConfig.DATA_PARALLEL -> inference.devices().size() * DATA_PARALLEL_EFFICIENCY;
            default -> 1;
        };
        double a = 2.0 * shape.params() / flops / speedup;
        double b = (4.0 * shape.layers() * shape.qDim() / flops
                + (double) shape.layers() * shape.heads() * bytes / d.bandwidth()) / speedup;
        return new CostModel(a, b, calibration);
    }

    /** "2x T4 (pipeline)", "cpu", "A100". */
    public static String describe(InferenceConfig inference) {
        Device d = device(inference.devices().get(0));
        int n = inference.devices().size();
        String what = (n > 1 ? n + "x " : "") + d.name();
        return what + (n > 1 ? " (" + inference.mode().replace('_', ' ') + ")" : "")
                + (detected(inference.devices()) ? "" : ", assumed: no GPU visible here");
    }

    /** Seconds to load weights of {@code bytes} before anything was measured (reading and converting ~0.5 GB/s). */
    static double loadSeconds(long bytes) {
        return bytes / 0.5e9;
    }
}
