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
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chat templates against the real tokenizers and against reference ids published with each model's own code:
 * Meta's Llama-3 tokenizer tests (llama/test_tokenizer.py in meta-llama/llama3) and transformers' Qwen2 tokenizer
 * integration test. Expected template inputs are built by hand from each model's Hugging Face chat template
 * string and tokenized whole (the special tokens are added tokens in these files, so the whole string gives what
 * {@code apply_chat_template(..., tokenize=True)} gives). Tests that need the real files skip without them.
 */
class ChatTemplateTest {
    @TempDir
    Path dir;

    /** A format whose user turn is a fixed text, for checking a template's frame alone. */
    record Fixed(String prefix, String cue) implements PromptFormat {
        @Override
        public String name() {
            return "fixed";
        }

        @Override
        public Prompt prompt(Conversation conversation) {
            return new Prompt(prefix, List.of(), "", cue);
        }

        @Override
        public String verdictCue() {
            return cue;
        }
    }

    static final Conversation ROW = new Conversation("30192", "gpt-4-1106-preview", "gpt-4-0613",
            List.of(new Turn("Is it morally right to try to have a certain percentage of females on managerial "
                    + "positions?", "The question of whether it is morally right to aim for a certain percentage of "
                    + "females in managerial positions is a complex ethical issue.", "As an AI, I don't have "
                    + "personal beliefs or opinions."), new Turn("OK, does pineapple belong on a pizza? Relax and give "
                    + "me fun answer.", "Ah, the age-old culinary conundrum!", "As an AI, I don't eat, so I don't "
                    + "have personal preferences.")), Winner.A, 2);

    private static int[] encode(Tokenizer tok, ChatTemplate t, PromptFormat f, Conversation c) {
        return new PromptEncoder(tok, t, f, Truncation.forName("proportional"), 1 << 20).encode(c);
    }

    private static Tokenizer realOrNull(String name) throws IOException {
        return TestTokenizers.shared(name);
    }

    /** A real tokenizer (shared, not closed here); the test is skipped when setup has not installed it. */
    private static Tokenizer real(String name) throws IOException {
        Tokenizer tok = realOrNull(name);
        Assumptions.assumeTrue(tok != null, name + " tokenizer not installed (run bash environment/setup.sh)");
        return tok;
    }


    /** The user content as the HF template sees it: the format's prefix, body texts and suffix, joined. */
    private static String content(PromptFormat f, Conversation c) {
        Prompt p = f.prompt(c);
        return p.prefix() + p.body().stream().map(Segment::text).collect(Collectors.joining()) + p.suffix();
    }

    @Test
    void llama3SpecialTokensAndMetasReferenceIds() throws IOException {
        Tokenizer tok = real(Tokenizer.LLAMA3);
        assertEquals(128256, tok.vocabSize());
        assertEquals(List.of(128000, 128001, 128006, 128007, 128009),
                List.of(tok.id("<|begin_of_text|>"), tok.id("<|end_of_text|>"), tok.id("<|start_header_id|>"),
                        tok.id("<|end_header_id|>"), tok.id("<|eot_id|>")));
        // meta-llama/llama3 llama/test_tokenizer.py, test_encode (without bos/eos)
        assertArrayEquals(new int[] {2028, 374, 264, 1296, 11914, 13}, tok.encode("This is a test sentence."));
        // test_encode_dialog_prompt's frame for one user message: <|begin_of_text|>, header "user", "\n\n",
        // the message, <|eot_id|>, then the assistant header
        int[] ids = encode(tok, ChatTemplate.LLAMA3, new Fixed("This is a test sentence.", ""), ROW);
        assertArrayEquals(new int[] {128000, 128006, 882, 128007, 271, 2028, 374, 264, 1296, 11914, 13, 128009,
            128006, 78191, 128007, 271}, ids);
        // the template trims the message, as Llama-3's HF template does ("| trim")
        assertArrayEquals(ids, encode(tok, ChatTemplate.LLAMA3, new Fixed("  This is a test sentence.", ""), ROW));
    }

