package arenakit.pipeline;

import arenakit.data.Submission;
import arenakit.train.Metrics;
import arenakit.train.PseudoLabels;
import arenakit.train.TrainLog;
import arenakit.train.Trainer;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Config;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.components.Layout;
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
     * The training history: one row per evaluation; with loss scaling on (float16 training) also the scale and the
     * steps skipped for gradient overflow.
     */
    public static Table history(Trainer.Result result, String name) {
        LongColumn step = LongColumn.create("step");
        IntColumn epoch = IntColumn.create("epoch");
        DoubleColumn lr = DoubleColumn.create("lr");
        DoubleColumn train = DoubleColumn.create("train loss");
        DoubleColumn norm = DoubleColumn.create("grad norm");
        DoubleColumn val = DoubleColumn.create("val log loss");
        DoubleColumn acc = DoubleColumn.create("val accuracy");
        DoubleColumn seconds = DoubleColumn.create("seconds");
        DoubleColumn scale = DoubleColumn.create("loss scale");
        IntColumn skipped = IntColumn.create("skipped steps");
        for (TrainLog l : result.history()) {
            step.append(l.step());
            epoch.append(l.epoch());
            lr.append(l.lr());
            train.append(round(l.trainLoss()));
            appendOrMissing(norm, l.gradNorm());
            appendOrMissing(val, l.valLogLoss());
            appendOrMissing(acc, l.valAccuracy());
            seconds.append(Math.round(l.seconds() * 10) / 10.0);
            if (l.lossScale() == null) {
                scale.appendMissing();
            } else {
                scale.append(l.lossScale());
            }
            skipped.append(l.skippedSteps());
        }
        Table t = Table.create(name + " history", step, epoch, lr, train, norm, val, acc, seconds);
        return scale.countMissing() == scale.size() ? t : t.addColumns(scale, skipped);
    }

    /** Training loss and held-out log loss by step, with the class prior the model has to beat. */
    public static Figure lossCurve(Trainer.Result result, String name) {
        List<TrainLog> h = result.history();
        double[] steps = h.stream().mapToDouble(TrainLog::step).toArray();
        List<Trace> traces = new ArrayList<>();
        traces.add(ScatterTrace.builder(steps, h.stream().mapToDouble(TrainLog::trainLoss).toArray())
                .mode(ScatterTrace.Mode.LINE_AND_MARKERS).name("train loss (mean since last point)").build());
        List<TrainLog> evaluated = h.stream().filter(l -> l.valLogLoss() != null).toList();
        if (!evaluated.isEmpty()) {
            traces.add(ScatterTrace.builder(evaluated.stream().mapToDouble(TrainLog::step).toArray(),
                            evaluated.stream().mapToDouble(TrainLog::valLogLoss).toArray())
                    .mode(ScatterTrace.Mode.LINE_AND_MARKERS).name("held-out log loss").build());
        }
        if (result.priorLogLoss() != null && steps.length > 0) {
            traces.add(ScatterTrace.builder(new double[] {0, steps[steps.length - 1]},
                            new double[] {result.priorLogLoss(), result.priorLogLoss()})
                    .mode(ScatterTrace.Mode.LINE).name("class prior").build());
        }
        Layout layout = Layout.builder(name + ": loss by optimizer step", "step", "loss").width(900).height(400)
                .build();
        return new Figure(layout, CONFIG, traces.toArray(new Trace[0]));
    }

    /** The first {@code rows} pseudo-labels. */
    public static Table pseudoLabels(List<PseudoLabels.Label> labels, int rows) {
        StringColumn id = StringColumn.create("id");
        DoubleColumn[] p = {DoubleColumn.create(CLASSES[0]), DoubleColumn.create(CLASSES[1]),
            DoubleColumn.create(CLASSES[2])};
        for (PseudoLabels.Label l : labels.subList(0, Math.min(rows, labels.size()))) {
            id.append(l.id());
            for (int k = 0; k < 3; k++) {
                p[k].append(round(l.probs()[k]));
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
        DoubleColumn[] p = {DoubleColumn.create("winner_model_a"), DoubleColumn.create("winner_model_b"),
            DoubleColumn.create("winner_tie")};
        int n = 0;
        for (Map.Entry<String, double[]> e : Submission.read(file).entrySet()) {
            if (n++ == rows) {
                break;
            }
            id.append(e.getKey());
            for (int k = 0; k < 3; k++) {
                p[k].append(round(e.getValue()[k]));
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

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    /** Appends {@code v} rounded to 4 decimals, or a missing value for null. */
    static void appendOrMissing(DoubleColumn c, Double v) {
        if (v == null) {
            c.appendMissing();
        } else {
            c.append(round(v));
        }
    }
}
