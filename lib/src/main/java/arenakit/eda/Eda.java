package arenakit.eda;

import arenakit.data.Conversation;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The EDA stage: numbers ({@link EdaResult}), tables, charts, eda.json and eda.html. */
public final class Eda {
    private Eda() {}

    /**
     * The EDA of a train split and an optional test split (null) from rows whose token counts are already known.
     */
    public static EdaResult compute(List<Conversation> train, TokenCounts trainTokens, List<Conversation> test,
            TokenCounts testTokens, EdaOptions options) {
        EdaResult.Split trainSplit = SplitProfiler.profile("train", train, trainTokens, options);
        if (test == null) {
            return new EdaResult(options, trainSplit, null, null);
        }
        Set<List<String>> trainPrompts = new HashSet<>();
        train.forEach(c -> trainPrompts.add(SplitProfiler.promptKey(c)));
        long seen = test.stream().filter(c -> trainPrompts.contains(SplitProfiler.promptKey(c))).count();
        return new EdaResult(options, trainSplit, SplitProfiler.profile("test", test, testTokens, options), seen);
    }
}
