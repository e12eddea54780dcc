package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.text.ChatTemplate;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A base model's tokenizer: a file, a real one that setup installs ({@code gemma}, {@code llama3}, {@code qwen2.5}),
 * the checkpoint's own, or a word-level one of the data ({@code sample}).
 */
final class Tokenizers {
    /** What Hugging Face's Whitespace pre-tokenizer splits on: runs of word characters, runs of other symbols. */
    private static final Pattern WORDS = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);
    static final String SAMPLE = "sample";

    private Tokenizers() {}

    private static void fixedText(Layout l, java.util.function.Consumer<String> sink) {
        for (List<Segment> part : List.of(l.prefix(), l.body(), l.suffix())) {
            part.stream().filter(s -> s.kind() == Segment.Kind.FIXED).forEach(s -> sink.accept(s.text()));
        }
    }

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

    /** The tokenizer.json file {@code spec} names for a base model ({@code where} names the config field). */
    static Path file(String spec, ExperimentConfig.BaseModel base, String where, Pipeline p) throws IOException {
        if (spec == null) {
            if (base.checkpoint() == null) {
                throw new ConfigException(where + ": a tiny base model needs a 'tokenizer' (" + SAMPLE + ", "
                        + String.join(", ", Tokenizer.installedNames()) + " or a tokenizer.json path)");
            }
            return Path.of(base.checkpoint()).resolve("tokenizer.json");
        }
        if (spec.equals(SAMPLE)) {
            return sampleVocabulary(p);
        }
        if (Tokenizer.installedNames().contains(spec)) {
            Path installed = Tokenizer.installedPath(spec);
            if (!Files.isRegularFile(installed)) {
                throw new IOException("the " + spec + " tokenizer is not installed at " + installed
                        + "; run: bash environment/setup.sh (or name a tokenizer.json path)");
            }
            return installed;
        }
        return Path.of(spec);
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
        // the template specials are part of the vocabulary: a file made before a template was added is made again
        Fingerprint made = Fingerprint.builder().files("data", sources)
                .text("specials", String.join(" ", WordLevelTokenizer.templateSpecials())).build();
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
            fixedText(PromptFormat.forName(format).layout(probe, ChatTemplate.GEMMA), t -> count(counts, t));
        }
        count(counts, PromptEncoder.ELLIPSIS, "null");
        List<String> words = new ArrayList<>(counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed()
                        .thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).toList());
        // the other templates' words ("assistant", a system message) and special tokens come after all of the
        // above, so the ids of a Gemma-template setup are the same as before they existed
        Set<String> seen = new HashSet<>(words);
        for (ChatTemplate template : ChatTemplate.all()) {
            for (String format : PromptFormat.names()) {
                fixedText(PromptFormat.forName(format).layout(probe, template), t -> {
                    Matcher m = WORDS.matcher(t);
                    while (m.find()) {
                        if (seen.add(m.group())) {
                            words.add(m.group());
                        }
                    }
                });
            }
        }
        List<String> specials = WordLevelTokenizer.templateSpecials();
        WordLevelTokenizer.write(file, words, specials);
        Json.write(stamp, made);
        p.log("data").accept("word-level tokenizer: " + (words.size() + WordLevelTokenizer.SPECIALS.size()
                + specials.size()) + " entries (the special tokens of every chat template included) -> " + file);
        return file;
    }
}
