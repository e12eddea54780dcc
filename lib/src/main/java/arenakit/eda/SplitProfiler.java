package arenakit.eda;

import arenakit.data.Conversation;
import arenakit.data.Folds;
import arenakit.data.SampleGenerator;
import arenakit.data.Turn;
import arenakit.data.Winner;
import arenakit.eda.EdaResult.Coverage;
import arenakit.eda.EdaResult.Elements;
import arenakit.eda.EdaResult.FieldLengths;
import arenakit.eda.EdaResult.LengthBin;
import arenakit.eda.EdaResult.MaxLength;
import arenakit.eda.EdaResult.ModelRecord;
import arenakit.eda.EdaResult.Outcome;
import arenakit.eda.EdaResult.PositionBias;
import arenakit.eda.EdaResult.Prompts;
import arenakit.eda.EdaResult.RepeatedPrompt;
import arenakit.eda.EdaResult.ResponseGroup;
import arenakit.eda.EdaResult.Share;
import arenakit.eda.EdaResult.Signals;
import arenakit.eda.EdaResult.Split;
import arenakit.eda.EdaResult.TokenLengths;
import arenakit.eda.EdaResult.TurnCount;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Computes one split's {@link Split} profile from its rows and their token counts. Definitions: {@link EdaResult}. */
final class SplitProfiler {
    private final List<Conversation> rows;
    private final List<Conversation> labeled;
    private final EdaOptions options;

    private SplitProfiler(List<Conversation> rows, EdaOptions options) {
        this.rows = rows;
        this.labeled = rows.stream().filter(Conversation::labeled).toList();
        this.options = options;
    }

    static Split profile(String name, List<Conversation> rows, TokenCounts tokens, EdaOptions options) {
        if (tokens.rows() != rows.size()) {
            throw new IllegalArgumentException("token counts for " + tokens.rows() + " rows, split has " + rows.size());
        }
        SplitProfiler p = new SplitProfiler(rows, options);
        boolean hasLabels = !p.labeled.isEmpty();
        Outcome balance = hasLabels ? p.classBalance() : null;
        return new Split(name, rows.size(), p.labeled.size(),
                balance,
                hasLabels ? priorLogLoss(balance) : null,
                p.responseGroups(hasLabels),
                p.elements(),
                p.turns(),
                p.prompts(),
                hasLabels ? p.models() : List.of(),
                p.distinctModels(),
                hasLabels ? positionBias(balance) : null,
                hasLabels ? p.lengthDifference() : List.of(),
                tokenLengths(tokens, options),
                hasLabels ? p.signals() : null);
    }

    private static Outcome outcome(Map<Winner, Long> counts) {
        return Outcome.of(counts.getOrDefault(Winner.A, 0L), counts.getOrDefault(Winner.B, 0L),
                counts.getOrDefault(Winner.TIE, 0L));
    }

    private Outcome classBalance() {
        return outcome(labeled.stream().collect(
                Collectors.groupingBy(Conversation::winner, () -> new EnumMap<>(Winner.class), Collectors.counting())));
    }

    /** Entropy of the class shares, in nats: the log loss of predicting the shares for every row. */
    private static double priorLogLoss(Outcome balance) {
        double loss = 0;
        for (double p : new double[] {balance.rateA(), balance.rateB(), balance.rateTie()}) {
            if (p > 0) {
                loss -= p * Math.log(p);
            }
        }
        return loss;
    }

    // ------------------------------------------------------------------ responses

    static ResponseGroup.Kind groupOf(Conversation c) {
        boolean textA = hasText(c, Turn::responseA);
        boolean textB = hasText(c, Turn::responseB);
        if (!textA && !textB) {
            return ResponseGroup.Kind.BOTH_EMPTY;
        }
        if (!textA) {
            return ResponseGroup.Kind.A_EMPTY;
        }
        if (!textB) {
            return ResponseGroup.Kind.B_EMPTY;
        }
        boolean identical = c.turns().stream().allMatch(t -> Objects.equals(t.responseA(), t.responseB()));
        return identical ? ResponseGroup.Kind.IDENTICAL : ResponseGroup.Kind.DIFFERENT;
    }

    private static boolean hasText(Conversation c, Function<Turn, String> side) {
        return c.turns().stream().map(side).anyMatch(s -> s != null && !s.isBlank());
    }

