package arenakit.infer;

import arenakit.model.quant.Quantization;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * One model of a stage's ensemble, as its config names it: {@code {"model": "stage3", "weight": 2}} or just
 * {@code "stage3"} (weight 1).
 *
 * @param model a training stage of the setup, a stage output folder ({@code stage.json} + {@code adapter/}) or a
 *     bare PEFT adapter folder
 * @param weight its share of the average (> 0; the weights are normalised over the models that predicted a row)
 * @param maxLength this model's input budget (null = the stage's {@code max_length}, else the model's own training
 *     budget)
 * @param quantize how this model's projections are stored: "int8" or "none" (null = the stage's
 *     {@code inference.quantize}, else the model's training setting)
 * @param baseHead for a PEFT adapter that carries no trained head: predict with the base checkpoint's {@code score}
 *     head (false, the default: such an adapter is refused, so a missing head is never silently replaced)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record WeightedModel(String model, @StrictJson.Default("1.0") Double weight,
        @StrictJson.Default("null") Integer maxLength, @StrictJson.Default("null") String quantize,
        @StrictJson.Default("false") Boolean baseHead) {

    public WeightedModel(String model, Double weight, Integer maxLength) {
        this(model, weight, maxLength, null, false);
    }

    public WeightedModel {
        baseHead = baseHead != null && baseHead;
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("models: each entry needs a 'model' (a stage name or folder)");
        }
        weight = weight == null ? 1.0 : weight;
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("models: weight of '" + model + "' must be > 0, got " + weight);
        }
        if (maxLength != null && maxLength < 16) {
            throw new IllegalArgumentException("models: max_length of '" + model + "' must be >= 16, got "
                    + maxLength);
        }
        quantize = Quantization.check(quantize, "models: quantize of '" + model + "'");
    }

    /** The same entry with another {@code quantize} (null = the stage's). */
    public WeightedModel withQuantize(String q) {
        return new WeightedModel(model, weight, maxLength, q, baseHead);
    }

    /** A plain string in a config: the model with weight 1. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static WeightedModel of(String model) {
        return new WeightedModel(model, 1.0, null);
    }

    /** The object form (the record's own constructor, named for Jackson next to the string form). */
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    static WeightedModel object(@JsonProperty("model") String model, @JsonProperty("weight") Double weight,
            @JsonProperty("max_length") Integer maxLength, @JsonProperty("quantize") String quantize,
            @JsonProperty("base_head") Boolean baseHead) {
        return new WeightedModel(model, weight, maxLength, quantize, baseHead);
    }

    /** Every name with weight 1 (command-line {@code --model}s). */
    public static List<WeightedModel> allOf(List<String> models) {
        return models.stream().map(WeightedModel::of).toList();
    }

    /** The same model, with {@code base_head} set as given. */
    public WeightedModel withBaseHead(boolean useBase) {
        return new WeightedModel(model, weight, maxLength, quantize, useBase);
    }

    /** "stage3" for weight 1, else "stage3 x2". */
    @Override
    public String toString() {
        String w = weight == Math.rint(weight) ? String.valueOf(weight.longValue()) : String.valueOf(weight);
        return model + (weight == 1.0 ? "" : " x" + w) + (maxLength == null ? "" : " @" + maxLength)
                + (quantize == null ? "" : " " + quantize) + (baseHead ? " (base head)" : "");
    }
}
