package arenakit.eda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.text.PromptEncoder;
import arenakit.text.PromptFormat;
import arenakit.text.TestTokenizers;
import arenakit.text.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The EDA's one-pass token counts against encoding every field and every whole model input separately. */
class TokenCounterTest {
    @TempDir
    Path dir;

    @Test
    void countsEqualSeparateEncoding() throws Exception {
        List<Tokenizer> tokenizers = new ArrayList<>(List.of(TestTokenizers.small(dir)));
        Tokenizer gemma = TestTokenizers.gemmaOrNull();
        if (gemma != null) {
            tokenizers.add(gemma);
        }
        // null, blank and identical fields, a repeated text across rows, several turns; the second set also has
        // the text "null", which is what a format shows for a null turn
        List<Conversation> withNullText = new ArrayList<>(EdaComputeTest.TRAIN);
        withNullText.add(new Conversation("7", null, null, List.of(new Turn("hello world", "one two", "one two"),
                new Turn(null, null, "null"), new Turn("hello world", "", "three four five")), null, 0));
        try {
            for (Tokenizer tok : tokenizers) {
                for (String format : PromptFormat.names()) {
                    for (List<Conversation> rows : List.of(EdaComputeTest.TRAIN, withNullText)) {
                        check(rows, tok, format);
                    }
                }
            }
        } finally {
            tokenizers.forEach(Tokenizer::close);
        }
    }

    private static void check(List<Conversation> rows, Tokenizer tok, String format) {
        TokenCounts counts = TokenCounter.count("t", rows, tok, format);
        PromptEncoder whole = PromptEncoder.of(tok, format, "proportional", 1 << 20);
        String what = tok.file().getFileName() + " " + format + " " + rows.size() + " rows";
        assertArrayEquals(rows.stream().mapToInt(c -> whole.encode(c).length).toArray(), counts.modelInput(),
                what + ": model input");
        assertArrayEquals(fieldTokens(rows, Turn::prompt, tok), counts.prompt(), what + ": prompt");
        assertArrayEquals(fieldTokens(rows, Turn::responseA, tok), counts.responseA(), what + ": A");
        assertArrayEquals(fieldTokens(rows, Turn::responseB, tok), counts.responseB(), what + ": B");
        assertEquals(format, counts.format());
    }

    private static int[] fieldTokens(List<Conversation> rows, Function<Turn, String> field, Tokenizer tok) {
        return rows.stream().mapToInt(c -> c.turns().stream().map(field).filter(s -> s != null)
                .mapToInt(s -> tok.encode(s).length).sum()).toArray();
    }
}
