package arenakit.eda;

import arenakit.data.SampleGenerator;
import arenakit.data.Winner;
import java.util.List;

/**
 * Every number the EDA shows, as plain records (written to eda.json by {@link arenakit.util.Json}; the HTML
 * report and the notebook draw their tables and charts from this and nothing else).
 *
 * <p>Definitions used throughout:
 * <ul>
 *   <li><b>null</b> element: a JSON {@code null} inside a prompt/response array;
 *       <b>blank</b> element: a string that is empty or only whitespace ({@link String#isBlank()}).</li>
 *   <li>a response side <b>has text</b> when at least one of its turns is a non-null, non-blank string.</li>
 *   <li><b>characters</b>: Unicode code points (what Python's {@code len(str)} counts), summed over turns; a null
 *       element counts 0.</li>
 *   <li><b>tokens</b>: Gemma tokenizer ids without special tokens, summed over turns, for the prompt and the two
 *       responses; the model input is the full formatted sequence ({@link EdaOptions#format()}, untruncated,
 *       with the chat-template special tokens) exactly as the model would see it with no length limit.</li>
 *   <li>rates are {@code count / rows} over the rows named; 0 when there are no such rows.</li>
 * </ul>
 *
 * @param options the settings the numbers were computed with
 * @param train   the training split (labeled)
 * @param test    the test split, or null when none was given
 * @param testRowsWithPromptInTrain test rows whose whole prompt (every turn, exactly) also occurs in train; null
 *                without a test split
 * @param planted when the data is the embedded sample: the generator settings that planted its signals; else null
 * @param reference real competition rows profiled the same way, to set the sample's signals against (null when
 *                none were found)
 */
