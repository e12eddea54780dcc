package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.KaggleCsv;
import arenakit.data.SampleGenerator;
import arenakit.eda.Eda;
import arenakit.eda.EdaOptions;
import arenakit.eda.EdaResult;
import arenakit.train.TrainConfig;
import arenakit.util.ArenaHome;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The EDA stage: the eda package's report (eda.json, eda.html) over the setup's train and test rows, with the
 * setup's settings: token counts with its tokenizer, the prompt format of its first training stage. The EDA
 * notebook (01-eda) and {@code eda.java} without {@code --train} run exactly this, so the three show the same
 * numbers.
 *
 * <p>On the embedded sample the report also names the signals the generator planted and, when real competition
 * rows are at hand ({@link ArenaHome#realRows()}), measures the same signals on them: how much the sample's evidence
 * decides verdicts, and how much less it does on real data.
 */
public final class EdaStage {
    private EdaStage() {}

    static StageSummary run(Pipeline p, String stage) throws IOException {
        Path dir = p.stageDir(stage);
        EdaResult result = analyse(p, options(p), dir, p.log(stage));
        p.log(stage).accept("report: " + dir.resolve(Eda.HTML_FILE) + " (numbers in " + dir.resolve(Eda.JSON_FILE)
                + ")");
        return new StageSummary(stage, Pipeline.EDA, StageSummary.DONE,
                result.train().rows() + (result.test() == null ? 0 : result.test().rows()), null, 0, null, null, null,
                null, dir.resolve(Eda.HTML_FILE).toString());
    }

    /** The setup's EDA settings: the defaults with the prompt format of its first training stage. */
    public static EdaOptions options(Pipeline p) {
        EdaOptions options = EdaOptions.defaults();
        for (String s : p.experiment().stages()) {
            if (p.stageConfig(s) instanceof TrainConfig t) {
                return options.withFormat(t.data().text().format());
            }
        }
        return options;
    }

    /**
     * The EDA of the setup's data with {@code options} (normally {@link #options}), written into {@code dir}: the
     * setup's tokenizer, the embedded sample's generator settings and real rows to compare with when there are.
     */
    public static EdaResult analyse(Pipeline p, EdaOptions options, Path dir, Consumer<String> log)
            throws IOException {
        Inputs in = p.inputs();
        List<Conversation> train = in.train();
        List<Conversation> test = in.test().rows();
        EdaResult result = Eda.compute(train, test, p.tokenizer(), options);
        if (p.experiment().data().train() == null) {
            SampleGenerator.Options planted = EmbeddedSample.options(p.experiment().sample(),
                    p.folder().where("pipeline.json"));
            result = result.withComparison(planted, reference(p, options, log).orElse(null));
        }
        Eda.write(result, dir);
        return result;
    }

    /** Real rows profiled like the sample, when a file of them is at hand. */
    private static Optional<EdaResult.Reference> reference(Pipeline p, EdaOptions options, Consumer<String> log)
            throws IOException {
        Optional<Path> file = ArenaHome.realRows();
        if (file.isEmpty()) {
            log.accept("no real rows to set the sample's planted signals against (" + ArenaHome.REAL_ROWS_ENV
                    + " is not set and there is no ../shared/data/lmsys-sample/train_sample.csv next to the "
                    + "checkout): the report shows the sample alone");
            return Optional.empty();
        }
        List<Conversation> rows = KaggleCsv.readTrain(file.get()).rows();
        log.accept("real rows for comparison: " + rows.size() + " from " + file.get());
        return Optional.of(Eda.reference(file.get().getFileName().toString(), rows, p.tokenizer(), options));
    }
}
