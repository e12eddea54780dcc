package arenakit.pipeline;

import arenakit.model.lora.AdapterAverage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** An averaging stage: its models' LoRA adapters averaged into a stage folder ({@link AdapterAveraging}). */
final class AverageStage {
    /** A copy of the stage's config as written (its stage.json is the averaged model's training config). */
    static final String CONFIG_COPY = "average-config.json";

    private AverageStage() {}

    static StageSummary run(Pipeline p, String stage, AverageConfig config) throws IOException {
        List<TrainedModel> models = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        for (AverageConfig.Member m : config.models()) {
            models.add(p.trainedModel(m.model()));
            weights.add(m.weight());
        }
        Path dir = p.stageDir(stage);
        AdapterAverage.Report report = AdapterAveraging.averageModels(models, weights, config.rank(), dir,
                p.log(stage));
        return new StageSummary(stage, AverageConfig.KIND, StageSummary.DONE, models.size(), null, 0, null, null,
                null, null, dir.toString());
    }
}
