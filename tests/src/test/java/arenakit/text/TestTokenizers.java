package arenakit.text;

import arenakit.util.ArenaHome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tokenizers for tests: a small word-level one written to a temp dir (with the special tokens of every chat
 * template), and the real Gemma, Llama-3 and Qwen2.5 ones when environment/setup.sh has installed them.
 */
public final class TestTokenizers {
    private TestTokenizers() {}

    /** A word-level tokenizer over a few hundred common words and the "......" marker. */
    public static Tokenizer small(Path dir) throws IOException {
        List<String> words = new ArrayList<>(List.of("......", "#", "###", ":", "\"[[", "[[", "]]\"", "?", "!", ".",
                ",", "[", "]", "<|", "|>", "'", "'s", "-", "_", "null"));
        for (String w : ("user model verdict is Answer round prompt response a b A B C User Assistant Please act as "
                + "an impartial judge of the answers two AI assistants gave in conversation below Pick that follows "
                + "instructions and questions better weighing helpfulness relevance accuracy depth creativity level "
                + "detail Do not let order their length or names sway you be objective possible Give your final "
                + "strictly if for tie The Start End Conversation between Which did prefer with the same rounds "
                + "hello world one two three four five six seven eight nine ten good bad answer question why how "
                + "what").split(" ")) {
            words.add(w);
        }
        for (int i = 0; i < 300; i++) {
            words.add("w" + i);
            words.add(String.valueOf(i));
        }
        // the other templates' tokens after the words: the ids of the words stay those of GemmaEncodingGoldenTest
        return Tokenizer.load(WordLevelTokenizer.write(dir.resolve("tokenizer.json"), words,
                WordLevelTokenizer.templateSpecials()));
    }

    private static final java.util.Map<String, Tokenizer> SHARED = new java.util.HashMap<>();

    /**
     * A real tokenizer by name, loaded once for all test classes of the run (do not close it: loading the Gemma file
     * takes seconds), or null when environment/setup.sh has not installed it.
     */
    public static synchronized Tokenizer shared(String name) throws IOException {
        if (!SHARED.containsKey(name)) {
            SHARED.put(name, installedOrNull(name));
        }
        return SHARED.get(name);
    }

    /** A real tokenizer by name (gemma, llama3, qwen2.5), or null when environment/setup.sh has not installed it. */
    public static Tokenizer installedOrNull(String name) throws IOException {
        return Files.isRegularFile(Tokenizer.installedPath(name)) ? Tokenizer.installed(name) : null;
    }

    /** The real Gemma tokenizer, or null when environment/setup.sh has not installed it. */
    public static Tokenizer gemmaOrNull() throws IOException {
        return Files.isRegularFile(ArenaHome.gemmaTokenizer()) ? Tokenizer.gemma() : null;
    }
}
