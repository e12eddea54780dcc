package arenakit.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import arenakit.data.Conversation;
import arenakit.data.KaggleCsv;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gemma inputs are byte-identical to what the encoder produced before chat templates became a strategy (the
 * Gemma template hard-coded in the formats): SHA-256 digests of every format x truncation x budget over the test
 * cases, taken with that earlier code (commit 7910b75), under the small word-level tokenizer, the real Gemma one and
 * 60 real rows of ../shared. A trained Gemma model therefore reads exactly the inputs it was trained on.
 */
class GemmaEncodingGoldenTest {
    @TempDir
    Path dir;

    static String digest(Tokenizer tok, List<Conversation> rows, int... budgets) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (String format : List.of("pab", "papb", "rounds")) {
            for (String policy : List.of("proportional", "drop-start", "longest-first")) {
                for (int max : budgets) {
                    PromptEncoder enc = PromptEncoder.of(tok, format, policy, max);
                    for (int[] ids : enc.encodeAll(rows)) {
                        ByteBuffer b = ByteBuffer.allocate(4 * ids.length + 4).putInt(ids.length);
                        for (int id : ids) {
                            b.putInt(id);
                        }
                        md.update(b.array());
                    }
                    ByteBuffer cue = ByteBuffer.allocate(4 * enc.verdictCueIds().length);
                    for (int id : enc.verdictCueIds()) {
                        cue.putInt(id);
                    }
                    md.update(cue.array());
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void smallTokenizer() throws Exception {
        try (Tokenizer tok = TestTokenizers.small(dir)) {
            assertEquals("ba88a9f82dcf8e72b05c767127a96535029dff6d4009015f03330527e40a030d",
                    digest(tok, PromptEncoderTest.CASES, 256, 1000, 1 << 20));
        }
    }

    @Test
    void realGemmaTokenizer() throws Exception {
        Tokenizer tok = TestTokenizers.shared(Tokenizer.GEMMA);
        Assumptions.assumeTrue(tok != null, "Gemma tokenizer not installed (run bash environment/setup.sh)");
        assertEquals("bca1a8ceeb9f33e8f4d8f0ffd3d2857810f16c107c268c92a3711baf706e3f38",
                digest(tok, PromptEncoderTest.CASES, 1000));
    }

    @Test
    void realGemmaTokenizerOnTheRealRows() throws Exception {
        Path sample = Path.of(System.getProperty("arena.home", ".."), "..", "shared", "data", "lmsys-sample",
                "train_sample.csv").normalize();
        Assumptions.assumeTrue(Files.isRegularFile(sample), "../shared/data/lmsys-sample not present: " + sample);
        Tokenizer tok = TestTokenizers.shared(Tokenizer.GEMMA);
        Assumptions.assumeTrue(tok != null, "Gemma tokenizer not installed (run bash environment/setup.sh)");
        assertEquals("6983a7523075d52536adca10a587a6d21f9e8255c51ed022dd07a08ca864cdfe",
                digest(tok, KaggleCsv.readTrain(sample).rows().subList(0, 60), 512));
    }
}