    private List<ResponseGroup> responseGroups(boolean hasLabels) {
        Map<ResponseGroup.Kind, Long> rowCounts = new EnumMap<>(ResponseGroup.Kind.class);
        Map<ResponseGroup.Kind, Map<Winner, Long>> verdicts = new EnumMap<>(ResponseGroup.Kind.class);
        for (Conversation c : rows) {
            ResponseGroup.Kind kind = groupOf(c);
            rowCounts.merge(kind, 1L, Long::sum);
            if (c.labeled()) {
                verdicts.computeIfAbsent(kind, k -> new EnumMap<>(Winner.class)).merge(c.winner(), 1L, Long::sum);
            }
        }
        List<ResponseGroup> groups = new ArrayList<>();
        for (ResponseGroup.Kind kind : ResponseGroup.Kind.values()) {
            groups.add(new ResponseGroup(kind, kind.definition(), rowCounts.getOrDefault(kind, 0L),
                    hasLabels ? outcome(verdicts.getOrDefault(kind, Map.of())) : null));
        }
        return groups;
    }

    private Elements elements() {
        long turns = 0, nullPrompts = 0, blankPrompts = 0, nullResponses = 0, blankResponses = 0;
        long sidesAllNull = 0, sidesWithoutText = 0;
        for (Conversation c : rows) {
            turns += c.turns().size();
            for (Turn t : c.turns()) {
                nullPrompts += t.prompt() == null ? 1 : 0;
                blankPrompts += t.prompt() != null && t.prompt().isBlank() ? 1 : 0;
                for (String r : new String[] {t.responseA(), t.responseB()}) {
                    nullResponses += r == null ? 1 : 0;
                    blankResponses += r != null && r.isBlank() ? 1 : 0;
                }
            }
            for (Function<Turn, String> side : List.<Function<Turn, String>>of(Turn::responseA, Turn::responseB)) {
                sidesAllNull += c.turns().stream().map(side).allMatch(Objects::isNull) ? 1 : 0;
                sidesWithoutText += hasText(c, side) ? 0 : 1;
            }
        }
        return new Elements(turns, nullPrompts, blankPrompts, nullResponses, blankResponses, sidesAllNull,
                sidesWithoutText);
    }

    // ------------------------------------------------------------------ turns and prompts

    private List<TurnCount> turns() {
        Map<Integer, Long> counts = rows.stream()
                .collect(Collectors.groupingBy(c -> c.turns().size(), TreeMap::new, Collectors.counting()));
        return counts.entrySet().stream()
                .map(e -> new TurnCount(e.getKey(), e.getValue(), Stats.rate(e.getValue(), rows.size())))
                .toList();
    }

    private Prompts prompts() {
        Map<List<String>, Long> counts = rows.stream()
                .collect(Collectors.groupingBy(Folds::promptKey, LinkedHashMap::new, Collectors.counting()));
        List<Map.Entry<List<String>, Long>> repeated = counts.entrySet().stream()
                .filter(e -> e.getValue() > 1)
                .sorted(Map.Entry.<List<String>, Long>comparingByValue().reversed())
                .toList();
        long rowsWithRepeated = repeated.stream().mapToLong(Map.Entry::getValue).sum();
        long largest = counts.values().stream().mapToLong(Long::longValue).max().orElse(0);
        List<RepeatedPrompt> top = repeated.stream().limit(options.topPrompts())
                .map(e -> new RepeatedPrompt(preview(e.getKey().get(0)), e.getKey().size(), e.getValue()))
                .toList();
        return new Prompts(counts.size(), repeated.size(), rowsWithRepeated, largest, top);
    }

    private static String preview(String text) {
        if (text == null) {
            return "(null)";
        }
        String oneLine = text.strip().replaceAll("\\s+", " ");
        return oneLine.codePointCount(0, oneLine.length()) <= 80 ? oneLine
                : oneLine.substring(0, oneLine.offsetByCodePoints(0, 79)) + "…";
    }

    // ------------------------------------------------------------------ models and position

    private long distinctModels() {
        return rows.stream().flatMap(c -> Stream.of(c.modelA(), c.modelB()))
                .filter(Objects::nonNull).distinct().count();
    }

