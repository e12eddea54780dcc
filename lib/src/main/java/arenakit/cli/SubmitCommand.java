package arenakit.cli;

import arenakit.infer.InferenceConfig;
import arenakit.infer.SubmissionConfig;
import arenakit.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** test.csv + trained model(s) -> submission.csv. */
@Command(name = "submit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Predicts test.csv with trained model(s) and writes submission.csv in sample_submission's "
                + "order (probabilities clipped and renormalised, written atomically).",
                "Without options it runs the setup's submission stage into <out>/submission.csv. Options override "
                        + "the setup's paths, models and inference settings (the config field each replaces is "
                        + "named in brackets)."})
public final class SubmitCommand implements Callable<Integer> {
    @Mixin
    SetupOptions setup;

    @Option(names = "--test", paramLabel = "CSV", description = "Kaggle test.csv to predict [pipeline.json data.test]")
    Path test;

    @Option(names = "--sample-submission", paramLabel = "CSV",
            description = "Kaggle sample_submission.csv (default: next to --test) [data.sample_submission]")
    Path sampleSubmission;

    @Mixin
    InferenceOptions inferenceOptions;

    @Option(names = "--submission", paramLabel = "NAME",
            description = "another submission config of the setup: a file of its folder that stages does not list, "
                    + "e.g. submission_ensemble (gemma2-9b: its Gemma + Llama ensemble); the options below override "
                    + "it as they do the submission stage (default: the setup's submission stage)")
    String submission;

    @Option(names = "--model", paramLabel = "STAGE|DIR",
            description = "trained stage name or folder with stage.json + adapter/ (repeat for an ensemble, weight 1 "
                    + "each) [submission.json models]")
    List<String> models;

    @Option(names = "--base-head", description = "a model that is a PEFT adapter without a trained head (its "
            + "modules_to_save lists no score) predicts with the base checkpoint's score head; without this such an "
            + "adapter is refused [models[].base_head]")
    boolean baseHead;

    @Option(names = "--tta", negatable = true, description = "swap TTA (default: as configured) [inference.tta]")
    Boolean tta;

    @Option(names = "--devices", split = ",", paramLabel = "DEVICE",
            description = "e.g. cpu, or gpu(0),gpu(1) (default: as configured) [inference.devices]")
    List<String> devices;

    @Option(names = "--mode", paramLabel = "MODE",
            description = "with two devices: pipeline (layers split) or data_parallel (default: as configured, "
                    + "else pipeline) [inference.mode]")
    String mode;

    @Option(names = "--output", paramLabel = "CSV", description = "where to write (default: <out>/submission.csv)")
    Path output;

    @Option(names = "--dry-run", description = "print each model's memory plan and the estimated time for the test "
            + "file's token counts on the configured devices, then stop (no weights are loaded)")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        inferenceOptions.check();
        try (Pipeline pipeline = setup.open()) {
            inferenceOptions.applyTo(pipeline);
            SubmissionConfig base = submission == null ? pipeline.submissionConfig()
                    : pipeline.submissionConfig(submission);
            boolean overridden = test != null || sampleSubmission != null || models != null || tta != null
                    || devices != null || mode != null || output != null || baseHead || submission != null;
            if (!overridden && !dryRun) {
                pipeline.runStage(pipeline.submissionStage(), 0);
                return 0;
            }
            InferenceConfig inference = base.inference();
            if (tta != null) {
                inference = inference.withTta(tta);
            }
            if (devices != null || mode != null) {
                inference = inference.withDevices(devices != null ? devices : inference.devices(), mode);
            }
            SubmissionConfig cfg = (models != null ? base.withModels(models) : base).withInference(inference);
            if (baseHead) {
                cfg = new SubmissionConfig(cfg.kind(), cfg.description(), cfg.models().stream()
                        .map(m -> m.withBaseHead(true)).toList(), cfg.maxLength(), cfg.average(), cfg.chunkRows(),
                        cfg.inference());
            }
            Path testFile = test != null ? test : pipeline.testFile();
            Path sample = sampleSubmission != null ? sampleSubmission
                    : test != null ? test.toAbsolutePath().resolveSibling("sample_submission.csv")
                    : pipeline.sampleSubmissionFile();
            if (dryRun) {
                pipeline.planSubmission(cfg, testFile);
                return 0;
            }
            Path target = output != null ? output : pipeline.out().resolve("submission.csv");
            pipeline.submit(cfg, testFile, sample, target);
            System.out.println("wrote " + target.toAbsolutePath());
        }
        return 0;
    }

    public static void main(String... args) {
        System.exit(Cli.execute(new SubmitCommand(), args));
    }
}
