package arenakit.pipeline;

import arenakit.data.Submission;
import arenakit.train.Metrics;
import arenakit.train.PseudoLabels;
import arenakit.train.TrainLog;
import arenakit.train.Trainer;
import arenakit.util.Formats;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Axis;
import tech.tablesaw.plotly.components.Config;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.components.Grid;
import tech.tablesaw.plotly.components.Layout;
import tech.tablesaw.plotly.components.Line;
import tech.tablesaw.plotly.traces.HistogramTrace;
import tech.tablesaw.plotly.traces.ScatterTrace;
import tech.tablesaw.plotly.traces.Trace;

/** Tables and charts of stage outputs, for notebooks and reports (read from the files the stages wrote). */
public final class StageReports {
    private static final Config CONFIG = Config.builder().displayLogo(false).build();
    private static final String[] CLASSES = {"P(A)", "P(B)", "P(tie)"};

    private StageReports() {}

    /** A training stage's metrics.json. */
    public static Trainer.Result training(Path stageDir) throws IOException {
        return Json.read(stageDir.resolve("metrics.json"), Trainer.Result.class);
    }

    /**
     * The training history: a row every {@code train.log_every} steps and at every evaluation (the held-out columns
     * filled only there); with loss scaling on (float16 training) also the scale and the steps skipped for gradient
     * overflow. The training loss column is named after what it is (cross-entropy, or the distillation mix).
     */
    public static Table history(Trainer.Result result, String name) {
        LongColumn step = LongColumn.create("step");
        IntColumn epoch = IntColumn.create("epoch");
        DoubleColumn lr = Formats.as(DoubleColumn.create("lr"), Formats.scientific(2));
        DoubleColumn train = Formats.as(DoubleColumn.create("train loss (" + shortObjective(result) + ")"),
                Formats.fixed(4));
        DoubleColumn norm = Formats.as(DoubleColumn.create("grad norm"), Formats.fixed(3));
        DoubleColumn val = Formats.as(DoubleColumn.create("val log loss"), Formats.fixed(4));
        DoubleColumn acc = Formats.as(DoubleColumn.create("val accuracy"), Formats.fixed(3));
        DoubleColumn seconds = Formats.as(DoubleColumn.create("seconds"), Formats.fixed(1));
        DoubleColumn scale = Formats.as(DoubleColumn.create("loss scale"), Formats.fixed(0));
        IntColumn skipped = IntColumn.create("skipped steps");
        for (TrainLog l : result.history()) {
            step.append(l.step());
            epoch.append(l.epoch());
            lr.append(l.lr());
            train.append(l.trainLoss());
            appendOrMissing(norm, l.gradNorm());
            appendOrMissing(val, l.valLogLoss());
            appendOrMissing(acc, l.valAccuracy());
            seconds.append(l.seconds());
            appendOrMissing(scale, l.lossScale());
            skipped.append(l.skippedSteps());
        }
        Table t = Table.create(name + " history", step, epoch, lr, train, norm, val, acc, seconds);
        return scale.countMissing() == scale.size() ? t : t.addColumns(scale, skipped);
    }

    /**
     * The training curve in two panels over the optimizer steps: on top the training loss (the stage's objective:
     * cross-entropy, or the distillation mix, whose scale is not a log loss), every {@code train.log_every} steps;
     * below the held-out log loss at each evaluation, with the class prior the model has to beat. Without a holdout
     * only the top panel.
     */
    public static Figure lossCurve(Trainer.Result result, String name) {
        List<TrainLog> h = result.history();
        double[] steps = h.stream().mapToDouble(TrainLog::step).toArray();
        List<Trace> traces = new ArrayList<>();
        traces.add(ScatterTrace.builder(steps, h.stream().mapToDouble(TrainLog::trainLoss).toArray())
                .mode(ScatterTrace.Mode.LINE_AND_MARKERS)
                .name("training loss: " + shortObjective(result) + " (mean since the previous point)")
                .build());
        List<TrainLog> evaluated = h.stream().filter(l -> l.valLogLoss() != null).toList();
        String objectiveAxis = shortObjective(result);
        Layout.LayoutBuilder layout = Layout.builder(name + ": training loss and held-out log loss by optimizer "
                        + "step")
                .width(900)
                .xAxis(Axis.builder().title("optimizer step").build());
        if (evaluated.isEmpty()) {
            layout.height(400).yAxis(Axis.builder().title(objectiveAxis).build());
        } else {
            traces.add(ScatterTrace.builder(evaluated.stream().mapToDouble(TrainLog::step).toArray(),
                            evaluated.stream().mapToDouble(TrainLog::valLogLoss).toArray())
                    .mode(ScatterTrace.Mode.LINE_AND_MARKERS).yAxis(ScatterTrace.YAxis.Y2)
                    .name("held-out log loss: cross-entropy on human labels").build());
            if (result.priorLogLoss() != null && steps.length > 0) {
                traces.add(ScatterTrace.builder(new double[] {0, steps[steps.length - 1]},
                                new double[] {result.priorLogLoss(), result.priorLogLoss()})
                        .mode(ScatterTrace.Mode.LINE).yAxis(ScatterTrace.YAxis.Y2)
                        .line(Line.builder().dash(Line.Dash.DASH).color("#888").build())
                        .name(String.format(Locale.ROOT, "class prior %.4f (the log loss to beat)",
                                result.priorLogLoss()))
                        .build());
            }
            // two rows sharing the step axis: the two losses are different quantities on different scales
            layout.height(560)
                    .grid(Grid.builder().rows(2).columns(1).pattern(Grid.Pattern.COUPLED).yGap(0.18).build())
                    .yAxis(Axis.builder().title(objectiveAxis).build())
                    .yAxis2(Axis.builder().title("held-out log loss").build());
        }
        return new Figure(layout.build(), CONFIG, traces.toArray(new Trace[0]));
    }

