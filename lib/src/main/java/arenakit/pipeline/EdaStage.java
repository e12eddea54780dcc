package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.eda.Eda;
import arenakit.eda.EdaOptions;
import arenakit.eda.EdaResult;
import arenakit.train.TrainConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The EDA stage: the eda package's report (eda.json, eda.html) over the setup's train and test rows, token
 * counts with the setup's tokenizer and the prompt format of its first training stage.
 */
final class EdaStage {
    private EdaStage() {}

    static StageSummary run(Pipeline p, String stage) throws IOException {
        Inputs in = p.inputs();
        List<Conversation> train = in.train();
        List<Conversation> test = in.test().rows();
        EdaOptions options = EdaOptions.defaults();
        for (String s : p.experiment().stages()) {
            if (p.stageConfig(s) instanceof TrainConfig t) {
                options = options.withFormat(t.data().text().format());
                break;
            }
        }
        Path dir = p.stageDir(stage);
        EdaResult result = Eda.run(train, test, p.tokenizer(), dir, options);
        p.log(stage).accept("report: " + dir.resolve(Eda.HTML_FILE) + " (numbers in " + dir.resolve(Eda.JSON_FILE)
                + ")");
        return new StageSummary(stage, Pipeline.EDA, StageSummary.DONE, train.size() + test.size(), null, 0, null,
                null, null, null, dir.resolve(Eda.HTML_FILE).toString());
    }
}
