package arenakit.pipeline;

/** The EDA stage: the eda package's report over the setup's train and test files. */
final class EdaStage {
    private EdaStage() {}

    static StageSummary run(Pipeline p, String stage) {
        p.log(stage).accept("EDA: not available yet (the eda package has no pipeline entry point in this build)");
        return new StageSummary(stage, Pipeline.EDA, StageSummary.NOT_AVAILABLE, 0, null, 0, null, null, null, null);
    }
}
