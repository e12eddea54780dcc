package arenakit.eda;

import arenakit.eda.EdaResult.FieldLengths;
import arenakit.eda.EdaResult.LengthBin;
import arenakit.eda.EdaResult.MaxLength;
import arenakit.eda.EdaResult.ModelRecord;
import arenakit.eda.EdaResult.Outcome;
import arenakit.eda.EdaResult.ResponseGroup;
import arenakit.eda.EdaResult.Split;
import arenakit.eda.EdaResult.TurnCount;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.plotly.components.Axis;
import tech.tablesaw.plotly.components.Config;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.components.Layout;
import tech.tablesaw.plotly.components.Line;
import tech.tablesaw.plotly.components.Margin;
import tech.tablesaw.plotly.components.Marker;
import tech.tablesaw.plotly.components.TickSettings;
import tech.tablesaw.plotly.traces.BarTrace;
import tech.tablesaw.plotly.traces.ScatterTrace;
import tech.tablesaw.plotly.traces.Trace;

/**
 * The EDA's charts as tablesaw-jsplot figures, built from an {@link EdaResult} only. Render them offline with
 * {@link arenakit.util.HtmlReport} (or {@code display(...)} in a notebook).
 */
public final class EdaCharts {
    static final String COLOR_A = "#1f77b4";
    static final String COLOR_B = "#ff7f0e";
    static final String COLOR_TIE = "#8c8c8c";
    private static final int WIDTH = 1000;
    private static final int HEIGHT = 420;
    /** No plotly logo link in the mode bar: the report must not point anywhere online. */
    private static final Config CONFIG = Config.builder().displayLogo(false).build();

    private EdaCharts() {}

    /** Bars of A wins / B wins / ties. */
    public static Figure classBalance(Split split) {
        Outcome o = split.classBalance();
        BarTrace bars = BarTrace.builder(new Object[] {"A wins", "B wins", "tie"},
                        new double[] {o.winsA(), o.winsB(), o.ties()})
                .marker(Marker.builder().color(new String[] {COLOR_A, COLOR_B, COLOR_TIE}).build())
                .name("rows")
                .build();
        return new Figure(layout("Class balance (" + split.name() + ", " + o.rows() + " labeled rows)", "verdict",
                "rows").width(600).build(), CONFIG, bars);
    }

    /** Verdict shares per response group, stacked to 100%. */
    public static Figure responseGroups(Split split) {
        List<ResponseGroup> groups = split.responseGroups().stream().filter(g -> g.outcome().rows() > 0).toList();
        Object[] x = groups.stream().map(g -> EdaTables.label(g.group()) + " (" + g.outcome().rows() + ")").toArray();
        return new Figure(
                layout("Verdicts by response group (" + split.name() + "; rows in brackets)", "group", "share of rows")
                        .barMode(Layout.BarMode.STACK)
                        .yAxis(percentAxis("share of rows"))
                        .build(),
                CONFIG, outcomeBars(x, groups, g -> g.outcome()));
    }

