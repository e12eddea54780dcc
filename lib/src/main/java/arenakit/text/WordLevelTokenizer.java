package arenakit.text;

import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a small word-level {@code tokenizer.json} (Hugging Face format, loadable by {@link Tokenizer}) with the
 * Gemma special tokens: for tests that must run without the real Gemma file, and for tiny models whose embedding
 * should not have 256k rows. Text is split on whitespace and punctuation; words outside the vocabulary become
 * {@code <unk>}.
 */
public final class WordLevelTokenizer {
    /** The special tokens, at ids 0..5 in this order. */
    public static final List<String> SPECIALS =
            List.of("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>");

    private WordLevelTokenizer() {}

    /** Writes the file (atomically); {@code words} get ids from 6 on, in iteration order, duplicates skipped. */
    public static Path write(Path file, Collection<String> words) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.size(); i++) {
            added.addObject().put("id", i).put("content", SPECIALS.get(i)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", false);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode vocab = model.putObject("vocab");
        Set<String> all = new LinkedHashSet<>(SPECIALS);
        all.addAll(words);
        int id = 0;
        for (String w : all) {
            vocab.put(w, id++);
        }
        model.put("unk_token", "<unk>");
        Json.write(file, root);
        return file;
    }
}
