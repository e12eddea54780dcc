package arenakit.eda;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.text.ChatTemplate;
import arenakit.text.PromptEncoder;
import arenakit.text.Tokenizer;
import arenakit.util.Progress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Counts a split's tokens ({@link TokenCounts}) with the data layer's tokenizer and prompt formats.
 *
 * <p>Each distinct text of a batch is tokenized once: the field counts and the model input's length both come from
 * that one pass ({@link PromptEncoder#untruncatedLength}), which gives the same numbers as encoding every model input
 * in full at half the tokenizing.
 */
final class TokenCounter {
    /** The encoder only measures here, but it needs a budget: one no row reaches (a multiple of 16, as required). */
    private static final int UNLIMITED = Integer.MAX_VALUE / 16 * 16;
    /** Rows whose fields go to the tokenizer in one batch call (it tokenizes a batch in parallel). */
    private static final int BATCH_ROWS = 512;
    private static final List<Function<Turn, String>> FIELDS = List.of(Turn::prompt, Turn::responseA, Turn::responseB);

    private TokenCounter() {}

    /** The tokenizer file's folder and name ("gemma/tokenizer.json"): which tokenizer, without the machine's paths. */
    static String name(Tokenizer tokenizer) {
        Path file = tokenizer.file();
        Path folder = file.toAbsolutePath().getParent();
        return folder == null || folder.getFileName() == null ? file.getFileName().toString()
                : folder.getFileName() + "/" + file.getFileName();
    }

    static TokenCounts count(String splitName, List<Conversation> rows, Tokenizer tokenizer, String format) {
        PromptEncoder encoder = PromptEncoder.of(tokenizer, ChatTemplate.of(tokenizer).name(), format, "longest-first",
                UNLIMITED);
        int n = rows.size();
        int[][] fields = new int[FIELDS.size()][n];
        int[] modelInput = new int[n];
        String task = "tokenize " + splitName + " (" + encoder.format().name() + ")";
        try (Progress progress = Progress.start(task, n, "row")) {
            for (int from = 0; from < n; from += BATCH_ROWS) {
                List<Conversation> batch = rows.subList(from, Math.min(n, from + BATCH_ROWS));
                Map<String, Integer> lengths = tokenLengths(batch, tokenizer);
                for (int i = 0; i < batch.size(); i++) {
                    Conversation c = batch.get(i);
                    for (Turn t : c.turns()) {
                        for (int f = 0; f < FIELDS.size(); f++) {
                            String text = FIELDS.get(f).apply(t);
                            fields[f][from + i] += text == null ? 0 : lengths.get(text);
                        }
                    }
                    // the format's stand-in for a null turn ("null") is the one text not counted above
                    modelInput[from + i] = encoder.untruncatedLength(c,
                            text -> lengths.computeIfAbsent(text, t -> tokenizer.encode(t).length));
                }
                progress.stepBy(batch.size());
            }
        }
        return new TokenCounts(name(tokenizer), encoder.format().name(), fields[0], fields[1], fields[2], modelInput);
    }

    /** Tokens of every distinct non-null field text of the rows, from one batch call. */
    private static Map<String, Integer> tokenLengths(List<Conversation> rows, Tokenizer tokenizer) {
        Set<String> texts = new LinkedHashSet<>();
        for (Conversation c : rows) {
            for (Turn t : c.turns()) {
                for (Function<Turn, String> field : FIELDS) {
                    String text = field.apply(t);
                    if (text != null) {
                        texts.add(text);
                    }
                }
            }
        }
        List<String> distinct = new ArrayList<>(texts);
        List<int[]> ids = tokenizer.encodeBatch(distinct);
        Map<String, Integer> lengths = new HashMap<>(distinct.size() * 2);
        for (int i = 0; i < distinct.size(); i++) {
            lengths.put(distinct.get(i), ids.get(i).length);
        }
        return lengths;
    }
}
