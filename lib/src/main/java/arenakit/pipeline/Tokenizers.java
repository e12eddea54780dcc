package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.text.Layout;
import arenakit.text.PromptEncoder;
import arenakit.text.PromptFormat;
import arenakit.text.Segment;
import arenakit.text.Tokenizer;
import arenakit.text.WordLevelTokenizer;
import arenakit.util.Fingerprint;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The setup's tokenizer: a file, the real Gemma one, the checkpoint's own, or a word-level one of the data. */
final class Tokenizers {
    /** What Hugging Face's Whitespace pre-tokenizer splits on: runs of word characters, runs of other symbols. */
    private static final Pattern WORDS = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);
    static final String SAMPLE = "sample";
    static final String GEMMA = "gemma";

    private Tokenizers() {}

    private static void count(Map<String, Integer> counts, String... texts) {
        for (String s : texts) {
            if (s != null) {
                Matcher m = WORDS.matcher(s);
                while (m.find()) {
                    counts.merge(m.group(), 1, Integer::sum);
                }
            }
        }
    }

    static Tokenizer load(ExperimentConfig experiment, Pipeline p) throws IOException {
        String spec = experiment.tokenizer();
        if (spec == null) {
            String ckpt = experiment.baseModel().checkpoint();
            if (ckpt == null) {
                throw new ConfigException("pipeline.json: a tiny base model needs a 'tokenizer' (sample, gemma or a "
                        + "tokenizer.json path)");
            }
            return Tokenizer.load(Path.of(ckpt).resolve("tokenizer.json"));
        }
        return switch (spec) {
            case GEMMA -> Tokenizer.gemma();
            case SAMPLE -> Tokenizer.load(sampleVocabulary(p));
            default -> Tokenizer.load(Path.of(spec));
        };
    }

    /**
     * A word-level tokenizer.json over every word of the labeled, unlabeled and test rows (most frequent first),
     * written next to the data. A tiny model then has an embedding of a few thousand rows instead of Gemma's
     * 256k. It is reused only while the data files it was made from are the same ({@code tokenizer.inputs.json}
     * holds their fingerprint): a regenerated sample gets a new vocabulary.
     */
    private static Path sampleVocabulary(Pipeline p) throws IOException {
        Path file = p.out().resolve("data").resolve("tokenizer.json");
        Path stamp = p.out().resolve("data").resolve("tokenizer.inputs.json");
        Inputs in = p.inputs();
        List<Path> sources = new ArrayList<>(List.of(in.files().train(), in.files().test()));
        sources.addAll(in.files().external());
        sources.addAll(in.files().unlabeled());
        Fingerprint made = Fingerprint.builder().files("data", sources).build();
        if (Files.isRegularFile(file) && Files.isRegularFile(stamp)) {
            try {
                if (Json.read(stamp, Fingerprint.class).equals(made)) {
                    return file;
                }
            } catch (Json.Invalid e) {
                // an unreadable stamp: make the vocabulary again
            }
            p.log("data").accept(file + " was made from other data files: making it again");
        }
        Map<String, Integer> counts = new HashMap<>();
        List<Conversation> rows = new ArrayList<>(in.labeled());
        rows.addAll(in.unlabeled());
        rows.addAll(in.test().rows());
        for (Conversation c : rows) {
            for (Turn t : c.turns()) {
                count(counts, t.prompt(), t.responseA(), t.responseB());
            }
        }
        // the formats' own text (instruction, role labels, verdict cue, the truncation mark) must not become <unk>
        Conversation probe = rows.get(0);
        for (String format : PromptFormat.names()) {
            Layout l = PromptFormat.forName(format).layout(probe);
            for (List<Segment> part : List.of(l.prefix(), l.body(), l.suffix())) {
                part.stream().filter(s -> s.kind() == Segment.Kind.FIXED).forEach(s -> count(counts, s.text()));
            }
        }
        count(counts, PromptEncoder.ELLIPSIS, "null");
        List<String> words = counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed()
                        .thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).toList();
        WordLevelTokenizer.write(file, words);
        Json.write(stamp, made);
        p.log("data").accept("word-level tokenizer: " + (words.size() + WordLevelTokenizer.SPECIALS.size())
                + " entries -> " + file);
        return file;
    }
}