    private List<ModelRecord> models() {
        Map<String, long[]> byModel = new HashMap<>(); // wins, losses, ties
        for (Conversation c : labeled) {
            tally(byModel, c.modelA(), c.winner());
            tally(byModel, c.modelB(), c.winner().swapped());
        }
        return byModel.entrySet().stream()
                .map(e -> {
                    long[] wlt = e.getValue();
                    long games = wlt[0] + wlt[1] + wlt[2];
                    Stats.Interval ci = Stats.wilson(wlt[0], games, Stats.Z95);
                    return new ModelRecord(e.getKey(), games, wlt[0], wlt[1], wlt[2], Stats.rate(wlt[0], games),
                            ci.low(), ci.high());
                })
                .sorted(Comparator.comparingLong(ModelRecord::games).reversed().thenComparing(ModelRecord::model))
                .limit(options.topModels())
                .toList();
    }

    /** Counts one game for {@code model}, {@code verdict} seen from the model's side (A = this model won). */
    private static void tally(Map<String, long[]> byModel, String model, Winner verdict) {
        if (model == null) {
            return;
        }
        byModel.computeIfAbsent(model, m -> new long[3])[verdict.ordinal()]++; // A, B, TIE = win, loss, tie
    }

    private static PositionBias positionBias(Outcome balance) {
        long decisive = balance.winsA() + balance.winsB();
        Stats.Interval ci = Stats.wilson(balance.winsA(), decisive, Stats.Z95);
        return new PositionBias(decisive, balance.winsA(), balance.winsB(), Stats.rate(balance.winsA(), decisive),
                ci.low(), ci.high());
    }

    // ------------------------------------------------------------------ lengths

    /** Characters (code points) of one side's response, summed over turns; null turns count 0. */
    static long characters(Conversation c, Function<Turn, String> side) {
        return c.turns().stream().map(side).filter(Objects::nonNull)
                .mapToLong(s -> s.codePointCount(0, s.length())).sum();
    }

    private List<LengthBin> lengthDifference() {
        List<Integer> edges = options.lengthDiffEdges();
        List<Map<Winner, Long>> verdicts = new ArrayList<>();
        for (int i = 0; i <= edges.size(); i++) {
            verdicts.add(new EnumMap<>(Winner.class));
        }
        for (Conversation c : labeled) {
            long diff = characters(c, Turn::responseA) - characters(c, Turn::responseB);
            int bin = 0;
            while (bin < edges.size() && diff >= edges.get(bin)) {
                bin++;
            }
            verdicts.get(bin).merge(c.winner(), 1L, Long::sum);
        }
        List<LengthBin> bins = new ArrayList<>();
        for (int i = 0; i <= edges.size(); i++) {
            Long from = i == 0 ? null : (long) edges.get(i - 1);
            Long to = i == edges.size() ? null : (long) edges.get(i);
            bins.add(new LengthBin(binLabel(from, to), from, to, outcome(verdicts.get(i))));
        }
        return bins;
    }

    private static String binLabel(Long from, Long to) {
        if (from == null) {
            return "< " + to;
        }
        if (to == null) {
            return ">= " + from;
        }
        return "[" + from + ", " + to + ")";
    }

    // ------------------------------------------------------------------ planted signals

    private static final List<String> GOOD = lower(SampleGenerator.goodPhrases());
    private static final List<String> BAD = lower(SampleGenerator.badPhrases());

    private Signals signals() {
        long lengthRows = 0, longer = 0, emptyRows = 0, withText = 0, identical = 0, identicalTies = 0;
        long phraseRows = 0, phraseWins = 0;
        for (Conversation c : labeled) {
            ResponseGroup.Kind group = groupOf(c);
            if (group == ResponseGroup.Kind.IDENTICAL) {
                identical++;
                identicalTies += c.winner() == Winner.TIE ? 1 : 0;
            }
            if (c.winner() == Winner.TIE) {
                continue;
            }
            boolean aWon = c.winner() == Winner.A;
            long diff = characters(c, Turn::responseA) - characters(c, Turn::responseB);
            if (diff != 0) {
                lengthRows++;
                longer += (diff > 0) == aWon ? 1 : 0;
            }
            if (group == ResponseGroup.Kind.A_EMPTY || group == ResponseGroup.Kind.B_EMPTY) {
                emptyRows++;
                withText += (group == ResponseGroup.Kind.B_EMPTY) == aWon ? 1 : 0;
            }
            long quality = quality(c, Turn::responseA) - quality(c, Turn::responseB);
            if (quality != 0) {
                phraseRows++;
                phraseWins += (quality > 0) == aWon ? 1 : 0;
            }
        }
        return new Signals(Share.of(longer, lengthRows), Share.of(withText, emptyRows),
                Share.of(identicalTies, identical), Share.of(phraseWins, phraseRows));
    }

