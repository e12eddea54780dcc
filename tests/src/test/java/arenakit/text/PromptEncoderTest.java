package arenakit.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.data.Winner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptEncoderTest {
    @TempDir
    static Path dir;

    static List<Tokenizer> tokenizers = new ArrayList<>();
    /**
     * Each tokenizer with templates it serves: the small one with one template per family (qwen2 and chatml differ
     * from qwen2.5 only in the system turn), each real one with its family's.
     */
    static List<Pair> pairs = new ArrayList<>();

    /**
     * A tokenizer, a template, the cases and the budgets to check (the Gemma pairs as before; the others one tight
     * budget on shorter cases).
     */
    record Pair(Tokenizer tokenizer, ChatTemplate template, List<Conversation> cases, int... budgets) {}

    @BeforeAll
    static void load() throws IOException {
        Tokenizer small = TestTokenizers.small(dir);
        tokenizers.add(small);
        pairs.add(new Pair(small, ChatTemplate.GEMMA, CASES, 256, 1000));
        pairs.add(new Pair(small, ChatTemplate.LLAMA3, CASES, 256));
        pairs.add(new Pair(small, ChatTemplate.QWEN2_5, CASES, 256));
        for (Map.Entry<String, List<ChatTemplate>> real : List.of(
                Map.entry(Tokenizer.GEMMA, List.of(ChatTemplate.GEMMA)),
                Map.entry(Tokenizer.LLAMA3, List.of(ChatTemplate.LLAMA3)),
                Map.entry(Tokenizer.QWEN2_5, List.of(ChatTemplate.QWEN2_5)))) {
            Tokenizer tok = TestTokenizers.shared(real.getKey());
            if (tok != null) {
                tokenizers.add(tok);
                real.getValue().forEach(t -> pairs.add(t == ChatTemplate.GEMMA ? new Pair(tok, t, CASES, 256, 1000)
                        : new Pair(tok, t, SHORTER_CASES, 256)));
            }
        }
    }

    @AfterAll
    static void close() {
        tokenizers.get(0).close(); // the real ones are shared (TestTokenizers.shared)
    }

    static String words(int n, int seed) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : " ").append("w").append((i * 7 + seed) % 300);
        }
        return sb.toString();
    }

    static Conversation conv(String id, Turn... turns) {
        return new Conversation(id, "m1", "m2", List.of(turns), Winner.A, 0);
    }

    static final List<Conversation> CASES = cases(1);
    /** The cases with a fifth of the words (still longer than 256 tokens), for the slower byte-level tokenizers. */
    static final List<Conversation> SHORTER_CASES = cases(5);

    /** Short, long, lopsided, multi-turn with nulls and empties, and more turns than any budget holds. */
    static List<Conversation> cases(int div) {
        List<Conversation> out = new ArrayList<>();
        out.add(conv("short", new Turn("hello", "good answer", "bad answer")));
        out.add(conv("long", new Turn(words(3000 / div, 1), words(5000 / div, 2), words(4000 / div, 3))));
        out.add(conv("lopsided", new Turn("why ?", words(9000 / div, 4), "one")));
        out.add(conv("multi", new Turn(words(40, 5), null, ""), new Turn(null, words(700 / div, 6), words(20, 7)),
                new Turn(words(400 / div, 8), words(900 / div, 9), words(300 / div, 10)), new Turn("", "", null)));
        out.add(conv("many-turns", IntStream.range(0, 120).mapToObj(i -> new Turn(words(30 / div, i),
                words(50 / div, i + 1), words(40 / div, i + 2))).toArray(Turn[]::new)));
        return out;
    }

    @Test
    void everyFormatAndPolicyRespectsTheBudgetAndKeepsTheCue() {
        for (Pair pair : pairs) {
            Tokenizer tok = pair.tokenizer();
            ChatTemplate template = pair.template();
            int first = tok.id(template.specialTokens().get(0));
            List<Conversation> cases = pair.cases();
            for (String format : PromptFormat.names()) {
                List<int[]> full = new PromptEncoder(tok, template, PromptFormat.forName(format),
                        Truncation.forName("proportional"), 1 << 20).encodeAll(cases);
                for (String policy : Truncation.names()) {
                    for (int max : pair.budgets()) {
                        PromptEncoder enc = PromptEncoder.of(tok, template.name(), format, policy, max);
                        List<int[]> batch = enc.encodeAll(cases, 3);
                        for (int i = 0; i < cases.size(); i++) {
                            Conversation c = cases.get(i);
                            String what = tok.file().getParent().getFileName() + "/" + tok.file().getFileName() + " "
                                    + template + " " + format + "/" + policy + "/" + max + " " + c.id();
                            int[] ids = batch.get(i);
                            if (max == 256) {
                                assertArrayEquals(enc.encode(c), ids, what + ": batch and single encoding differ");
                            }
                            assertTrue(ids.length <= enc.maxLength(), what + ": " + ids.length + " tokens");
                            assertEquals(first, ids[0], what);
                            int[] cue = enc.verdictCueIds();
                            assertArrayEquals(cue, Arrays.copyOfRange(ids, ids.length - cue.length, ids.length),
                                    what + ": verdict cue not at the end");
                            if (full.get(i).length <= enc.maxLength()) {
                                assertArrayEquals(full.get(i), ids, what + ": input that fits must not change");
                            } else if (!c.id().equals("many-turns")) {
                                assertEquals(enc.maxLength(), ids.length, what + ": budget not used exactly");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void untruncatedLengthFromFieldCountsIsTheEncodedLength() {
        for (Pair pair : pairs) {
            Tokenizer tok = pair.tokenizer();
            for (String format : PromptFormat.names()) {
                PromptEncoder enc = PromptEncoder.of(tok, pair.template().name(), format, "drop-start", 1 << 20);
                for (Conversation c : pair.cases()) {
                    assertEquals(enc.encode(c).length, enc.untruncatedLength(c, text -> tok.encode(text).length),
                            tok.file() + " " + pair.template() + " " + format + " " + c.id());
                }
            }
        }
    }

    @Test
    void proportionalMarksCutsAndKeepsEveryTurn() throws IOException {
        Tokenizer tok = tokenizers.get(0);
        PromptEncoder enc = PromptEncoder.of(tok, "rounds", "proportional", 512);
        Conversation c = conv("t", new Turn(words(300, 1), words(600, 2), words(600, 3)),
                new Turn("hello", words(600, 4), "good answer"));
        String text = enc.render(c);
        assertTrue(text.contains("......"), text);
        assertTrue(text.contains(words(5, 1)) && text.contains("hello"), "both turns keep a share: " + text);
        assertTrue(text.contains("good answer"), "short fields stay whole: " + text);
    }

    @Test
    void dropStartKeepsTheEndOfTheConversation() {
        Tokenizer tok = tokenizers.get(0);
        PromptEncoder enc = PromptEncoder.of(tok, "pab", "drop-start", 256);
        Conversation c = conv("t", new Turn(words(500, 1), words(500, 2), words(500, 3)),
                new Turn("hello", "one two", "three four five"));
        String text = enc.render(c);
        assertTrue(text.contains("hello") && text.contains("three four five"), text);
        assertTrue(!text.contains(words(10, 1)), "the start is dropped: " + text);
    }

    @Test
    void maxLengthIsRoundedDownToAMultipleOf16() {
        assertEquals(992, PromptEncoder.roundMaxLength(1000));
        assertEquals(3072, PromptEncoder.roundMaxLength(3072));
        assertEquals(16, PromptEncoder.roundMaxLength(31));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptEncoder.roundMaxLength(15));
        assertTrue(e.getMessage().contains("at least 16"));
    }

    @Test
    void tooSmallBudgetIsAClearError() {
        PromptEncoder enc = PromptEncoder.of(tokenizers.get(0), "pab", "proportional", 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> enc.encode(CASES.get(0)));
        assertTrue(e.getMessage().contains("max_length 32") && e.getMessage().contains("pab"), e.getMessage());
    }

    @Test
    void unknownNamesListTheValidOnes() {
        IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> PromptFormat.forName("pba"));
        assertTrue(f.getMessage().contains("pab, papb, rounds"), f.getMessage());
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class, () -> Truncation.forName("tail"));
        assertTrue(t.getMessage().contains("proportional, drop-start, longest-first"), t.getMessage());
        assertEquals("papb", PromptFormat.forName(" PAPB ").name());
    }
}
