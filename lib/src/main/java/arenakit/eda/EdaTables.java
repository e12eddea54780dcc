package arenakit.eda;

import arenakit.data.SampleGenerator;
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
import arenakit.eda.EdaResult.TurnCount;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.numbers.NumberColumnFormatter;

/**
 * The EDA's numbers as Tablesaw tables, for the HTML report and for {@code display(...)} in notebooks. Each
 * table is built from an {@link EdaResult} only; shares print as percentages, the exact values stay in eda.json.
 */
public final class EdaTables {
    private EdaTables() {}

    /** The headline numbers of both splits. */
    public static Table summary(EdaResult result) {
        StringColumn what = StringColumn.create("what");
        StringColumn value = StringColumn.create("value");
        for (Split s : result.splits()) {
            what.append(s.name() + " rows");
            value.append(String.format(Locale.ROOT, "%,d (%,d labeled)", s.rows(), s.labeledRows()));
            what.append(s.name() + " multi-turn rows");
            long multi = s.turns().stream().filter(t -> t.turns() > 1).mapToLong(TurnCount::rows).sum();
            value.append(String.format(Locale.ROOT, "%,d (%s)", multi, percent(Stats.rate(multi, s.rows()))));
        }
        Split train = result.train();
        if (train.priorLogLoss() != null) {
            what.append("constant-prior log loss (train)");
            value.append(String.format(Locale.ROOT, "%.4f (uniform: %.4f)", train.priorLogLoss(), Math.log(3)));
        }
        MaxLength rec = result.recommendedMaxLength();
        if (rec != null) {
            what.append("recommended max length");
            value.append(String.format(Locale.ROOT, "%,d tokens (%s of train rows fit; target %s, multiple of %d)",
                    rec.maxLength(), percent(rec.shareCovered()), percent(rec.coverage()), rec.multiple()));
        }
        if (result.testRowsWithPromptInTrain() != null) {
            what.append("test rows whose prompt is in train");
            value.append(String.format(Locale.ROOT, "%,d", result.testRowsWithPromptInTrain()));
        }
        return Table.create("Summary", what, value);
    }

    /** Verdict counts and shares. */
    public static Table classBalance(Split split) {
        Outcome o = split.classBalance();
        return Table.create("Class balance (" + split.name() + ")",
                StringColumn.create("verdict", "A wins", "B wins", "tie"),
                counts("rows", o.winsA(), o.winsB(), o.ties()),
                shares("share", o.rateA(), o.rateB(), o.rateTie()));
    }

    /** Rows per response group with the group's verdict shares (the 4th place's post-processing rules). */
    public static Table responseGroups(Split split) {
        List<ResponseGroup> groups = split.responseGroups();
        Table t = Table.create("Ties vs identical / empty responses (" + split.name() + ")",
                StringColumn.create("group", groups.stream().map(g -> label(g.group())).toList()),
                longs("rows", groups, ResponseGroup::rows));
        if (split.labeledRows() > 0) {
            t.addColumns(
                    shares("A wins", groups, g -> g.outcome().rateA()),
                    shares("B wins", groups, g -> g.outcome().rateB()),
                    shares("tie", groups, g -> g.outcome().rateTie()));
        }
        return t.addColumns(StringColumn.create("definition", groups.stream().map(ResponseGroup::definition).toList()));
    }

    /** Null and blank elements. */
    public static Table elements(Split split) {
        Elements e = split.elements();
        return Table.create("Null and blank elements (" + split.name() + ")",
                StringColumn.create("what", "turns", "null prompts", "blank prompts", "null responses",
                        "blank responses", "responses null in every turn", "responses without text"),
                counts("count", e.turns(), e.nullPrompts(), e.blankPrompts(), e.nullResponses(),
                        e.blankResponses(), e.sidesAllNull(), e.sidesWithoutText()));
    }

    /** The most-played models' win rates with Wilson 95% intervals. */
    public static Table models(Split split) {
        List<ModelRecord> m = split.models();
        return Table.create("Win rate of the " + m.size() + " most-played models (of " + split.distinctModels()
                        + ", " + split.name() + ")",
                StringColumn.create("model", m.stream().map(ModelRecord::model).toList()),
                longs("games", m, ModelRecord::games),
                longs("wins", m, ModelRecord::wins),
                longs("losses", m, ModelRecord::losses),
                longs("ties", m, ModelRecord::ties),
                shares("win rate", m, ModelRecord::winRate),
                shares("95% low", m, ModelRecord::winRateLow),
                shares("95% high", m, ModelRecord::winRateHigh));
    }