    /** Win rate of the most-played models as dots, with Wilson 95% intervals as whiskers. */
    public static Figure models(Split split) {
        List<ModelRecord> models = new ArrayList<>(split.models());
        Collections.reverse(models); // plotly draws the first category at the bottom
        Object[] names = models.stream().map(m -> m.model() + " (" + m.games() + ")").toArray();
        // Whiskers: one polyline, low -> high per model, broken by NaN gaps between models.
        List<Object> wy = new ArrayList<>();
        List<Double> wx = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            wx.add(models.get(i).winRateLow());
            wx.add(models.get(i).winRateHigh());
            wx.add(Double.NaN);
            wy.add(names[i]);
            wy.add(names[i]);
            wy.add(names[i]);
        }
        ScatterTrace whiskers = ScatterTrace.builder(
                        DoubleColumn.create("x", wx.stream().mapToDouble(Double::doubleValue).toArray()),
                        StringColumn.create("y", wy.stream().map(String::valueOf).toList()))
                .mode(ScatterTrace.Mode.LINE)
                .line(Line.builder().color("#9ab").width(3).build())
                .name("Wilson 95% interval")
                .build();
        ScatterTrace dots = ScatterTrace.builder(
                        DoubleColumn.create("x", models.stream().mapToDouble(ModelRecord::winRate).toArray()),
                        StringColumn.create("y", Arrays.stream(names).map(String::valueOf).toList()))
                .mode(ScatterTrace.Mode.MARKERS)
                .marker(Marker.builder().color(COLOR_A).size(9).build())
                .name("win rate")
                .build();
        return new Figure(
                layout("Win rate of the most-played models (" + split.name() + "; games in brackets)",
                        "win rate (ties count as games)", "")
                        .height(Math.max(HEIGHT, 26 * models.size() + 120))
                        .margin(Margin.builder().left(260).right(30).top(60).bottom(60).build())
                        .xAxis(percentAxis("win rate (ties count as games)"))
                        .build(),
                CONFIG, whiskers, dots);
    }

    /** Verdict shares per bin of len(A) - len(B), stacked to 100%. */
    public static Figure lengthDifference(Split split) {
        List<LengthBin> bins = split.lengthDifference();
        Object[] x = bins.stream().map(LengthBin::label).toArray();
        return new Figure(
                layout("Verdicts by len(A) - len(B) in characters (" + split.name() + "): "
                                + EdaTables.lengthVerdict(split), "len(A) - len(B)", "share of rows")
                        .barMode(Layout.BarMode.STACK)
                        .yAxis(percentAxis("share of rows"))
                        .build(),
                CONFIG, outcomeBars(x, bins, LengthBin::outcome));
    }

    /** Share of rows per number of turns, one bar group per split. */
    public static Figure turns(List<Split> splits) {
        int maxTurns = splits.stream().flatMap(s -> s.turns().stream()).mapToInt(TurnCount::turns).max().orElse(1);
        Object[] x = new Object[maxTurns];
        for (int t = 1; t <= maxTurns; t++) {
            x[t - 1] = String.valueOf(t);
        }
        List<Trace> traces = new ArrayList<>();
        for (Split s : splits) {
            double[] share = new double[maxTurns];
            s.turns().forEach(tc -> share[tc.turns() - 1] = tc.share());
            traces.add(BarTrace.builder(x, share).name(s.name() + " (" + s.rows() + " rows)").build());
        }
        return new Figure(layout("Turns per conversation", "turns", "share of rows")
                .barMode(Layout.BarMode.GROUP)
                .yAxis(percentAxis("share of rows"))
                .xAxis(Axis.builder().title("turns").type(Axis.Type.CATEGORY).build())
                .build(),
                CONFIG, traces.toArray(Trace[]::new));
    }

    /**
     * Token lengths of prompts, responses and the whole model input as cumulative shares (the share of rows with at
     * most x tokens): smooth at any sample size, and the p50 / p90 / p99 of the table can be read off directly.
     */
    public static Figure tokenLengths(Split split) {
        List<Trace> traces = new ArrayList<>();
        String[] colors = {"#2ca02c", COLOR_A, COLOR_B, "#444444"};
        int i = 0;
        for (FieldLengths f : split.tokens().fields()) {
            double[][] curve = cumulative(f);
            traces.add(ScatterTrace.builder(curve[0], curve[1])
                    .mode(ScatterTrace.Mode.LINE)
                    .line(Line.builder().color(colors[i++ % colors.length]).width(2)
                            .dash(f.field().equals("model_input") ? Line.Dash.DASH : Line.Dash.SOLID).build())
                    .name(f.field() + " (p50 " + f.p50() + ", p99 " + f.p99() + ")")
                    .build());
        }
        return new Figure(layout("Token lengths (" + split.name() + "): share of rows with at most x tokens",
                        "tokens (" + split.tokens().tokenizer() + ")", "share of rows")
                        .xAxis(tokenAxis(split.tokens().field("model_input"), "tokens (" + split.tokens().tokenizer() + ")"))
                        .yAxis(Axis.builder().title("share of rows").range(0, 1.02).tickSettings(percentTicks()).build())
                        .build(),
                CONFIG, traces.toArray(Trace[]::new));
    }

    /**
     * Histogram of the whole model input's token length, the share of rows that fit (cumulative, right axis) and
     * the recommended max length.
     */
    public static Figure modelInputLengths(Split split) {
        FieldLengths f = split.tokens().field("model_input");
        double[][] covered = cumulative(f);
        List<Trace> traces = new ArrayList<>();
        traces.add(histogramBars(f).name("rows").marker(Marker.builder().color("#6a8caf").build()).build());
        traces.add(ScatterTrace.builder(covered[0], covered[1])
                .mode(ScatterTrace.Mode.LINE)
                .yAxis(ScatterTrace.YAxis.Y2)
                .line(Line.builder().color("#d62728").width(2).build())
                .name("share of rows that fit")
                .build());
        MaxLength rec = split.tokens().recommendation();
        String title = "Model input length (" + split.name() + ", format " + split.tokens().format() + ")";
        if (rec != null) {
            traces.add(ScatterTrace.builder(new double[] {rec.maxLength(), rec.maxLength()}, new double[] {0, 1})
                    .mode(ScatterTrace.Mode.LINE)
                    .yAxis(ScatterTrace.YAxis.Y2)
                    .line(Line.builder().color("#000").width(2).dash(Line.Dash.DASH).build())
                    .name("recommended max length " + rec.maxLength())
                    .build());
            title += ": max length " + rec.maxLength() + " fits " + EdaTables.percent(rec.shareCovered());
        }
        return new Figure(layout(title, "tokens (the last bar counts every longer row)", "rows")
                // the plot stops short of the right edge: room for the right axis' labels before the legend
                .xAxis(tokenAxisBuilder(f, "tokens (the last bar counts every longer row)").domain(0f, 0.9f).build())
                .yAxis2(Axis.builder().title("share of rows that fit").side(Axis.Side.right)
                        .overlaying(ScatterTrace.YAxis.Y).range(0, 1.02)
                        .tickSettings(percentTicks())
                        .showGrid(false).build())
                .margin(Margin.builder().left(70).right(90).top(60).bottom(60).build())
                .build(),
                CONFIG, traces.toArray(Trace[]::new));
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The share of rows with at most x tokens, exact at every histogram bin's upper edge (bins are
     * {@code (i * w, (i + 1) * w]}), ending at the longest row with 100%.
     */
    private static double[][] cumulative(FieldLengths f) {
        int bins = f.histogram().size() - 1; // the last entry is the overflow bin
        List<double[]> points = new ArrayList<>();
        long cumulative = 0;
        for (int i = 0; i < bins && cumulative < f.rows(); i++) {
            cumulative += f.histogram().get(i);
            points.add(new double[] {(double) (i + 1) * f.binWidth(), Stats.rate(cumulative, f.rows())});
        }
        if (cumulative < f.rows()) {
            points.add(new double[] {f.max(), 1.0});
        }
        return new double[][] {
            points.stream().mapToDouble(p -> p[0]).toArray(), points.stream().mapToDouble(p -> p[1]).toArray()};
    }

    /** A token axis up to the end of the overflow bin; rows beyond it are off to the right. */
    private static Axis tokenAxis(FieldLengths f, String title) {
        return tokenAxisBuilder(f, title).build();
    }

    private static Axis.AxisBuilder tokenAxisBuilder(FieldLengths f, String title) {
        return Axis.builder().title(title).range(0, f.histogram().size() * f.binWidth());
    }

    private static BarTrace.BarBuilder histogramBars(FieldLengths f) {
        double[] x = new double[f.histogram().size()];
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * f.binWidth() + f.binWidth() / 2.0;
            y[i] = f.histogram().get(i);
        }
        // BarTrace takes categories as objects; numbers keep the axis linear.
        Object[] xs = Arrays.stream(x).boxed().toArray();
        return BarTrace.builder(xs, y);
    }

    private static <T> Trace[] outcomeBars(Object[] x, List<T> items, Function<T, Outcome> outcome) {
        return new Trace[] {
            bar(x, items, t -> outcome.apply(t).rateA(), "A wins", COLOR_A),
            bar(x, items, t -> outcome.apply(t).rateB(), "B wins", COLOR_B),
            bar(x, items, t -> outcome.apply(t).rateTie(), "tie", COLOR_TIE)
        };
    }

    private static <T> BarTrace bar(Object[] x, List<T> items, ToDoubleFunction<T> y, String name, String color) {
        return BarTrace.builder(x, items.stream().mapToDouble(y).toArray())
                .name(name)
                .marker(Marker.builder().color(color).build())
                .build();
    }

    private static Layout.LayoutBuilder layout(String title, String xTitle, String yTitle) {
        return Layout.builder(title, xTitle, yTitle).width(WIDTH).height(HEIGHT);
    }

    private static Axis percentAxis(String title) {
        return Axis.builder().title(title).tickSettings(percentTicks()).build();
    }

    /** Percent labels; jsplot's TickSettings defaults to linear ticks one unit apart (0% and 100% only). */
    private static TickSettings percentTicks() {
        return TickSettings.builder().tickMode(TickSettings.TickMode.AUTO).format(".0%").build();
    }
}
