package arenakit.eda;

import arenakit.eda.EdaResult.MaxLength;
import arenakit.eda.EdaResult.Split;
import arenakit.util.HtmlReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The EDA as one self-contained, offline HTML page: the tables of {@link EdaTables} and charts of {@link EdaCharts}. */
public final class EdaReport {
    private EdaReport() {}

    public static HtmlReport build(EdaResult result) {
        Split train = result.train();
        List<Split> splits = result.splits();
        HtmlReport r = new HtmlReport("LMSYS Chatbot Arena: exploratory data analysis");
        r.note("Every number on this page is in eda.json next to it, with its exact definition in the javadoc of "
                + "arenakit.eda.EdaResult. Shares here are rounded; eda.json has them unrounded.");
        r.table(EdaTables.summary(result));
        if (result.planted() != null) {
            planted(r, result);
        }

        if (train.classBalance() != null) {
            r.heading("Class balance");
            r.paragraph("How often the human preferred A, B or neither. Predicting these shares for every row "
                    + "scores the constant-prior log loss in the summary: the number any model must beat.");
            r.table(EdaTables.classBalance(train)).figure(EdaCharts.classBalance(train));
            r.table(EdaTables.positionBias(train));
            r.note("Position bias: among rows with a winner, the share won by the response shown first (A). "
                    + "An interval that excludes 50% means the side matters; swap augmentation (training on both "
                    + "orders) and swap TTA remove it from the model.");
        }

        r.heading("Ties vs identical and empty responses");
        String here = train.signals() == null ? ""
                : " Here identical responses tied in " + EdaTables.share(train.signals().identicalTie())
                        + ", and the side with text won in " + EdaTables.share(train.signals().textBeatsEmpty())
                        + " where the other side was empty.";
        r.paragraph("Rows grouped by what the two responses look like. On the real data identical responses are "
                + "almost always ties and an empty response almost always loses: the 4th place turned these into "
                + "post-processing rules." + here);
        for (Split s : splits) {
            r.table(EdaTables.responseGroups(s));
        }
        if (train.classBalance() != null) {
            r.figure(EdaCharts.responseGroups(train));
        }
        for (Split s : splits) {
            r.table(EdaTables.elements(s));
        }

        if (!train.models().isEmpty()) {
            r.heading("Models");
            r.paragraph("Win rate of the most-played models, with Wilson 95% intervals: short whiskers mean many games.");
            r.figure(EdaCharts.models(train)).table(EdaTables.models(train));
        }

        if (!train.lengthDifference().isEmpty()) {
            r.heading("Length and the verdict: " + EdaTables.lengthVerdict(train));
            r.paragraph("Verdicts by how much longer response A is than response B (characters, all turns).");
            r.figure(EdaCharts.lengthDifference(train)).table(EdaTables.lengthDifference(train));
        }

        r.heading("Turns and prompts");
        r.figure(EdaCharts.turns(splits));
        for (Split s : splits) {
            r.table(EdaTables.turns(s));
        }
        for (Split s : splits) {
            r.table(EdaTables.prompts(s));
            if (!s.prompts().mostRepeated().isEmpty()) {
                r.table(EdaTables.mostRepeatedPrompts(s));
            }
        }
        r.note("Rows that share a prompt should stay in the same fold (group k-fold by prompt), or validation leaks.");

        r.heading("Token lengths and the max length");
        MaxLength rec = result.recommendedMaxLength();
        if (rec != null) {
            r.paragraph("With the tokenizer " + train.tokens().tokenizer() + ", a max length of " + rec.maxLength() + " tokens leaves "
                    + EdaTables.percent(rec.shareCovered()) + " of the training rows untruncated (target "
                    + EdaTables.percent(rec.coverage()) + "). Longer rows are cut by the truncation policy. "
                    + "The silver-medal team chose 3072 from this distribution.");
        }
        for (Split s : splits) {
            r.table(EdaTables.tokenQuantiles(s));
        }
        r.figure(EdaCharts.modelInputLengths(train)).table(EdaTables.coverage(train));
        r.figure(EdaCharts.tokenLengths(train));
        r.note("Quantiles are nearest-rank (always a real row's length). The model input is the whole formatted "
                + "sequence with chat-template special tokens and no truncation.");
        return r;
    }

    /** What the embedded sample plants, measured there and (when at hand) on real rows, with both length charts. */
    private static void planted(HtmlReport r, EdaResult result) {
        EdaResult.Reference real = result.reference();
        r.heading(real == null ? "The embedded sample's planted signals"
                : "The embedded sample's planted signals, and the same on real rows");
        r.paragraph("This data is the embedded sample (arenakit.data.SampleGenerator): generated rows in the exact "
                + "Kaggle format, with evidence planted so that a tiny model learns in minutes. The table names each "
                + "kind of evidence, how it is planted, and how often it agrees with the verdict here"
                + (real == null ? "." : " and on " + real.split().rows() + " real rows of the competition ("
                        + real.source() + ")."));
        r.table(EdaTables.plantedSignals(result));
        if (real == null) {
            r.note("No real rows were at hand to compare with: set ARENA_REAL_ROWS to a Kaggle train.csv (or keep a "
                    + "sample of it at ../shared/data/lmsys-sample/train_sample.csv next to the checkout).");
            return;
        }
        Split sample = result.train();
        r.paragraph("On the sample " + EdaTables.lengthVerdict(sample) + "; on the real rows "
                + EdaTables.lengthVerdict(real.split()) + ". Real preferences are far noisier than the sample's, so "
                + "numbers a model reaches here say little about the leaderboard (the best log loss on the real "
                + "data was about 0.88).");
        if (!real.split().lengthDifference().isEmpty()) {
            r.figure(EdaCharts.lengthDifference(sample));
            r.figure(EdaCharts.lengthDifference(real.split()));
        }
        r.table(EdaTables.classBalance(real.split()));
        r.table(EdaTables.responseGroups(real.split()));
    }

    public static void write(EdaResult result, Path file) throws IOException {
        build(result).write(file);
    }
}