public record EdaResult(EdaOptions options, Split train, @arenakit.util.StrictJson.Nullable Split test,
        @arenakit.util.StrictJson.Nullable Long testRowsWithPromptInTrain, @arenakit.util.StrictJson.Nullable SampleGenerator.Options planted,
        @arenakit.util.StrictJson.Nullable Reference reference) {

    /** The EDA of data that is not the embedded sample, without real rows to compare with. */
    public EdaResult(EdaOptions options, Split train, Split test, Long testRowsWithPromptInTrain) {
        this(options, train, test, testRowsWithPromptInTrain, null, null);
    }

    /** This EDA with the embedded sample's generator settings and real rows to compare it with (either may be null). */
    public EdaResult withComparison(SampleGenerator.Options plantedBy, Reference realRows) {
        return new EdaResult(options, train, test, testRowsWithPromptInTrain, plantedBy, realRows);
    }

    /**
     * Real rows profiled like the train split (same options and tokenizer).
     *
     * @param source where they come from (a file name)
     * @param split  their profile, named "real rows"
     */
    public record Reference(String source, Split split) {}

    /** The splits there are: train, then test when given. */
    public List<Split> splits() {
        return test == null ? List.of(train) : List.of(train, test);
    }

    /** The max length recommended from the training rows' model-input lengths. */
    public MaxLength recommendedMaxLength() {
        return train.tokens().recommendation();
    }

    /**
     * One split's profile. Label-dependent parts ({@code classBalance}, {@code priorLogLoss}, {@code models},
     * {@code positionBias}, {@code lengthDifference}, group outcomes) are null or empty when no row is labeled.
     *
     * @param name             "train" or "test"
     * @param rows             number of rows
     * @param labeledRows      rows with a verdict
     * @param classBalance     verdict counts over the labeled rows
     * @param priorLogLoss     log loss of always predicting the class shares themselves (the entropy of the class
     *                         balance): the score any model has to beat
     * @param responseGroups   every row in exactly one group (see {@link ResponseGroup}), with verdicts
     * @param elements         null / blank element counts
     * @param turns            rows per number of turns, ascending
     * @param prompts          prompt repetition
     * @param models           per-model records, most games first ({@link EdaOptions#topModels()} of them)
     * @param distinctModels   number of different model names on either side
     * @param positionBias     A vs B among decisive verdicts
     * @param lengthDifference verdicts per bin of len(A) - len(B) in characters
     * @param tokens           token-length statistics
     * @param signals          how strongly the evidence the embedded sample plants decides the verdict here (null
     *                         without labels)
     */
    public record Split(
            String name,
            long rows,
            long labeledRows,
            @arenakit.util.StrictJson.Nullable Outcome classBalance,
            @arenakit.util.StrictJson.Nullable Double priorLogLoss,
            List<ResponseGroup> responseGroups,
            Elements elements,
            List<TurnCount> turns,
            Prompts prompts,
            List<ModelRecord> models,
            long distinctModels,
            @arenakit.util.StrictJson.Nullable PositionBias positionBias,
            List<LengthBin> lengthDifference,
            TokenLengths tokens,
            @arenakit.util.StrictJson.Nullable Signals signals) {}

    /**
     * The kinds of evidence {@link arenakit.data.SampleGenerator} plants, measured on labeled rows, so that the same
     * numbers on real rows show how much weaker each is there.
     *
     * @param longerWins        decisive rows (A or B won) whose responses differ in length: the longer one won
     * @param textBeatsEmpty    decisive rows where exactly one side has no text: the side with text won
     * @param identicalTie      rows whose two responses are identical: the verdict was a tie
     * @param qualityPhrasesWin decisive rows whose sides differ in quality phrases (the sample's good phrases, such
     *                          as "Certainly! Here is", "For example,", minus its bad ones, such as "Sorry, I cannot",
     *                          "maybe"; any case): the side with more good ones won
     */
    public record Signals(Share longerWins, Share textBeatsEmpty, Share identicalTie, Share qualityPhrasesWin) {}

    /** {@code hits} of {@code rows} rows ({@code share}; 0 when there are no rows). */
    public record Share(long rows, long hits, double share) {
        public static Share of(long hits, long rows) {
            return new Share(rows, hits, Stats.rate(hits, rows));
        }
    }

    /**
     * Verdict counts over some set of labeled rows.
     *
     * @param rows    labeled rows counted ({@code winsA + winsB + ties})
     * @param rateA   {@code winsA / rows}; likewise {@code rateB}, {@code rateTie}
     */
    public record Outcome(long rows, long winsA, long winsB, long ties, double rateA, double rateB, double rateTie) {
        public static Outcome of(long winsA, long winsB, long ties) {
            long rows = winsA + winsB + ties;
            return new Outcome(rows, winsA, winsB, ties,
                    Stats.rate(winsA, rows), Stats.rate(winsB, rows), Stats.rate(ties, rows));
        }

        public long count(Winner w) {
            return switch (w) {
                case A -> winsA;
                case B -> winsB;
                case TIE -> ties;
            };
        }
    }

    /**
     * A group of rows by what their two responses look like; the groups are tried in the order of {@link Kind}
     * and each row lands in the first that fits, so the groups partition the split.
     *
     * @param group      the group
     * @param definition the rule, in words
     * @param rows       rows in the group (labeled or not)
     * @param outcome    verdicts of the group's labeled rows; null when the split has no labels
     */
    public record ResponseGroup(Kind group, String definition, long rows, @arenakit.util.StrictJson.Nullable Outcome outcome) {
        /** The groups, in the order rows are tested against them. */
        public enum Kind {
            BOTH_EMPTY("neither response has text (every turn null or blank on both sides)"),
            A_EMPTY("response A has no text, response B has"),
            B_EMPTY("response B has no text, response A has"),
            IDENTICAL("both have text and are equal, turn by turn, character for character"),
            DIFFERENT("every other row");

            private final String definition;

            Kind(String definition) {
                this.definition = definition;
            }

            public String definition() {
                return definition;
            }
        }
    }

    /**
     * Null and blank elements.
     *
     * @param turns            total turns over all rows (each turn has one prompt and two response elements)
     * @param nullPrompts      prompt elements that are JSON null
     * @param blankPrompts     prompt elements that are blank strings
     * @param nullResponses    response elements (A and B) that are JSON null
     * @param blankResponses   response elements that are blank strings
     * @param sidesAllNull     (row, side) pairs whose every response element is null
     * @param sidesWithoutText (row, side) pairs without text (every element null or blank); includes sidesAllNull
     */
    public record Elements(long turns, long nullPrompts, long blankPrompts, long nullResponses, long blankResponses,
            long sidesAllNull, long sidesWithoutText) {}

    /** {@code rows} rows have exactly {@code turns} turns; {@code share} = rows / split rows. */
    public record TurnCount(int turns, long rows, double share) {}

    /**
     * Prompt repetition. Two rows share a prompt when their prompt arrays are equal element by element (every turn,
     * exactly; nulls equal nulls). The 2nd-place solution grouped folds by prompt for this reason.
     *
     * @param distinct         different prompts
     * @param repeatedPrompts  prompts that occur in more than one row
     * @param rowsWithRepeatedPrompt rows whose prompt occurs in more than one row
     * @param largestGroup     rows sharing the most frequent prompt
     * @param mostRepeated     the most frequent repeated prompts, most rows first
     */
    public record Prompts(long distinct, long repeatedPrompts, long rowsWithRepeatedPrompt, long largestGroup,
            List<RepeatedPrompt> mostRepeated) {}

    /** A repeated prompt: the first turn's prompt cut to 80 characters, its turn count and how many rows have it. */
    public record RepeatedPrompt(String preview, int turns, long rows) {}

    /**
     * One model's record over the labeled rows where it played (as A or as B).
     *
     * @param games   rows where the model was A or B (a model on both sides of a row counts that row twice)
     * @param wins    games the human preferred this model's response
     * @param losses  games the other response was preferred
     * @param ties    games judged a tie
     * @param winRate {@code wins / games} (ties are games, not wins)
     * @param winRateLow  Wilson 95% interval of winRate, lower end; {@code winRateHigh} the upper end
     */
    public record ModelRecord(String model, long games, long wins, long losses, long ties, double winRate,
            double winRateLow, double winRateHigh) {}

    /**
     * Does the side a response is shown on matter? Among decisive verdicts (A or B won; ties left out), the share
     * won by A with its Wilson 95% interval: an interval excluding 0.5 means a position bias.
     */
    public record PositionBias(long decisiveRows, long winsA, long winsB, double shareA, double shareALow,
            double shareAHigh) {}

    /**
     * Rows whose {@code len(A) - len(B)} (characters) lies in {@code [from, to)}; from/to null = unbounded.
     */
    public record LengthBin(String label, @arenakit.util.StrictJson.Nullable Long from, @arenakit.util.StrictJson.Nullable Long to, @arenakit.util.StrictJson.Nullable Outcome outcome) {}

    /**
     * Token lengths (the EDA's default is the real Gemma tokenizer).
     *
     * @param tokenizer      which tokenizer counted (folder and file name, e.g. gemma/tokenizer.json)
     * @param format         prompt format of the model input
     * @param fields         per-field quantiles and histograms: prompt, response_a, response_b, model_input
     * @param coverage       rows whose model input fits each of {@link EdaOptions#coverageLengths()}
     * @param recommendation the max length for {@link EdaOptions#maxLengthCoverage()}
     */
    public record TokenLengths(String tokenizer, String format, List<FieldLengths> fields, List<Coverage> coverage,
            MaxLength recommendation) {
        public FieldLengths field(String name) {
            return fields.stream().filter(f -> f.field().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no token field " + name));
        }
    }

    /**
     * Nearest-rank quantiles ({@link Stats#quantile}) of one field's token lengths, and its histogram.
     *
     * @param histogram counts per bin: bin i holds lengths n with {@code i * binWidth < n <= (i + 1) * binWidth}
     *                  (0 goes to bin 0), so a running sum up to bin i is exactly the rows that fit a max length
     *                  of {@code (i + 1) * binWidth}; the last entry counts every longer row (the overflow bin)
     */
    public record FieldLengths(String field, long rows, int p50, int p90, int p95, int p99, int max, double mean,
            int binWidth, List<Long> histogram) {}

    /** {@code rows} rows (a {@code share} of the split) have a model input of at most {@code maxLength} tokens. */
    public record Coverage(int maxLength, long rows, double share) {}

    /**
     * The smallest multiple of {@code multiple} tokens that leaves at least {@code coverage} of the rows
     * untruncated ({@link Stats#recommendMaxLength}); {@code rowsCovered} / {@code shareCovered} are what it
     * actually covers.
     */
    public record MaxLength(double coverage, int multiple, int maxLength, long rowsCovered, double shareCovered) {}
}