    @Test
    void qwenSpecialTokensAndTransformersReferenceIds() throws IOException {
        Tokenizer tok = real(Tokenizer.QWEN2_5);
        assertEquals(151665, tok.vocabSize());
        assertEquals(List.of(151643, 151644, 151645),
                List.of(tok.id("<|endoftext|>"), tok.id("<|im_start|>"), tok.id("<|im_end|>")));
        // transformers tests/models/qwen2/test_tokenization_qwen2.py, test_tokenizer_integration
        assertArrayEquals(new int[] {73594, 12669, 198, 85593, 284, 8979, 37434, 6387, 10442, 35722, 445, 48, 16948,
            45274, 16948, 34841, 3135, 1138, 85593, 445, 99489, 3837, 108386, 6313, 899, 73594},
                tok.encode("```python\ntokenizer = AutoTokenizer.from_pretrained(\"Qwen/Qwen-tokenizer\")\n"
                        + "tokenizer(\"世界，你好！\")```"));
        assertArrayEquals(new int[] {144834, 80532, 93685, 83744, 34187, 73670, 104261, 29490, 62189, 103937,
            104034, 102830, 98841, 104034, 104949, 9370, 5333, 58143, 102011, 1773, 37029, 98841, 104034, 104949,
            73670, 101940, 100768, 104997, 33108, 100912, 105054, 90395, 100136, 106831, 45181, 64355, 104034,
            113521, 101975, 33108, 85329, 1773},
                tok.encode("🤗 Transformers 提供了可以轻松地下载并且训练先进的预训练模型的 API 和工具。使用预训练模型可以减少计算消耗和碳排"
                        + "放，并且节省从头训练所需要的时间和资源。"));
        String system = "<|im_start|>system\n" + ChatTemplate.QWEN2_5_SYSTEM + "<|im_end|>\n";
        String frame = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\nverdict";
        assertArrayEquals(tok.encode(system + frame),
                encode(tok, ChatTemplate.QWEN2_5, new Fixed("hello", "verdict"), ROW));
        assertArrayEquals(tok.encode(frame), encode(tok, ChatTemplate.CHATML, new Fixed("hello", "verdict"), ROW));
        assertArrayEquals(new int[] {151644, 872, 198, 14990, 151645, 198, 151644, 77091, 198},
                encode(tok, ChatTemplate.CHATML, new Fixed("hello", ""), ROW));
    }

    /**
     * A known row in PAB under the Llama-3 template: the text is exactly what the HF chat template renders
     * (bos + user header + the content trimmed + eot + assistant header) followed by the cue; the frame's ids are
     * the template's; and inside the user turn each segment carries the ids of its text (segments are tokenized on
     * their own, so a merge across a segment boundary, e.g. ".\n\n" after a response, is not made: docs/data.md).
     */
    @Test
    void llamaTemplateOnAKnownRowIsTheHfTemplateText() throws IOException {
        Tokenizer tok = real(Tokenizer.LLAMA3);
        PromptFormat pab = PromptFormat.forName("pab");
        int[] ids = encode(tok, ChatTemplate.LLAMA3, pab, ROW);
        String hf = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" + content(pab, ROW).strip()
                + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(hf + "verdict is: [[", tok.decode(ids));
        int[] head = {128000, 128006, 882, 128007};
        assertArrayEquals(head, Arrays.copyOf(ids, 4));
        int[] instruction = tok.encode("\n\n" + PabFormat.JUDGE
                + "<|The Start of Conversation between a User and two Assistants|>");
        assertArrayEquals(instruction, Arrays.copyOfRange(ids, 4, 4 + instruction.length));
        int[] tail = concat(tok.encode("<|The End of Conversation between a User and two Assistants|>"),
                new int[] {128009, 128006, 78191, 128007}, tok.encode("\n\nverdict is: [["));
        assertArrayEquals(tail, Arrays.copyOfRange(ids, ids.length - tail.length, ids.length));
        int[] body = Arrays.copyOfRange(ids, 4 + instruction.length, ids.length - tail.length);
        int[] expected = new int[0];
        for (Segment s : pab.prompt(ROW).body()) {
            expected = concat(expected, tok.encode(s.text()));
        }
        assertArrayEquals(expected, body);
    }

