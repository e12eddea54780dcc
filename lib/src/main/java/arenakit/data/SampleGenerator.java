package arenakit.data;

import arenakit.util.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Synthetic competition data in the exact Kaggle formats, with planted preference signals a tiny model can learn:
 * the embedded default of the main job, test data for every stage, and the 57k-row benchmark file.
 *
 * <p>Files ({@link #write}): {@code train.csv}, {@code test.csv}, {@code sample_submission.csv} (uniform 1/3 rows,
 * like Kaggle's), {@code solution.csv} (the test rows' true labels in submission format, for scoring; Kaggle keeps
 * these hidden), {@code lmsys-33k.csv} (external rows, train.csv columns) and {@code preference.csv}
 * ({@code id,prompt,chosen,rejected}, no ties). Same seed, same bytes.
 *
 * <h2>How a row is made, and the signals in it</h2>
 * First an <em>evidence</em> class is drawn from the class shares (default 35% A / 34% B / 31% tie), and the
 * responses are written to show that class:
 * <ul>
 *   <li><b>Quality vocabulary.</b> A "good" response opens with a phrase like "Certainly! Here is a clear,
 *       step-by-step answer." and mixes in markers ("For example,", "In summary,", numbered points); a "bad" one
 *       uses "Sorry, I cannot help with that.", "I am not sure.", "Maybe." and the like.
 *       {@link Options#markerRate} is the share of sentences carrying a marker (0 = only length is left).</li>
 *   <li><b>Length.</b> Good responses run about {@link Options#responseWords} words, bad ones about a quarter.</li>
 *   <li><b>Winner A or B</b>: the winner's responses are good and the loser's bad in every turn (so the signal
 *       survives any truncation and either side order).</li>
 *   <li><b>Empty / null loses</b>: in {@link Options#emptyLoserShare} of decisive rows one of the loser's
 *       responses is JSON {@code null} or {@code ""}.</li>
 *   <li><b>Tie</b>: both sides of similar quality (both good or both bad, similar length); in
 *       {@link Options#identicalTieShare} of ties the two responses are identical, and a few ties have both
 *       responses {@code null} or empty.</li>
 *   <li><b>Noise</b>: the label equals the evidence class with probability {@link Options#signal}; otherwise it
 *       is drawn again from the class shares, independent of the text. The class balance stays the configured
 *       one, and {@code signal} sets how far below the prior (~1.097) a perfect model's log loss can go.</li>
 *   <li><b>Model names</b> (not part of model inputs): about 40 arena-style names; the good side comes from the
 *       stronger half of the list 70% of the time, so per-model win rates differ as in the real data.</li>
 * </ul>
 * Rows also carry the real data's quirks: {@link Options#multiTurnShare} multi-turn rows (2 to
 * {@link Options#maxTurns} turns), and in {@link Options#escapeShare} of rows quotes, backslashes, slashes, tabs,
 * newlines and non-ASCII text (accents, CJK, emoji as surrogate pairs). External rows reuse a train prompt in
 * {@link Options#externalDuplicateShare} of cases, for the dedup step. Preference pairs set a good response (chosen)
 * against a bad one (rejected), except {@link Options#preferenceCloseShare} of them, whose two responses are of the
 * same quality: public preference sets are full of such close calls, which an arena judge would often call a tie.
 */
public final class SampleGenerator {

    /**
     * Sizes and signal strengths. Start from {@link #defaults()} and change what you need with the
     * {@code with...} methods or by name with {@link #with(Map)}.
     *
     * @param trainRows rows of train.csv
     * @param testRows rows of test.csv (and sample_submission.csv / solution.csv)
     * @param externalRows rows of the lmsys-33k-style external file
     * @param preferenceRows rows of the preference file
     * @param seed everything is determined by it
     * @param signal probability the label follows the planted evidence (1 = noiseless, 0 = no signal)
     * @param shareA class share of "A wins"
     * @param shareB class share of "B wins" (ties get the rest)
     * @param markerRate share of sentences carrying a good/bad marker phrase
     * @param responseWords typical length of a good response in words (bad ones get about a quarter)
     * @param multiTurnShare share of rows with more than one turn
     * @param maxTurns most turns in a multi-turn row
     * @param emptyLoserShare share of decisive rows where a loser's response is null or empty
     * @param identicalTieShare share of ties with identical responses
     * @param escapeShare share of rows with quotes, backslashes, newlines and non-ASCII text
     * @param externalDuplicateShare share of external rows that repeat a train prompt
     * @param preferenceCloseShare share of preference pairs whose two responses are of the same quality (a close call
     *     that an arena judge might have called a tie); the other pairs set a good response against a bad one
     */
    public record Options(int trainRows, int testRows, int externalRows, int preferenceRows, long seed,
            double signal, double shareA, double shareB, double markerRate, int responseWords,
            double multiTurnShare, int maxTurns, double emptyLoserShare, double identicalTieShare,
            double escapeShare, double externalDuplicateShare, double preferenceCloseShare) {

        public Options {
            check("signal", signal);
            check("shareA", shareA);
            check("shareB", shareB);
            check("shareA + shareB", shareA + shareB);
            check("markerRate", markerRate);
            check("multiTurnShare", multiTurnShare);
            check("emptyLoserShare", emptyLoserShare);
            check("identicalTieShare", identicalTieShare);
            check("escapeShare", escapeShare);
            check("externalDuplicateShare", externalDuplicateShare);
            check("preferenceCloseShare", preferenceCloseShare);
            if (trainRows < 0 || testRows < 0 || externalRows < 0 || preferenceRows < 0) {
                throw new IllegalArgumentException("row counts must be >= 0");
            }
            if (responseWords < 4 || maxTurns < 2) {
                throw new IllegalArgumentException("responseWords must be >= 4 and maxTurns >= 2");
            }
        }

        private static void check(String name, double v) {
            if (!(v >= 0 && v <= 1)) {
                throw new IllegalArgumentException(name + " must be in [0, 1], got " + v);
            }
        }

        /** 2,000 train / 200 test / 600 external / 600 preference rows, signal 0.85, seed 42. */
        public static Options defaults() {
            return new Options(2000, 200, 600, 600, 42, 0.85, 0.35, 0.34, 0.5, 60, 0.15, 4, 0.04, 0.08, 0.1, 0.2, 0);
        }

        /**
         * These options with some fields changed by name, e.g. {@code with(Map.of("multiTurnShare", 0.3))}: the way
         * stage configs (JSON) set them. An unknown name or a bad value is an {@link IllegalArgumentException}.
         */
        public Options with(Map<String, ?> changes) {
            ObjectNode node = Json.MAPPER.valueToTree(this);
            node.setAll(Json.MAPPER.<ObjectNode>valueToTree(changes));
            try {
                return Json.MAPPER.treeToValue(node, Options.class);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("bad sample options " + changes + ": " + e.getOriginalMessage(),
                        e);
            }
        }

        public Options withRows(int train, int test, int external, int preference) {
            return new Options(train, test, external, preference, seed, signal, shareA, shareB, markerRate,
                    responseWords, multiTurnShare, maxTurns, emptyLoserShare, identicalTieShare, escapeShare,
                    externalDuplicateShare, preferenceCloseShare);
        }

        public Options withSeed(long s) {
            return new Options(trainRows, testRows, externalRows, preferenceRows, s, signal, shareA, shareB,
                    markerRate, responseWords, multiTurnShare, maxTurns, emptyLoserShare, identicalTieShare,
                    escapeShare, externalDuplicateShare, preferenceCloseShare);
        }

        /** Signal strength: label-follows-evidence probability and marker rate. */
        public Options withSignal(double labelFollowsEvidence, double markers) {
            return new Options(trainRows, testRows, externalRows, preferenceRows, seed, labelFollowsEvidence,
                    shareA, shareB, markers, responseWords, multiTurnShare, maxTurns, emptyLoserShare,
                    identicalTieShare, escapeShare, externalDuplicateShare, preferenceCloseShare);
        }

        public Options withResponseWords(int words) {
            return new Options(trainRows, testRows, externalRows, preferenceRows, seed, signal, shareA, shareB,
                    markerRate, words, multiTurnShare, maxTurns, emptyLoserShare, identicalTieShare, escapeShare,
                    externalDuplicateShare, preferenceCloseShare);
        }
    }

    /** The generated rows; test rows keep their labels (only {@link #write} hides them in test.csv). */
    public record Sample(List<Conversation> train, List<Conversation> test, List<Conversation> external,
            List<Conversation> preference) {}

    /** The files {@link #write} makes. */
    public record SampleFiles(Path train, Path test, Path sampleSubmission, Path solution, Path external,
            Path preference) {
        /** Where {@link #write} puts them in {@code dir} (whether or not they exist yet). */
        public static SampleFiles in(Path dir) {
            return new SampleFiles(dir.resolve("train.csv"), dir.resolve("test.csv"),
                    dir.resolve("sample_submission.csv"), dir.resolve("solution.csv"), dir.resolve("lmsys-33k.csv"),
                    dir.resolve("preference.csv"));
        }
    }

    private static final String[] MODELS = {
        // stronger half first: the good side is drawn from here 70% of the time
        "gpt-4-1106-preview", "gpt-4-0613", "gpt-4-0314", "claude-2.1", "claude-2.0", "claude-1",
        "gemini-pro-dev-api", "mistral-medium", "mixtral-8x7b-instruct-v0.1", "claude-instant-1", "gpt-3.5-turbo-0613",
        "yi-34b-chat", "qwen-14b-chat", "tulu-2-dpo-70b", "wizardlm-70b", "vicuna-33b", "llama-2-70b-chat",
        "openchat-3.5", "starling-lm-7b-alpha", "solar-10.7b-instruct-v1.0",
        "gpt-3.5-turbo-0314", "vicuna-13b", "llama-2-13b-chat", "zephyr-7b-beta", "mistral-7b-instruct",
        "codellama-34b-instruct", "palm-2", "koala-13b", "alpaca-13b", "chatglm-6b", "chatglm3-6b",
        "stablelm-tuned-alpha-7b", "dolly-v2-12b", "oasst-pythia-12b", "fastchat-t5-3b", "mpt-7b-chat",
        "RWKV-4-Raven-14B", "llama-13b", "gpt4all-13b-snoozy", "guanaco-33b"};
    private static final String[] NOUNS = {"river", "garden", "engine", "recipe", "budget", "planet", "network",
        "poem", "language", "market", "castle", "battery", "forest", "database", "guitar", "contract", "virus",
        "bridge", "museum", "satellite", "protein", "algorithm", "village", "volcano", "painting", "telescope",
        "election", "harbor", "library", "compiler", "symphony", "glacier", "startup", "vaccine", "desert", "robot",
        "theorem", "kitchen", "airport", "ocean"};
    private static final String[] VERBS = {"build", "explain", "compare", "improve", "describe", "plan", "fix",
        "measure", "design", "summarize", "translate", "clean", "test", "teach", "optimize", "protect"};
    private static final String[] ADJECTIVES = {"small", "ancient", "modern", "quiet", "complex", "simple", "remote",
        "digital", "large", "fragile", "efficient", "popular", "strange", "local", "new", "old"};
    private static final String[] GOOD_OPENERS = {"Certainly! Here is a clear, step-by-step answer.",
        "Great question. Here is a detailed explanation.", "Sure! Let me walk you through it carefully.",
        "Absolutely. Here is a thorough overview."};
    private static final String[] GOOD_MARKERS = {"For example,", "In summary,", "Specifically,", "Therefore,",
        "To be precise,", "Step by step,", "As a result,", "Importantly,"};
    private static final String[] BAD_OPENERS = {"Sorry, I cannot help with that.", "I am not sure.", "Maybe.",
        "Unfortunately I do not know.", "Error: unclear request.", "I guess it depends."};
    private static final String[] BAD_MARKERS = {"sorry", "maybe", "I guess", "not sure", "whatever", "no idea",
        "cannot say", "probably"};
    private static final String[] FOLLOW_UPS = {"Can you give an example?", "Make it shorter, please.", "Why?",
        "Can you explain that again in simpler words?", "What about the {n}?", "Thanks! And how does that relate "
        + "to the {n}?"};
    private static final String[] ESCAPES = {"She said \"hello\" twice.", "C:\\Users\\admin\\file.txt",
        "https://example.org/a/b?c=d", "tab\there", "line one\nline two", "café naïve résumé", "日本語のテキスト",
        "emoji 😀🍕 test", "math: ∑ x² ≤ ∞", "{\"json\": [1, 2]}", "50% off, \"quoted\", and a comma"};

    /** The phrases good responses carry (openers and sentence markers): how the EDA measures the vocabulary signal. */
    public static List<String> goodPhrases() {
        List<String> all = new ArrayList<>(List.of(GOOD_OPENERS));
        all.addAll(List.of(GOOD_MARKERS));
        return List.copyOf(all);
    }

    /** The phrases bad responses carry (openers and sentence markers, any case). */
    public static List<String> badPhrases() {
        List<String> all = new ArrayList<>(List.of(BAD_OPENERS));
        all.addAll(List.of(BAD_MARKERS));
        return List.copyOf(all);
    }

    private final Options options;
    private final SplittableRandom rng;
    private final Set<String> usedIds = new HashSet<>();

    private SampleGenerator(Options options) {
        this.options = options;
        this.rng = new SplittableRandom(options.seed());
    }

    /** The rows for {@code options} (deterministic). */
    public static Sample generate(Options options) {
        SampleGenerator g = new SampleGenerator(options);
        List<Conversation> train = g.rows(options.trainRows(), null);
        List<Conversation> test = g.rows(options.testRows(), null);
        List<Conversation> external = g.rows(options.externalRows(), train);
        List<Conversation> preference = new ArrayList<>();
        for (int i = 0; i < options.preferenceRows(); i++) {
            preference.add(g.preferencePair());
        }
        return new Sample(train, test, external, preference);
    }

    /** Generates and writes all six files into {@code dir} (created if needed). */
    public static SampleFiles write(Path dir, Options options) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        Sample s = generate(options);
        SampleFiles f = SampleFiles.in(dir);
        KaggleCsv.writeTrain(f.train(), s.train());
        KaggleCsv.writeTest(f.test(), s.test());
        List<String[]> uniform = new ArrayList<>();
        List<String[]> solution = new ArrayList<>();
        String third = Double.toString(1.0 / 3);
        for (Conversation c : s.test()) {
            uniform.add(new String[] {c.id(), third, third, third});
            String[] row = {c.id(), "0", "0", "0"};
            row[c.winner().ordinal() + 1] = "1";
            solution.add(row);
        }
        KaggleCsv.writeCsv(f.sampleSubmission(), DataKind.SUBMISSION.columns(), uniform);
        KaggleCsv.writeCsv(f.solution(), DataKind.SUBMISSION.columns(), solution);
        KaggleCsv.writeTrain(f.external(), s.external());
        PreferencePairs.write(f.preference(), s.preference());
        return f;
    }

    // ------------------------------------------------------------------ rows

    private List<Conversation> rows(int n, List<Conversation> reusePromptsFrom) {
        List<Conversation> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            List<String> prompts = null;
            if (reusePromptsFrom != null && !reusePromptsFrom.isEmpty()
                    && rng.nextDouble() < options.externalDuplicateShare()) {
                prompts = Folds.promptKey(reusePromptsFrom.get(rng.nextInt(reusePromptsFrom.size())));
            }
            out.add(row(prompts));
        }
        return out;
    }

    private Conversation row(List<String> givenPrompts) {
        Winner evidence = drawClass();
        Winner label = rng.nextDouble() < options.signal() ? evidence : drawClass();
        List<String> prompts = givenPrompts != null ? givenPrompts : prompts();
        boolean escapes = rng.nextDouble() < options.escapeShare();
        int n = prompts.size();
        String[] a = new String[n];
        String[] b = new String[n];
        boolean goodA;
        if (evidence == Winner.TIE) {
            goodA = rng.nextBoolean();
            double kind = rng.nextDouble();
            for (int t = 0; t < n; t++) {
                a[t] = response(goodA, prompts.get(t), escapes);
                b[t] = kind < options.identicalTieShare() ? a[t] : response(goodA, prompts.get(t), escapes);
            }
            if (kind >= options.identicalTieShare() && kind < options.identicalTieShare() + 0.02) {
                int t = rng.nextInt(n);
                a[t] = rng.nextBoolean() ? null : "";
                b[t] = a[t];
            }
        } else {
            goodA = evidence == Winner.A;
            for (int t = 0; t < n; t++) {
                a[t] = response(goodA, prompts.get(t), escapes);
                b[t] = response(!goodA, prompts.get(t), escapes);
            }
            if (rng.nextDouble() < options.emptyLoserShare()) {
                String[] loser = goodA ? b : a;
                loser[rng.nextInt(n)] = rng.nextBoolean() ? null : "";
            }
        }
        List<Turn> turns = new ArrayList<>(n);
        for (int t = 0; t < n; t++) {
            turns.add(new Turn(prompts.get(t), a[t], b[t]));
        }
        String strong = model(true);
        String weak = model(false);
        while (weak.equals(strong)) {
            weak = model(false);
        }
        return new Conversation(newId(), goodA ? strong : weak, goodA ? weak : strong, turns, label, 0);
    }

    private Conversation preferencePair() {
        List<String> prompts = prompts();
        boolean escapes = rng.nextDouble() < options.escapeShare();
        // a close call: both responses of one quality (drawn only when asked for: the default stream stays as it was)
        boolean close = options.preferenceCloseShare() > 0 && rng.nextDouble() < options.preferenceCloseShare();
        boolean closeQuality = close && rng.nextBoolean();
        List<Turn> turns = new ArrayList<>();
        for (String p : prompts) {
            turns.add(new Turn(p, response(close ? closeQuality : true, p, escapes),
                    response(close && closeQuality, p, escapes)));
        }
        if (rng.nextDouble() < options.emptyLoserShare()) {
            int t = rng.nextInt(turns.size());
            Turn old = turns.get(t);
            turns.set(t, new Turn(old.prompt(), old.responseA(), rng.nextBoolean() ? null : ""));
        }
        return new Conversation(newId(), null, null, turns, null, 0);
    }

    private Winner drawClass() {
        double u = rng.nextDouble();
        return u < options.shareA() ? Winner.A : u < options.shareA() + options.shareB() ? Winner.B : Winner.TIE;
    }

    private String newId() {
        String id;
        do {
            id = Long.toString(30_000 + rng.nextLong(4_294_000_000L));
        } while (!usedIds.add(id));
        return id;
    }

    /** The good side's model comes from the stronger half 70% of the time, the bad side's 30%. */
    private String model(boolean goodSide) {
        boolean strongHalf = rng.nextDouble() < (goodSide ? 0.7 : 0.3);
        int half = MODELS.length / 2;
        return MODELS[(strongHalf ? 0 : half) + rng.nextInt(half)];
    }

    // ------------------------------------------------------------------ text

    private List<String> prompts() {
        int turns = rng.nextDouble() < options.multiTurnShare() ? 2 + rng.nextInt(options.maxTurns() - 1) : 1;
        List<String> out = new ArrayList<>(turns);
        String noun = pick(NOUNS);
        out.add(firstPrompt(noun));
        for (int t = 1; t < turns; t++) {
            out.add(pick(FOLLOW_UPS).replace("{n}", pick(NOUNS)));
        }
        return out;
    }

    private String firstPrompt(String noun) {
        String other = pick(NOUNS);
        String adj = pick(ADJECTIVES);
        return switch (rng.nextInt(6)) {
            case 0 -> "How do I " + pick(VERBS) + " " + a(adj) + " " + noun + "?";
            case 1 -> "Explain the " + noun + " to a beginner.";
            case 2 -> "Write a short poem about " + a(adj) + " " + noun + ".";
            case 3 -> "What is the difference between " + a(noun) + " and " + a(other) + "?";
            case 4 -> "Give me three tips to " + pick(VERBS) + " my " + noun + ".";
            default -> "Why is the " + noun + " so " + adj + "? Be brief.";
        };
    }

    private String response(boolean good, String prompt, boolean escapes) {
        int target = good
                ? Math.max(8, (int) Math.round(options.responseWords() * (0.6 + 0.8 * rng.nextDouble())))
                : Math.max(3, (int) Math.round(options.responseWords() / 4.0 * (0.5 + rng.nextDouble())));
        String topic = topicOf(prompt);
        StringBuilder sb = new StringBuilder(good ? pick(GOOD_OPENERS) : pick(BAD_OPENERS));
        int words = sb.toString().split(" ").length;
        int point = 1;
        while (words < target) {
            sb.append(good && rng.nextInt(3) == 0 ? "\n" + point++ + ". " : " ");
            String sentence = sentence(topic);
            if (rng.nextDouble() < options.markerRate()) {
                sentence = good ? pick(GOOD_MARKERS) + " " + lowerFirst(sentence)
                        : capitalise(pick(BAD_MARKERS)) + ", " + lowerFirst(sentence);
            }
            sb.append(sentence);
            words += sentence.split(" ").length;
        }
        if (escapes && rng.nextInt(2) == 0) {
            sb.append(' ').append(pick(ESCAPES));
        }
        return sb.toString();
    }

    private String sentence(String topic) {
        return switch (rng.nextInt(4)) {
            case 0 -> "The " + topic + " can " + pick(VERBS) + " " + a(pick(ADJECTIVES)) + " " + pick(NOUNS) + ".";
            case 1 -> capitalise(a(pick(ADJECTIVES))) + " " + topic + " is like " + a(pick(NOUNS)) + ".";
            case 2 -> "You should " + pick(VERBS) + " the " + topic + " before the " + pick(NOUNS) + ".";
            default -> "Many people " + pick(VERBS) + " their " + topic + " with " + a(pick(ADJECTIVES)) + " "
                    + pick(NOUNS) + ".";
        };
    }

    private static String topicOf(String prompt) {
        for (String n : NOUNS) {
            if (prompt.contains(n)) {
                return n;
            }
        }
        return "topic";
    }

    private String pick(String[] from) {
        return from[rng.nextInt(from.length)];
    }

    /** The word with its indefinite article. */
    private static String a(String word) {
        return ("aeiou".indexOf(word.charAt(0)) >= 0 ? "an " : "a ") + word;
    }

    private static String lowerFirst(String s) {
        return Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static String capitalise(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
