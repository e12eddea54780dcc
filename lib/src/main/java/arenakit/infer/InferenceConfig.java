package arenakit.infer;

import arenakit.model.Placement;
import arenakit.model.quant.Quantization;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * How predictions are made (pseudo-labels, submission, evaluation).
 *
 * @param tta average f(A,B) with the swapped-back f(B,A)
 * @param devices device names ("cpu", "gpu(0)" or "gpu0", "gpu(1)"; see {@link Placement#device})
 * @param mode "single" (one device), "pipeline" (layers split across two devices, micro-batches flowing through
 *     both at once) or "data_parallel" (one full model per device, the batches shared between them)
 * @param splitLayer first decoder layer of the second device in pipeline mode (null = half the layers)
 * @param maxTokens padded tokens per micro-batch (rows x longest row)
 * @param postprocess the empty/identical-response rules (null = off)
 * @param estimateAfterBatches log the projected finish (from the measured throughput and the cost model) after
 *     this many batches
 * @param timeBudget wall-clock budget of the whole stage, model loading included ("8h30m", "90s", "1.5h"; null or
 *     "off" = none): when the projected finish passes it, the stage degrades the rows still to do in a fixed order,
 *     and at its hard limit every row still gets a prediction ({@link TimeBudget})
 * @param quantize how every model's projections are stored: "int8" (per output row, dequantized one projection at
 *     a time: about half the weight memory of float16) or "none"; null = each model as its training stage's
 *     {@code model.quantize} says. An ensemble entry's own {@code quantize} overrides it
 * @param deviceMemoryGib memory of each device in GiB for the memory check before a model loads; null = what the
 *     device reports (CUDA's free memory; the machine's available memory for the CPU); a number plans for another
 *     machine (on a GPU the smaller of it and the free memory is used)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record InferenceConfig(boolean tta, List<String> devices, String mode, @StrictJson.Nullable Integer splitLayer,
        int maxTokens, @StrictJson.Nullable PostProcessConfig postprocess, int estimateAfterBatches,
        @StrictJson.Default("null") String timeBudget, @StrictJson.Default("null") String quantize,
        @StrictJson.Default("null") Double deviceMemoryGib) {

    public static final String SINGLE = "single";
    public static final String PIPELINE = "pipeline";
    public static final String DATA_PARALLEL = "data_parallel";

    public InferenceConfig {
        if (devices == null || devices.isEmpty()) {
            throw new IllegalArgumentException("inference.devices must name the device(s), e.g. [\"cpu\"]");
        }
        devices = List.copyOf(devices);
        mode = mode == null ? SINGLE : mode.toLowerCase(Locale.ROOT);
        if (!List.of(SINGLE, PIPELINE, DATA_PARALLEL).contains(mode)) {
            throw new IllegalArgumentException("inference.mode must be single, pipeline or data_parallel, got " + mode);
        }
        devices.forEach(Placement::device); // a misspelt device fails when the config is read, not after training
        int needed = mode.equals(SINGLE) ? 1 : 2;
        if (devices.size() != needed) {
            throw new IllegalArgumentException("inference.mode " + mode + " needs " + needed + " device(s), got "
                    + devices);
        }
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("inference.max_tokens must be > 0, got " + maxTokens);
        }
        if (estimateAfterBatches <= 0) {
            throw new IllegalArgumentException("inference.estimate_after_batches must be > 0, got "
                    + estimateAfterBatches);
        }
        timeBudget = TimeBudget.normalise(timeBudget); // a malformed duration fails when the config is read
        quantize = Quantization.check(quantize, "inference.quantize");
        if (deviceMemoryGib != null && !(deviceMemoryGib > 0 && Double.isFinite(deviceMemoryGib))) {
            throw new IllegalArgumentException("inference.device_memory_gib must be a positive number of GiB (null = "
                    + "what the device reports), got " + deviceMemoryGib);
        }
    }

    /** Without a quantization setting (each model as it was trained), the device memory as the device reports it. */
    public InferenceConfig(boolean tta, List<String> devices, String mode, Integer splitLayer, int maxTokens,
            PostProcessConfig postprocess, int estimateAfterBatches, String timeBudget) {
        this(tta, devices, mode, splitLayer, maxTokens, postprocess, estimateAfterBatches, timeBudget, null, null);
    }

    /** Without a time budget (evaluation, benchmarks). */
    public InferenceConfig(boolean tta, List<String> devices, String mode, Integer splitLayer, int maxTokens,
            PostProcessConfig postprocess, int estimateAfterBatches) {
        this(tta, devices, mode, splitLayer, maxTokens, postprocess, estimateAfterBatches, null, null, null);
    }

    /** The same settings planned for devices of {@code gib} GiB each (null: as they report it). */
    public InferenceConfig withDeviceMemoryGib(Double gib) {
        return new InferenceConfig(tta, devices, mode, splitLayer, maxTokens, postprocess, estimateAfterBatches,
                timeBudget, quantize, gib);
    }

    /** The time budget, or null when there is none. */
    public Duration budget() {
        return TimeBudget.parse(timeBudget);
    }

    /** The same settings with TTA switched on or off. */
    public InferenceConfig withTta(boolean on) {
        return new InferenceConfig(on, devices, mode, splitLayer, maxTokens, postprocess, estimateAfterBatches,
                timeBudget, quantize, deviceMemoryGib);
    }

    /** The same settings with another time budget ("8h30m", "90s"; "off" or null = none). */
    public InferenceConfig withTimeBudget(String budget) {
        return new InferenceConfig(tta, devices, mode, splitLayer, maxTokens, postprocess, estimateAfterBatches,
                budget, quantize, deviceMemoryGib);
    }

    /** The same settings with another quantization for every model ("int8", "none"; null = as each was trained). */
    public InferenceConfig withQuantize(String q) {
        return new InferenceConfig(tta, devices, mode, splitLayer, maxTokens, postprocess, estimateAfterBatches,
                timeBudget, q, deviceMemoryGib);
    }

    /**
     * The same settings on other devices in {@code newMode}; with {@code newMode} null the mode follows the device
     * count: single for one device, and for two the configured two-device mode (pipeline if it was single).
     */
    public InferenceConfig withDevices(List<String> names, String newMode) {
        String m = newMode != null ? newMode : names.size() == 1 ? SINGLE : mode.equals(SINGLE) ? PIPELINE : mode;
        return new InferenceConfig(tta, names, m, splitLayer, maxTokens, postprocess, estimateAfterBatches,
                timeBudget, quantize, deviceMemoryGib);
    }
}
