package arenakit.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import arenakit.data.Conversation;
import arenakit.data.SampleGenerator;
import arenakit.infer.DataParallelRunner;
import arenakit.infer.InferenceConfig;
import arenakit.infer.PipelinedRunner;
import arenakit.infer.Predictions;
import arenakit.infer.Predictor;
import arenakit.infer.SingleDeviceRunner;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.SequenceClassifier;
import arenakit.model.TinyCheckpoints;
import arenakit.model.family.Gemma2Config;
import arenakit.model.io.SafetensorsFile;
import arenakit.text.PromptEncoder;
import arenakit.text.Tokenizer;
import arenakit.text.WordLevelTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inference on a tiny real Gemma-2 (4 layers): the two-device pipeline and the data-parallel mode give the plain
 * forward's logits (both "devices" are the CPU here: same code as 2x T4), and TTA is the average of the
 * swapped-back predictions.
 */
class InferenceTest {
    @TempDir
    static Path dir;
    private static Tokenizer tokenizer;
    private static PromptEncoder encoder;
    private static Path checkpoint;
    private static List<Conversation> rows;

    @BeforeAll
    static void setUp() throws Exception {
        rows = SampleGenerator.generate(SampleGenerator.Options.defaults().withRows(0, 24, 0, 0).withResponseWords(12))
                .test();
        Set<String> words = new LinkedHashSet<>();
        rows.forEach(c -> c.turns().forEach(t -> {
            for (String s : new String[] {t.prompt(), t.responseA(), t.responseB()}) {
                if (s != null) {
                    words.addAll(List.of(s.split("[^\\p{L}\\p{N}]+")));
                }
            }
        }));
        tokenizer = Tokenizer.load(WordLevelTokenizer.write(dir.resolve("tokenizer.json"), words));
        encoder = PromptEncoder.of(tokenizer, "rounds", "proportional", 128);
        Gemma2Config config = Gemma2Config.of(tokenizer.vocabSize(), 32, 64, 4, 2, 1, 16);
        checkpoint = TinyCheckpoints.write(dir.resolve("model"), config, SafetensorsFile.DType.F32, 1, 11);
    }

    @AfterAll
    static void tearDown() {
        tokenizer.close();
    }

    private static DecoderClassifier load(Placement placement) throws Exception {
        return DecoderClassifier.load(checkpoint, DecoderClassifier.Options.defaults().placement(placement).log(s -> {}));
    }

    private static InferenceConfig inference(boolean tta, int maxTokens) {
        return new InferenceConfig(tta, List.of("cpu"), InferenceConfig.SINGLE, null, maxTokens, null, 2);
    }

    @Test
    void pipelinedAndDataParallelEqualThePlainForward() throws Exception {
        List<int[]> seqs = rows.stream().map(encoder::encode).toList();
        InferenceConfig small = inference(false, 400); // several micro-batches in flight
        float[][] plain;
        try (DecoderClassifier g = load(Placement.single(Device.cpu()))) {
            plain = new Predictor(new SingleDeviceRunner(g), small, s -> {}).logits(seqs, "plain");
        }
        List<String> log = new ArrayList<>();
        try (DecoderClassifier g = load(Placement.split(new int[] {1}, Device.cpu(), Device.cpu()))) {
            float[][] piped = new Predictor(PipelinedRunner.of(g), small, log::add).logits(seqs, "pipelined");
            for (int i = 0; i < seqs.size(); i++) {
                assertArrayEquals(plain[i], piped[i], 1e-5f, "row " + i);
            }
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("pipeline cpu() layers [0, 1) -> cpu() layers [1, 4)")
                && l.contains("tokens/s")), log.toString());
        try (DecoderClassifier a = load(Placement.single(Device.cpu()));
                DecoderClassifier b = load(Placement.single(Device.cpu()))) {
            List<SequenceClassifier> replicas = List.of(a, b);
            float[][] parallel = new Predictor(new DataParallelRunner(replicas, List.of("cpu", "cpu")), small, s -> {})
                    .logits(seqs, "data parallel");
            for (int i = 0; i < seqs.size(); i++) {
                assertArrayEquals(plain[i], parallel[i], 1e-5f, "row " + i);
            }
        }
    }

    /**
     * When a device fails, run() returns only once no thread is still inside a forward pass: the caller closes the
     * models next, which would free weights under a running thread.
     */
    @Test
    void aFailingDeviceStopsDataParallelInferenceBeforeItReturns() throws Exception {
        List<List<int[]>> batches = new ArrayList<>();
        for (int[] s : rows.stream().map(encoder::encode).toList()) {
            batches.add(List.of(s, s));
        }
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        try (DecoderClassifier broken = load(Placement.single(Device.cpu()));
                DecoderClassifier working = load(Placement.single(Device.cpu()))) {
            broken.close(); // its weights are freed: every forward on it fails
            var runner = new DataParallelRunner(List.of(broken, working), List.of("cpu", "cpu"));
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> runner.run(batches, (b, tokens) -> done.incrementAndGet()));
            assertTrue(e.getMessage().startsWith("inference failed on a device"), e.getMessage());
            int atReturn = done.get();
            Thread.sleep(200);
            assertEquals(atReturn, done.get(), "a device went on predicting after run() returned");
        }
    }

    @Test
    void ttaAveragesTheSwappedBackPrediction() throws Exception {
        try (DecoderClassifier g = load(Placement.single(Device.cpu()))) {
            SingleDeviceRunner runner = new SingleDeviceRunner(g);
            Predictions tta = new Predictor(runner, inference(true, 4096), s -> {})
                    .predict(rows, encoder::encode, "tta");
            Predictor plain = new Predictor(runner, inference(false, 4096), s -> {});
            Predictions ab = plain.predict(rows, encoder::encode, "ab");
            Predictions ba = plain.predict(rows.stream().map(Conversation::swapped).toList(), encoder::encode, "ba");
            for (int i = 0; i < rows.size(); i++) {
                double[] expected = {(ab.probs()[i][0] + ba.probs()[i][1]) / 2,
                    (ab.probs()[i][1] + ba.probs()[i][0]) / 2, (ab.probs()[i][2] + ba.probs()[i][2]) / 2};
                assertArrayEquals(expected, tta.probs()[i], 1e-6, "row " + i); // float32, other batch mates
                assertEquals(1, tta.probs()[i][0] + tta.probs()[i][1] + tta.probs()[i][2], 1e-9);
                assertEquals(Math.log(expected[2]), tta.logits()[i][2], 1e-5);
            }
            // a random model still prefers one side: the swap makes a difference worth averaging away
            assertTrue(Math.abs(ab.probs()[0][0] - ba.probs()[0][1]) > 1e-6);
        }
    }
}