    /** A vs B among decisive verdicts. */
    public static Table positionBias(Split split) {
        PositionBias p = split.positionBias();
        return Table.create("Position bias (" + split.name() + ", ties left out)",
                counts("decisive rows", p.decisiveRows()),
                counts("A wins", p.winsA()),
                counts("B wins", p.winsB()),
                shares("A share", p.shareA()),
                shares("95% low", p.shareALow()),
                shares("95% high", p.shareAHigh()));
    }

    /** Verdict shares per bin of len(A) - len(B). */
    public static Table lengthDifference(Split split) {
        List<LengthBin> bins = split.lengthDifference();
        return Table.create("Verdicts by len(A) - len(B) in characters (" + split.name() + ")",
                StringColumn.create("len(A) - len(B)", bins.stream().map(LengthBin::label).toList()),
                longs("rows", bins, b -> b.outcome().rows()),
                shares("A wins", bins, b -> b.outcome().rateA()),
                shares("B wins", bins, b -> b.outcome().rateB()),
                shares("tie", bins, b -> b.outcome().rateTie()));
    }

    public static Table turns(Split split) {
        List<TurnCount> turns = split.turns();
        return Table.create("Turns per conversation (" + split.name() + ")",
                IntColumn.create("turns", turns.stream().mapToInt(TurnCount::turns).toArray()),
                longs("rows", turns, TurnCount::rows),
                shares("share", turns, TurnCount::share));
    }

    public static Table prompts(Split split) {
        Prompts p = split.prompts();
        return Table.create("Prompt repetition (" + split.name() + ")",
                StringColumn.create("what", "distinct prompts", "prompts in more than one row",
                        "rows whose prompt is repeated", "rows sharing the most frequent prompt"),
                counts("count", p.distinct(), p.repeatedPrompts(), p.rowsWithRepeatedPrompt(),
                        p.largestGroup()));
    }

    public static Table mostRepeatedPrompts(Split split) {
        List<RepeatedPrompt> top = split.prompts().mostRepeated();
        return Table.create("Most repeated prompts (" + split.name() + ")",
                StringColumn.create("prompt (first turn)", top.stream().map(RepeatedPrompt::preview).toList()),
                IntColumn.create("turns", top.stream().mapToInt(RepeatedPrompt::turns).toArray()),
                longs("rows", top, RepeatedPrompt::rows));
    }

