package arenakit.eda;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-row token counts of one split, index-aligned with its rows (definitions in {@link EdaResult}).
 *
 * @param tokenizer  which tokenizer counted (its folder and file name, e.g. gemma/tokenizer.json)
 * @param format     prompt format the model input was built with
 * @param prompt     tokens of the prompts, summed over turns
 * @param responseA  tokens of response A, summed over turns
 * @param responseB  tokens of response B, summed over turns
 * @param modelInput tokens of the whole formatted, untruncated model input
 */
public record TokenCounts(String tokenizer, String format, int[] prompt, int[] responseA, int[] responseB, int[] modelInput) {

    public TokenCounts {
        int n = prompt.length;
        if (responseA.length != n || responseB.length != n || modelInput.length != n) {
            throw new IllegalArgumentException("TokenCounts: fields have different row counts");
        }
    }

    public int rows() {
        return prompt.length;
    }

    /** The fields by their names in eda.json, in display order. */
    public Map<String, int[]> byField() {
        Map<String, int[]> fields = new LinkedHashMap<>();
        fields.put("prompt", prompt);
        fields.put("response_a", responseA);
        fields.put("response_b", responseB);
        fields.put("model_input", modelInput);
        return fields;
    }
}
