package arenakit.eda;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.text.PromptEncoder;
import arenakit.text.Tokenizer;
import arenakit.util.Progress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Counts a split's tokens ({@link TokenCounts}) with the data layer's tokenizer and prompt formats. */
final class TokenCounter {
    /** A budget no real row reaches, so the encoder never truncates (a multiple of 16, as it requires). */
    static final int UNLIMITED = Integer.MAX_VALUE / 16 * 16;
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
        int n = rows.size();
        int[][] fields = new int[FIELDS.size()][n];
        try (Progress progress = Progress.start("tokenize " + splitName + " (prompt, responses)", n)) {
            for (int from = 0; from < n; from += BATCH_ROWS) {
                int to = Math.min(n, from + BATCH_ROWS);
                List<String> texts = new ArrayList<>();
                for (Conversation c : rows.subList(from, to)) {
                    for (Turn t : c.turns()) {
                        for (Function<Turn, String> field : FIELDS) {
                            String text = field.apply(t);
                            if (text != null) {
                                texts.add(text);
                            }
                        }
                    }
                }
                List<int[]> ids = tokenizer.encodeBatch(texts);
                int next = 0;
                for (int row = from; row < to; row++) {
                    for (Turn t : rows.get(row).turns()) {
                        for (int f = 0; f < FIELDS.size(); f++) {
                            if (FIELDS.get(f).apply(t) != null) {
                                fields[f][row] += ids.get(next++).length;
                            }
                        }
                    }
                }
                progress.stepBy(to - from);
            }
        }
        PromptEncoder encoder = PromptEncoder.of(tokenizer, format, "longest-first", UNLIMITED);
        int[] modelInput = encoder.encodeAll(rows).stream().mapToInt(ids -> ids.length).toArray();
        return new TokenCounts(name(tokenizer), encoder.format().name(), fields[0], fields[1], fields[2], modelInput);
    }
}
