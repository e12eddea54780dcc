package arenakit.eda;

import arenakit.data.Conversation;
import arenakit.data.Dedup;
import arenakit.text.Tokenizer;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The EDA stage: every number of {@link EdaResult}, written as {@code eda.json} (exact values) and {@code eda.html}
 * (tables and charts that open offline).
 *
 * <pre>{@code
 * EdaResult eda = Eda.run(train.rows(), test.rows(), Path.of("out/eda"), EdaOptions.defaults());
 * int maxLength = eda.recommendedMaxLength().maxLength();
 * }</pre>
 */
public final class Eda {
    public static final String JSON_FILE = "eda.json";
    public static final String HTML_FILE = "eda.html";

    private Eda() {}

    /**
     * Computes the EDA with the real Gemma tokenizer ({@link Tokenizer#gemma()}) and writes eda.json and eda.html
     * into {@code outDir}.
     *
     * @param test the test rows, or null
     */
    public static EdaResult run(List<Conversation> train, List<Conversation> test, Path outDir, EdaOptions options)
            throws IOException {
        try (Tokenizer tokenizer = Tokenizer.gemma()) {
            return run(train, test, tokenizer, outDir, options);
        }
    }

    /** {@link #run(List, List, Path, EdaOptions)} with a given tokenizer. */
    public static EdaResult run(List<Conversation> train, List<Conversation> test, Tokenizer tokenizer, Path outDir,
            EdaOptions options) throws IOException {
        EdaResult result = compute(train, test, tokenizer, options);
        write(result, outDir);
        return result;
    }

    /** The EDA of a train split and an optional test split (null), tokenizing both (with progress bars). */
    public static EdaResult compute(List<Conversation> train, List<Conversation> test, Tokenizer tokenizer,
            EdaOptions options) {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("EDA: the train split has no rows");
        }
        TokenCounts trainTokens = TokenCounter.count("train", train, tokenizer, options.format());
        TokenCounts testTokens = test == null ? null : TokenCounter.count("test", test, tokenizer, options.format());
        return compute(train, trainTokens, test, testTokens, options);
    }

    /** The EDA from rows whose token counts are already known (index-aligned with the rows). */
    public static EdaResult compute(List<Conversation> train, TokenCounts trainTokens, List<Conversation> test,
            TokenCounts testTokens, EdaOptions options) {
        EdaResult.Split trainSplit = SplitProfiler.profile("train", train, trainTokens, options);
        if (test == null) {
            return new EdaResult(options, trainSplit, null, null);
        }
        long promptInTrain = Dedup.againstTrain(test, train).dropped().size();
        return new EdaResult(options, trainSplit, SplitProfiler.profile("test", test, testTokens, options),
                promptInTrain);
    }

    /**
     * Real rows profiled with the result's options and {@code tokenizer}, to set beside it
     * ({@link EdaResult#withComparison}).
     */
    public static EdaResult.Reference reference(String source, List<Conversation> rows, Tokenizer tokenizer,
            EdaOptions options) {
        TokenCounts tokens = TokenCounter.count("real rows", rows, tokenizer, options.format());
        return new EdaResult.Reference(source, SplitProfiler.profile("real rows", rows, tokens, options));
    }

    /** Writes {@value #JSON_FILE} and {@value #HTML_FILE} into {@code outDir} (atomically each). */
    public static void write(EdaResult result, Path outDir) throws IOException {
        Json.write(outDir.resolve(JSON_FILE), result);
        EdaReport.write(result, outDir.resolve(HTML_FILE));
    }

    /** The result an EDA wrote into {@code dir} ({@value #JSON_FILE}), e.g. the pipeline's EDA stage. */
    public static EdaResult read(Path dir) throws IOException {
        return Json.read(dir.resolve(JSON_FILE), EdaResult.class);
    }
}
