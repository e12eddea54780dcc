package arenakit.pipeline;

import arenakit.train.TeacherLogits;
import arenakit.util.Formats;
import arenakit.util.Json;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * What a finished stage reports. Written last, as {@code <out>/<stage>/summary.json}: its presence is what marks
 * the stage done, so a re-run skips it.
 *
 * @param status "done", or "paused" for a training stage stopped early on request (not written to disk)
 * @param rows rows the stage consumed (training rows, rows labeled, rows predicted)
 * @param steps optimizer steps (training stages)
 * @param valLogLoss log loss on the held-out fold (training stages with a holdout)
 * @param priorLogLoss log loss of the constant class prior on the same fold: the bar to beat
 * @param testLogLoss the submission's log loss on the test labels, where they are known (the embedded sample's
 *     solution.csv)
 * @param teacherLogits a training stage with {@code distill.teachers}: how many rows were distilled, how many
 *     trained on plain cross-entropy, which were ignored
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record StageSummary(String stage, String kind, String status, long rows, @StrictJson.Nullable Long steps,
        double seconds, @StrictJson.Nullable Double valLogLoss, @StrictJson.Nullable Double valAccuracy,
        @StrictJson.Nullable Double priorLogLoss, @StrictJson.Nullable Double testLogLoss,
        @StrictJson.Nullable String output, @StrictJson.Default("null") TeacherLogits.Report teacherLogits) {

    public StageSummary(String stage, String kind, String status, long rows, Long steps, double seconds,
            Double valLogLoss, Double valAccuracy, Double priorLogLoss, Double testLogLoss, String output) {
        this(stage, kind, status, rows, steps, seconds, valLogLoss, valAccuracy, priorLogLoss, testLogLoss, output,
                null);
    }

    public static final String FILE = "summary.json";
    public static final String DONE = "done";
    /** A training stage stopped early on request; it resumes from its checkpoint on the next run. */
    public static final String PAUSED = "paused";

    public StageSummary withSeconds(double s) {
        return new StageSummary(stage, kind, status, rows, steps, s, valLogLoss, valAccuracy, priorLogLoss, testLogLoss,
                output, teacherLogits);
    }

    public static Optional<StageSummary> read(Path stageDir) throws IOException {
        Path f = stageDir.resolve(FILE);
        return Files.isRegularFile(f) ? Optional.of(Json.read(f, StageSummary.class)) : Optional.empty();
    }

    public void write(Path stageDir) throws IOException {
        Json.write(stageDir.resolve(FILE), this);
    }

    /** The pipeline's final table: stage, rows, steps, time, val log loss (and the prior it should beat). */
    public static Table table(List<StageSummary> stages) {
        StringColumn stage = StringColumn.create("stage");
        StringColumn status = StringColumn.create("status");
        LongColumn rows = LongColumn.create("rows");
        LongColumn steps = LongColumn.create("steps");
        DoubleColumn seconds = Formats.as(DoubleColumn.create("seconds"), Formats.fixed(1));
        DoubleColumn val = Formats.as(DoubleColumn.create("val log loss"), Formats.fixed(4));
        DoubleColumn prior = Formats.as(DoubleColumn.create("class prior"), Formats.fixed(4));
        DoubleColumn acc = Formats.as(DoubleColumn.create("val accuracy"), Formats.fixed(4));
        DoubleColumn test = Formats.as(DoubleColumn.create("test log loss"), Formats.fixed(4));
        for (StageSummary s : stages) {
            stage.append(s.stage());
            status.append(s.status());
            rows.append(s.rows());
            if (s.steps() == null) {
                steps.appendMissing();
            } else {
                steps.append(s.steps());
            }
            seconds.append(s.seconds());
            StageReports.appendOrMissing(val, s.valLogLoss());
            StageReports.appendOrMissing(prior, s.priorLogLoss());
            StageReports.appendOrMissing(acc, s.valAccuracy());
            StageReports.appendOrMissing(test, s.testLogLoss());
        }
        return Table.create("pipeline summary", stage, status, rows, steps, seconds, val, prior, acc, test);
    }
}
