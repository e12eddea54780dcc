package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.infer.BatchRunner;
import arenakit.infer.DeviceTable;
import arenakit.infer.Ensemble;
import arenakit.util.Fingerprint;
import arenakit.infer.InferenceConfig;
import arenakit.infer.WeightedModel;
import arenakit.model.quant.Quantization;
import arenakit.text.PromptEncoder;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The models of a pseudo-label or submission stage as {@link Ensemble.Member}s: each a trained model of the setup,
 * encoding rows with its own encoder ({@link Pipeline#encoderFor}) and loaded through {@link Models#forInference}.
 */
final class StageEnsemble {
    /** Input budget of the probe rows in a model's fingerprint (their encoding fingerprints tokenizer and format). */
    private static final int PROBE_LENGTH = 1024;

    private StageEnsemble() {}

    /** The stage's ensemble with its configured settings (no chunks, no budget: the stage adds those). */
    static Ensemble of(Pipeline p, List<WeightedModel> models, Integer stageMaxLength, String average,
            InferenceConfig inference, Consumer<String> log) throws IOException {
        List<Ensemble.Member> members = new ArrayList<>();
        for (WeightedModel m : models) {
            members.add(new Member(p, p.trainedModel(m.model()), m, stageMaxLength, log));
        }
        return new Ensemble(members, inference, Ensemble.Average.of(average), log);
    }

    private static final class Member implements Ensemble.Member {
        private final Pipeline pipeline;
        private final TrainedModel model;
        private final WeightedModel ref;
        private final int maxLength;
        private final Consumer<String> log;
        private String fingerprint;

        Member(Pipeline pipeline, TrainedModel model, WeightedModel ref, Integer stageMaxLength,
                Consumer<String> log) {
            this.pipeline = pipeline;
            this.model = model;
            this.ref = ref;
            this.maxLength = ref.maxLength() != null ? ref.maxLength()
                    : model.text(stageMaxLength).maxLength();
            this.log = log;
        }

        @Override
        public String name() {
            return ref.model();
        }

        @Override
        public double weight() {
            return ref.weight();
        }

        @Override
        public int maxLength() {
            return maxLength;
        }

        @Override
        public Function<Conversation, int[]> encoder(int length) throws IOException {
            PromptEncoder e = pipeline.encoderFor(model, length);
            return e::encode;
        }

        /**
         * The model's files (its adapter or checkpoint, and the base an adapter applies to), its training config
         * (head, adapter shape, format, truncation, dtype), the dtype and quantization it runs with here, and the
         * token ids its encoder gives for fixed probe rows (tokenizer, chat template and format together).
         */
        @Override
        public synchronized String fingerprint(InferenceConfig inference) throws IOException {
            Quantization quant = quantization(inference);
            // the dtype it computes in, and how its projections are stored ("float16/int8"): int8 predictions are
            // not float16 predictions (the training config's model.quantize may be overridden here)
            String dtype = plan(inference).memory().dtype().toString()
                    + (quant == Quantization.NONE ? "" : "/" + quant.configName());
            if (fingerprint == null || !fingerprint.startsWith(dtype + ":")) {
                Path base = pipeline.baseModelFor(model);
                Fingerprint.Hasher f = Fingerprint.hasher().text("arena-kit predictions 1")
                        .text(model.fullFineTune() ? "full" : "adapter").text(Fingerprint.ofTree(model.weights()));
                if (!model.fullFineTune()) {
                    f.text(Fingerprint.ofTree(base));
                }
                f.text(Json.MAPPER.writeValueAsString(model.config()));
                f.text(dtype);
                PromptEncoder e = pipeline.encoderFor(model, PROBE_LENGTH);
                f.ints(e.tokenizer().vocabSize());
                for (Conversation c : probes()) {
                    f.ints(e.encode(c)).ints(e.encode(c.swapped()));
                }
                fingerprint = dtype + ":" + f.hex();
            }
            return fingerprint.substring(fingerprint.indexOf(':') + 1);
        }

        @Override
        public DeviceTable.Shape shape(InferenceConfig inference) throws IOException {
            return plan(inference).shape();
        }

        @Override
        public String memoryPlan(InferenceConfig inference) throws IOException {
            return name() + ": " + plan(inference).memory();
        }

        /** This entry's quantize, else the stage's, else the model's training setting. */
        private Quantization quantization(InferenceConfig inference) {
            return Models.quantization(model, ref.quantize(), inference);
        }

        private Models.Plan plan(InferenceConfig inference) throws IOException {
            return Models.plan(pipeline.baseModelFor(model), model, inference, maxLength, quantization(inference));
        }

        @Override
        public BatchRunner open(InferenceConfig inference) throws IOException {
            Models.Inference loaded = Models.forInference(pipeline.baseModelFor(model), model, inference,
                    quantization(inference), ref.baseHead(), log);
            return new BatchRunner() {
                @Override
                public List<float[][]> run(List<List<int[]>> batches, Listener listener) {
                    return loaded.runner().run(batches, listener);
                }

                @Override
                public String describe() {
                    return loaded.runner().describe();
                }

                @Override
                public void close() {
                    loaded.close();
                }
            };
        }
    }

    /** Rows whose encoding pins the tokenizer and format: two turns, non-ASCII text, a null, and one cut short. */
    private static List<Conversation> probes() {
        String longText = "The quick brown fox jumps over the lazy dog, and then it naps. ".repeat(200);
        return List.of(
                new Conversation("probe-1", null, null, List.of(new Turn("What is 2 + 2?", "4", "Four."),
                        new Turn("Und auf Deutsch? 日本語も", "Vier", null)), null, 0),
                new Conversation("probe-2", null, null, List.of(new Turn("Summarise this: " + longText, longText,
                        "Short answer.")), null, 0));
    }
}
