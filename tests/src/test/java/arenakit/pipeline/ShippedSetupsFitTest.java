package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import arenakit.data.Conversation;
import arenakit.data.KaggleCsv;
import arenakit.infer.CostModel;
import arenakit.infer.DeviceTable;
import arenakit.infer.InferenceConfig;
import arenakit.infer.SubmissionConfig;
import arenakit.infer.TimeBudget;
import arenakit.infer.WeightedModel;
import arenakit.model.MemoryPlan;
import arenakit.model.Placement;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.text.PromptEncoder;
import arenakit.text.TestTokenizers;
import arenakit.text.Tokenizer;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real setups fit the hardware they name, by the same memory plan and device-table cost model the runs print
 * (nothing is loaded: the checkpoints are Kaggle's, so their shapes come from the presets of the same models).
 * Memory: every inference stage on GPUs, each model of its ensemble on each device, within a 16 GB T4. Time: each
 * submission config with a time budget, for Kaggle's ~25k test rows with the length distribution of the real rows in
 * ../shared (skipped without it), inside the budget with 10% to spare.
 */
class ShippedSetupsFitTest {
    /** A T4's 15 GiB less ~1 GiB for the CUDA context, cuBLAS workspace and the caching allocator's slack. */
    static final double T4_GIB = 14.0;
    static final int KAGGLE_TEST_ROWS = 25_000;
    static final Path SAMPLE = Path.of(System.getProperty("arena.home", ".."), "..", "shared", "data",
            "lmsys-sample", "train_sample.csv").normalize();

    /** The Kaggle checkpoints the real setups name, as the presets of the same models. */
    static final Map<String, String> PRESETS = Map.of("/kaggle/input/gemma-2-9b-it", "gemma-2-9b",
            "/kaggle/input/armorm-llama3-8b", "llama-3-8b");
    /** The installed tokenizer with the ids of each checkpoint's own. */
    static final Map<String, String> TOKENIZERS = Map.of("/kaggle/input/gemma-2-9b-it", Tokenizer.GEMMA,
            "/kaggle/input/armorm-llama3-8b", Tokenizer.LLAMA3);
    /** The stage folders gemma2-9b's submission_ensemble.json names: the stage 3 of each real setup. */
    static final Map<String, String> FOLDERS = Map.of("/kaggle/input/gemma2-9b-stage3", "gemma2-9b/stage3",
            "/kaggle/input/llama3-8b-stage3", "llama3-8b/stage3");

    /** One model of an inference stage: the training config it was made with and the base it runs on. */
    record Model(String name, double weight, String checkpoint, TrainConfig training, int maxLength) {}

    /** Every GPU inference config of the real setups: stage name -> (inference, models). */
    record Stage(String setup, String file, InferenceConfig inference, List<Model> models, Duration budget) {}

    static List<Stage> gpuStages() throws Exception {
        List<Stage> out = new ArrayList<>();
        for (String setup : List.of("gemma2-9b", "llama3-8b")) {
            ConfigFolder folder = ConfigFolder.of(setup);
            for (String file : folder.files()) {
                if (file.equals("pipeline.json")) {
                    continue;
                }
                String kind = kindOf(folder, file);
                if (kind.equals(PseudoLabelConfig.KIND)) {
                    PseudoLabelConfig c = folder.read(file, PseudoLabelConfig.class);
                    out.add(new Stage(setup, file, c.inference(), models(setup, c.models(), c.maxLength()), null));
                } else if (kind.equals(SubmissionConfig.KIND)) {
                    SubmissionConfig c = folder.read(file, SubmissionConfig.class);
                    out.add(new Stage(setup, file, c.inference(), models(setup, c.models(), c.maxLength()),
                            c.inference().budget()));
                }
            }
        }
        return out;
    }

    private static String kindOf(ConfigFolder folder, String file) throws Exception {
        return arenakit.util.Json.MAPPER.readTree(folder.text(file)).path("kind").asText();
    }

    private static List<Model> models(String setup, List<WeightedModel> refs, Integer stageMaxLength) {
        List<Model> out = new ArrayList<>();
        for (WeightedModel m : refs) {
            String where = FOLDERS.getOrDefault(m.model(), setup + "/" + m.model());
            String trainedIn = where.substring(0, where.indexOf('/'));
            TrainConfig t = ConfigFolder.of(trainedIn).read(where.substring(where.indexOf('/') + 1) + ".json",
                    TrainConfig.class);
            ExperimentConfig e = ConfigFolder.of(trainedIn).read("pipeline.json", ExperimentConfig.class);
            String checkpoint = t.model().baseModel() == null ? e.baseModel().checkpoint()
                    : e.baseModels().get(t.model().baseModel()).checkpoint();
            int maxLength = m.maxLength() != null ? m.maxLength() : stageMaxLength != null ? stageMaxLength
                    : t.data().text().maxLength();
            out.add(new Model(m.model(), m.weight(), checkpoint, t, maxLength));
        }
        return out;
    }

    /** The memory plan of a model on the stage's devices, placed as Models.plan places it. */
    static MemoryPlan plan(Model m, InferenceConfig inference) {
        DecoderConfig config = Families.preset(PRESETS.get(m.checkpoint())).withNumLabels(3);
        Device[] devices = inference.devices().stream().map(Placement::device).toArray(Device[]::new);
        Placement placement = !inference.mode().equals(InferenceConfig.PIPELINE) ? Placement.single(devices[0])
                : inference.splitLayer() == null ? Placement.split(devices)
                : Placement.split(new int[] {inference.splitLayer()}, devices);
        return new MemoryPlan(config, DataType.FLOAT16, placement.stages(config.numHiddenLayers()),
                inference.maxTokens(), m.maxLength(), 0);
    }

    @Test
    void everyModelOfEveryGpuStageFitsA16GbT4() throws Exception {
        List<Stage> stages = gpuStages();
        assertEquals(5, stages.size(), "pseudo_labels and submission of both, gemma2-9b's submission_ensemble");
        for (Stage s : stages) {
            for (Model m : s.models()) {
                MemoryPlan plan = plan(m, s.inference());
                for (int d = 0; d < plan.stages().size(); d++) {
                    double gib = (plan.weightBytes(d) + plan.inferenceActivationBytes()) / (double) (1L << 30);
                    System.out.printf(Locale.ROOT, "%s/%s %s on %s: %.2f GiB%n", s.setup(), s.file(), m.name(),
                            plan.stages().get(d).device(), gib);
                    assertTrue(gib <= T4_GIB, s.setup() + "/" + s.file() + ": " + m.name() + " needs " + gib
                            + " GiB on " + plan.stages().get(d).device() + ", more than a T4 holds:\n" + plan);
                }
            }
        }
    }

    @Test
    void everySubmissionFinishesKagglesTestSetInsideItsBudget() throws Exception {
        assumeTrue(Files.isRegularFile(SAMPLE), "../shared/data/lmsys-sample not present: " + SAMPLE);
        List<Conversation> rows = KaggleCsv.readTrain(SAMPLE).rows();
        int checked = 0;
        Map<String, CostModel.Work> works = new java.util.HashMap<>(); // by encoding: each is the same in two stages
        for (Stage s : gpuStages()) {
            if (s.budget() == null) {
                continue;
            }
            double seconds = 0;
            List<String> parts = new ArrayList<>();
            for (Model m : s.models()) {
                Tokenizer tokenizer = TestTokenizers.shared(TOKENIZERS.get(m.checkpoint()));
                assumeTrue(tokenizer != null, "the real tokenizers are not installed (bash environment/setup.sh)");
                TrainConfig.Text text = m.training().data().text();
                String template = text.template() != null ? text.template()
                        : m.checkpoint().contains("gemma") ? "gemma" : "llama3";
                PromptEncoder encoder = PromptEncoder.of(tokenizer, template, text.format(), text.truncation(),
                        m.maxLength());
                CostModel.Work rowsWork = works.computeIfAbsent(String.join(" ", tokenizer.file().toString(), template,
                        text.format(), text.truncation(), String.valueOf(m.maxLength())), k -> {
                            List<int[]> encoded = new ArrayList<>();
                            for (Conversation c : rows) {
                                encoded.add(encoder.encode(c));
                            }
                            return CostModel.Work.of(encoded);
                        });
                MemoryPlan plan = plan(m, s.inference());
                DecoderConfig config = Families.preset(PRESETS.get(m.checkpoint()));
                DeviceTable.Shape shape = new DeviceTable.Shape(plan.layerParams() * config.numHiddenLayers(),
                        config.numHiddenLayers(), config.numAttentionHeads(), config.qDim(), plan.totalWeightBytes(),
                        true);
                CostModel.Work work = rowsWork.times((s.inference().tta() ? 2.0 : 1.0) * KAGGLE_TEST_ROWS / rows.size());
                double predict = DeviceTable.prior(shape, s.inference(), 1).seconds(work);
                double load = plan.totalWeightBytes() / 0.5e9; // DeviceTable's loading rate
                seconds += predict + load;
                parts.add(String.format(Locale.ROOT, "%s %.2f h", m.name(), (predict + load) / 3600));
            }
            double budget = s.budget().toSeconds();
            System.out.printf(Locale.ROOT, "%s/%s: %,d rows%s on %s: about %.2f h (%s), budget %s%n", s.setup(),
                    s.file(), KAGGLE_TEST_ROWS, s.inference().tta() ? " with TTA" : "",
                    DeviceTable.describe(s.inference()), seconds / 3600, String.join(", ", parts),
                    TimeBudget.format(s.budget()));
            assertTrue(seconds <= 0.9 * budget, s.setup() + "/" + s.file() + ": about " + seconds / 3600
                    + " h for Kaggle's test set, more than 90% of its budget " + TimeBudget.format(s.budget()));
            checked++;
        }
        assertEquals(3, checked, "gemma2-9b's submission and submission_ensemble, llama3-8b's submission");
    }
}