    /** Good phrases minus bad phrases in one side's responses (case-insensitive occurrences). */
    private static long quality(Conversation c, Function<Turn, String> side) {
        long score = 0;
        for (Turn t : c.turns()) {
            String text = side.apply(t);
            if (text != null) {
                String lower = text.toLowerCase(Locale.ROOT);
                score += occurrences(lower, GOOD) - occurrences(lower, BAD);
            }
        }
        return score;
    }

    private static long occurrences(String text, List<String> phrases) {
        long n = 0;
        for (String p : phrases) {
            for (int at = text.indexOf(p); at >= 0; at = text.indexOf(p, at + p.length())) {
                n++;
            }
        }
        return n;
    }

    private static List<String> lower(List<String> phrases) {
        return phrases.stream().map(p -> p.toLowerCase(Locale.ROOT)).toList();
    }

    // ------------------------------------------------------------------ tokens

    private static TokenLengths tokenLengths(TokenCounts tokens, EdaOptions options) {
        int[] input = tokens.modelInput().clone();
        Arrays.sort(input);
        int binWidth = histogramBinWidth(input, options);
        List<FieldLengths> fields = new ArrayList<>();
        tokens.byField().forEach((field, lengths) -> fields.add(fieldLengths(field, lengths, binWidth, options)));
        List<Coverage> coverage = options.coverageLengths().stream()
                .map(max -> {
                    long fit = countAtMost(input, max);
                    return new Coverage(max, fit, Stats.rate(fit, input.length));
                })
                .toList();
        MaxLength recommendation = null;
        if (input.length > 0) {
            int max = Stats.recommendMaxLength(input, options.maxLengthCoverage(), options.lengthMultiple());
            long fit = countAtMost(input, max);
            recommendation = new MaxLength(options.maxLengthCoverage(), options.lengthMultiple(), max, fit,
                    Stats.rate(fit, input.length));
        }
        return new TokenLengths(tokens.tokenizer(), tokens.format(), fields, coverage, recommendation);
    }

    /**
     * One bin width for every field of a split, so their histograms overlay: a multiple of 16 wide enough that
     * {@code histogramBins} bins reach the model input's p99 (the long tail goes to the overflow bin).
     */
    private static int histogramBinWidth(int[] sortedInput, EdaOptions options) {
        if (sortedInput.length == 0) {
            return 16;
        }
        int p99 = Stats.quantile(sortedInput, 0.99);
        return Math.max(16, Stats.ceilToMultiple((p99 + options.histogramBins() - 1) / options.histogramBins(), 16));
    }

    private static FieldLengths fieldLengths(String field, int[] lengths, int binWidth, EdaOptions options) {
        int[] sorted = lengths.clone();
        Arrays.sort(sorted);
        long[] histogram = new long[options.histogramBins() + 1];
        for (int n : sorted) {
            histogram[n == 0 ? 0 : Math.min((n - 1) / binWidth, options.histogramBins())]++;
        }
        List<Long> counts = Arrays.stream(histogram).boxed().toList();
        if (sorted.length == 0) {
            return new FieldLengths(field, 0, 0, 0, 0, 0, 0, 0, binWidth, counts);
        }
        return new FieldLengths(field, sorted.length,
                Stats.quantile(sorted, 0.50), Stats.quantile(sorted, 0.90), Stats.quantile(sorted, 0.95),
                Stats.quantile(sorted, 0.99), sorted[sorted.length - 1],
                Arrays.stream(sorted).asLongStream().sum() / (double) sorted.length,
                binWidth, counts);
    }

    private static long countAtMost(int[] lengths, int max) {
        return Arrays.stream(lengths).filter(n -> n <= max).count();
    }
}