    /** p50 / p90 / p95 / p99 / max of each token field. */
    public static Table tokenQuantiles(Split split) {
        List<FieldLengths> f = split.tokens().fields();
        DoubleColumn mean = DoubleColumn.create("mean", f.stream().mapToDouble(FieldLengths::mean).toArray());
        mean.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(1));
        return Table.create("Token lengths (" + split.name() + "; tokenizer " + split.tokens().tokenizer()
                        + ", model input format " + split.tokens().format() + ", untruncated)",
                StringColumn.create("field", f.stream().map(FieldLengths::field).toList()),
                longs("rows", f, FieldLengths::rows),
                longs("p50", f, FieldLengths::p50),
                longs("p90", f, FieldLengths::p90),
                longs("p95", f, FieldLengths::p95),
                longs("p99", f, FieldLengths::p99),
                longs("max", f, FieldLengths::max),
                mean);
    }

    /** Rows whose whole model input fits each max length, the recommendation included. */
    public static Table coverage(Split split) {
        List<Coverage> c = split.tokens().coverage();
        MaxLength rec = split.tokens().recommendation();
        Table t = Table.create("Rows that fit untruncated (" + split.name() + ")",
                IntColumn.create("max length", c.stream().mapToInt(Coverage::maxLength).toArray()),
                longs("rows", c, Coverage::rows),
                shares("share", c, Coverage::share),
                StringColumn.create("note", c.stream().map(x -> "").toList()));
        if (rec != null) {
            String note = "recommended for " + percent(rec.coverage()) + " coverage";
            int at = t.intColumn("max length").indexOf(rec.maxLength());
            if (at >= 0) {
                t.stringColumn("note").set(at, note);
            } else {
                t.intColumn("max length").append(rec.maxLength());
                t.longColumn("rows").append(rec.rowsCovered());
                t.doubleColumn("share").append(rec.shareCovered());
                t.stringColumn("note").append(note);
                t = t.sortAscendingOn("max length");
            }
        }
        return t;
    }

    /**
     * The embedded sample's planted evidence: how each kind is planted ({@code planted}, the generator's settings),
     * how often it agrees with the verdict in the sample's train split, and on real rows when there are some.
     */
    public static Table plantedSignals(EdaResult result) {
        SampleGenerator.Options o = result.planted();
        Signals sample = result.train().signals();
        Signals real = result.reference() == null ? null : result.reference().split().signals();
        StringColumn signal = StringColumn.create("signal");
        StringColumn how = StringColumn.create("how the sample plants it");
        StringColumn inSample = StringColumn.create("agrees with the verdict: sample (" + result.train().name() + ")");
        StringColumn inReal = StringColumn.create("real rows" + (real == null ? "" : " (" + result.reference().source()
                + ")"));
        addSignal(signal, how, inSample, inReal, "the longer response wins",
                "good responses run about " + o.responseWords() + " words, bad ones about a quarter of that",
                sample == null ? null : sample.longerWins(), real == null ? null : real.longerWins());
        addSignal(signal, how, inSample, inReal, "quality phrases win",
                "good responses open with phrases such as \"Certainly! Here is\" and " + percent(o.markerRate())
                        + " of their sentences carry markers such as \"For example,\"; bad ones \"Sorry, I "
                        + "cannot\", \"maybe\"",
                sample == null ? null : sample.qualityPhrasesWin(), real == null ? null : real.qualityPhrasesWin());
        addSignal(signal, how, inSample, inReal, "an empty response loses",
                percent(o.emptyLoserShare()) + " of decisive rows have a null or empty loser response",
                sample == null ? null : sample.textBeatsEmpty(), real == null ? null : real.textBeatsEmpty());
        addSignal(signal, how, inSample, inReal, "identical responses tie",
                percent(o.identicalTieShare()) + " of ties have two identical responses",
                sample == null ? null : sample.identicalTie(), real == null ? null : real.identicalTie());
        addSignal(signal, how, inSample, inReal, "the stronger model wins",
                "the better response's model comes from the stronger half of about 40 names 70% of the time "
                        + "(see the win-rate table)", null, null);
        addSignal(signal, how, inSample, inReal, "label noise",
                "a label follows the evidence with probability " + o.signal() + "; otherwise it is drawn again "
                        + "from the class shares", null, null);
        if (o.preferenceCloseShare() > 0) {
            addSignal(signal, how, inSample, inReal, "close-call preference pairs",
                    percent(o.preferenceCloseShare()) + " of the unlabeled preference pairs have two responses of one "
                            + "quality (the rest: a good one against a bad one)", null, null);
        }
        Table t = Table.create("Planted signals of the embedded sample", signal, how, inSample);
        return real == null ? t : t.addColumns(inReal);
    }

    private static void addSignal(StringColumn signal, StringColumn how, StringColumn sample, StringColumn real,
            String name, String planted, Share inSample, Share inReal) {
        signal.append(name);
        how.append(planted);
        sample.append(share(inSample));
        real.append(share(inReal));
    }

    /** "91.2% of 1,547 rows"; a dash where nothing is measured, "no such rows" where there are none. */
    static String share(Share s) {
        if (s == null) {
            return "-";
        }
        if (s.rows() == 0) {
            return "no such rows";
        }
        return String.format(Locale.ROOT, "%s of %,d rows", percent(s.share()), s.rows());
    }

    /** "the longer response won 91.2% of 1,547 decisive rows" (or the shorter one, when it won more often). */
    public static String lengthVerdict(Split split) {
        Share s = split.signals() == null ? null : split.signals().longerWins();
        if (s == null || s.rows() == 0) {
            return "no decisive rows with responses of different lengths";
        }
        boolean longer = s.share() >= 0.5;
        return String.format(Locale.ROOT, "the %s response won %s of %,d decisive rows", longer ? "longer" : "shorter",
                percent(longer ? s.share() : 1 - s.share()), s.rows());
    }

    // ------------------------------------------------------------------ helpers

    static String label(ResponseGroup.Kind kind) {
        return switch (kind) {
            case BOTH_EMPTY -> "both empty";
            case A_EMPTY -> "A empty";
            case B_EMPTY -> "B empty";
            case IDENTICAL -> "identical";
            case DIFFERENT -> "different";
        };
    }

    public static String percent(double share) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * share);
    }

    private static <T> LongColumn longs(String name, List<T> items, ToLongFunction<T> value) {
        return counts(name, items.stream().mapToLong(value).toArray());
    }

    /** Counts print with thousands separators (57,477). */
    private static LongColumn counts(String name, long... values) {
        LongColumn column = LongColumn.create(name, values);
        column.setPrintFormatter(NumberColumnFormatter.intsWithGrouping());
        return column;
    }

    private static <T> DoubleColumn shares(String name, List<T> items, ToDoubleFunction<T> value) {
        return shares(name, items.stream().mapToDouble(value).toArray());
    }

    private static DoubleColumn shares(String name, double... values) {
        DoubleColumn column = DoubleColumn.create(name, values);
        column.setPrintFormatter(NumberColumnFormatter.percent(1));
        return column;
    }
}