    /** "cross-entropy" or "distillation mix" (older metrics without an objective: "loss"). */
    static String shortObjective(Trainer.Result result) {
        String o = result.objective();
        if (o == null) {
            return "loss";
        }
        return o.startsWith("distillation") ? "distillation mix" : o;
    }

    /** The first {@code rows} pseudo-labels. */
    public static Table pseudoLabels(List<PseudoLabels.Label> labels, int rows) {
        StringColumn id = StringColumn.create("id");
        DoubleColumn[] p = probabilityColumns(CLASSES);
        for (PseudoLabels.Label l : labels.subList(0, Math.min(rows, labels.size()))) {
            id.append(l.id());
            for (int k = 0; k < 3; k++) {
                p[k].append(l.probs()[k]);
            }
        }
        return Table.create("pseudo-labels", id, p[0], p[1], p[2]);
    }

    /** How confident the teacher is: histograms of the three probabilities. */
    public static Figure pseudoLabelHistogram(List<PseudoLabels.Label> labels) {
        Trace[] traces = new Trace[3];
        for (int k = 0; k < 3; k++) {
            int c = k;
            traces[k] = HistogramTrace.builder(labels.stream().mapToDouble(l -> l.probs()[c]).toArray())
                    .name(CLASSES[k]).opacity(0.6).build();
        }
        Layout layout = Layout.builder("Pseudo-label probabilities (" + labels.size() + " pairs)", "probability",
                "pairs").barMode(Layout.BarMode.OVERLAY).width(900).height(400).build();
        return new Figure(layout, CONFIG, traces);
    }

    /** The first {@code rows} rows of a submission file. */
    public static Table submission(Path file, int rows) {
        StringColumn id = StringColumn.create("id");
        DoubleColumn[] p = probabilityColumns(new String[] {"winner_model_a", "winner_model_b", "winner_tie"});
        int n = 0;
        for (Map.Entry<String, double[]> e : Submission.read(file).entrySet()) {
            if (n++ == rows) {
                break;
            }
            id.append(e.getKey());
            for (int k = 0; k < 3; k++) {
                p[k].append(e.getValue()[k]);
            }
        }
        return Table.create(file.getFileName().toString(), id, p[0], p[1], p[2]);
    }

    /** Log loss of a submission against a solution file (one-hot rows in submission format). */
    public static double score(Path submission, Path solution) {
        Map<String, double[]> truth = Submission.read(solution);
        Map<String, double[]> predicted = Submission.read(submission);
        double[][] probs = new double[truth.size()][];
        int[] labels = new int[truth.size()];
        int i = 0;
        for (Map.Entry<String, double[]> e : truth.entrySet()) {
            probs[i] = predicted.get(e.getKey());
            if (probs[i] == null) {
                throw new IllegalArgumentException(submission + " has no row for id " + e.getKey() + " of " + solution);
            }
            double[] t = e.getValue();
            labels[i++] = t[0] >= t[1] && t[0] >= t[2] ? 0 : t[1] >= t[2] ? 1 : 2;
        }
        return Metrics.logLoss(probs, labels);
    }

    /** Probability columns printed with 4 decimals each. */
    private static DoubleColumn[] probabilityColumns(String[] names) {
        DoubleColumn[] p = new DoubleColumn[names.length];
        for (int k = 0; k < names.length; k++) {
            p[k] = Formats.as(DoubleColumn.create(names[k]), Formats.fixed(4));
        }
        return p;
    }

    /** Appends {@code v}, or a missing value for null (the column's formatter decides the decimals). */
    static void appendOrMissing(DoubleColumn c, Double v) {
        if (v == null) {
            c.appendMissing();
        } else {
            c.append(v);
        }
    }
}
