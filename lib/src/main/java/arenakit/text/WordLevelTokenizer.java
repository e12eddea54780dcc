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
 * {@code <unk>}. {@link #write(Path, Collection, Collection)} adds more special tokens after the words (the other
 * chat templates' tokens, {@link #templateSpecials}), so adding them renumbers no word.
 */
public final class WordLevelTokenizer {
    /** The special tokens, at ids 0..5 in this order. */
    public static final List<String> SPECIALS =
            List.of("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>");

    private WordLevelTokenizer() {}

    /** Writes the file (atomically); {@code words} get ids from 6 on, in iteration order, duplicates skipped. */
    public static Path write(Path file, Collection<String> words) throws IOException {
        return write(file, words, List.of());
    }

    /** The special tokens of every {@link ChatTemplate} that are not among {@link #SPECIALS}. */
    public static List<String> templateSpecials() {
        Set<String> out = new LinkedHashSet<>();
        for (ChatTemplate t : ChatTemplate.all()) {
            out.addAll(t.specialTokens());
        }
        out.removeAll(SPECIALS);
        return List.copyOf(out);
    }

    /**
     * Writes the file (atomically): {@link #SPECIALS} at 0..5, {@code words} from 6 on, then {@code moreSpecials} as
     * added tokens after the last word (duplicates skipped).
     */
    public static Path write(Path file, Collection<String> words, Collection<String> moreSpecials) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        Set<String> all = new LinkedHashSet<>(SPECIALS);
        all.addAll(words);
        int firstMore = all.size();
        Set<String> more = new LinkedHashSet<>(moreSpecials);
        more.removeAll(all);
        all.addAll(more);
        ArrayNode added = root.putArray("added_tokens");
        int id = 0;
        for (String w : all) {
            if (id < SPECIALS.size() || id >= firstMore) {
                added.addObject().put("id", id).put("content", w).put("single_word", false)
                        .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
            }
            id++;
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", false);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode vocab = model.putObject("vocab");
        id = 0;
        for (String w : all) {
            vocab.put(w, id++);
        }
        model.put("unk_token", "<unk>");
        Json.write(file, root);
        return file;
    }
}