    @Test
    void qwenTemplateOnAKnownRowIsTheHfTemplateText() throws IOException {
        Tokenizer tok = real(Tokenizer.QWEN2_5);
        for (String format : PromptFormat.names()) {
            PromptFormat f = PromptFormat.forName(format);
            String hf = "<|im_start|>system\n" + ChatTemplate.QWEN2_5_SYSTEM + "<|im_end|>\n<|im_start|>user\n"
                    + content(f, ROW) + "<|im_end|>\n<|im_start|>assistant\n";
            assertEquals(hf + f.verdictCue(), tok.decode(encode(tok, ChatTemplate.QWEN2_5, f, ROW)), format);
        }
    }

    /** Gemma's frame keeps the format's closing newline (as this project's Gemma inputs always had). */
    @Test
    void gemmaTemplateText() throws IOException {
        Tokenizer tok = real(Tokenizer.GEMMA);
        PromptFormat f = PromptFormat.forName("rounds");
        String text = "<bos><start_of_turn>user\n" + content(f, ROW) + "<end_of_turn>\n<start_of_turn>model\n"
                + f.verdictCue();
        assertEquals(text, tok.decode(encode(tok, ChatTemplate.GEMMA, f, ROW)));
    }

    @Test
    void theTemplateATokenizerHasTheTokensFor() throws IOException {
        for (String name : Tokenizer.installedNames()) {
            Tokenizer tok = realOrNull(name);
            if (tok != null) {
                assertEquals(name.equals("gemma") ? ChatTemplate.GEMMA : name.equals("llama3")
                        ? ChatTemplate.LLAMA3 : ChatTemplate.QWEN2_5, ChatTemplate.of(tok), name);
            }
        }
    }

    @Test
    void aTemplateOfAnotherFamilyIsRefusedByName() throws IOException {
        Tokenizer tok = real(Tokenizer.GEMMA);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptEncoder.of(tok, "llama3", "pab", "proportional", 1024));
        assertTrue(e.getMessage().contains("<|begin_of_text|>") && e.getMessage().contains("llama3"),
                e.getMessage());
    }

    @Test
    void namesAndFamilies() throws IOException {
        assertEquals(List.of("gemma", "llama3", "qwen2.5", "qwen2", "chatml"), ChatTemplate.names());
        assertEquals(ChatTemplate.GEMMA, ChatTemplate.forModelType("gemma2"));
        assertEquals(ChatTemplate.LLAMA3, ChatTemplate.forModelType("llama"));
        assertEquals(ChatTemplate.QWEN2_5, ChatTemplate.forModelType("qwen2"));
        assertEquals(ChatTemplate.QWEN2, ChatTemplate.forName(" Qwen2 "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.forModelType("mistral"));
        assertTrue(e.getMessage().contains("mistral") && e.getMessage().contains("gemma, llama3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.forName("llama2"));
        assertTrue(e.getMessage().contains("valid names: gemma, llama3, qwen2.5, qwen2, chatml"), e.getMessage());
        // the word-level tokenizer of tiny models has every template's special tokens
        try (Tokenizer small = TestTokenizers.small(dir)) {
            for (ChatTemplate t : ChatTemplate.all()) {
                for (String special : t.specialTokens()) {
                    assertTrue(small.find(special).isPresent(), t + " " + special);
                }
                PromptEncoder.of(small, t.name(), "pab", "proportional", 512).encode(ROW);
            }
        }
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
