package arenakit.train;

import ai.djl.ndarray.types.DataType;
import arenakit.data.Conversation;
import arenakit.data.SampleGenerator;
import arenakit.data.Turn;
import arenakit.model.DecoderClassifier;
import arenakit.model.TinyCheckpoints;
import arenakit.model.family.DecoderConfig;
import arenakit.model.family.Families;
import arenakit.model.io.SafetensorsFile;
import arenakit.model.lora.LoraConfig;
import arenakit.text.PromptEncoder;
import arenakit.text.Tokenizer;
import arenakit.text.WordLevelTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A small generated sample, a word-level tokenizer over it and a tiny random checkpoint (Gemma-2 unless another
 * family is asked for) in a temp folder: what the trainer and inference tests run on (real components, seconds on
 * a CPU).
 */
final class TinySetup implements AutoCloseable {
    final SampleGenerator.Sample sample;
    final Tokenizer tokenizer;
    final PromptEncoder encoder;
    final Path checkpoint;

    TinySetup(Path dir, int trainRows) throws IOException {
        this(dir, trainRows, "gemma2");
    }

    /** With a tiny model of {@code modelType} (gemma2, llama, qwen2). */
    TinySetup(Path dir, int trainRows, String modelType) throws IOException {
        sample = SampleGenerator.generate(SampleGenerator.Options.defaults().withRows(trainRows, 16, 0, 0)
                .withResponseWords(12));
        Set<String> words = new LinkedHashSet<>();
        for (List<Conversation> part : List.of(sample.train(), sample.test())) {
            for (Conversation c : part) {
                for (Turn t : c.turns()) {
                    for (String s : new String[] {t.prompt(), t.responseA(), t.responseB()}) {
                        if (s != null) {
                            words.addAll(List.of(s.split("[^\\p{L}\\p{N}]+")));
                        }
                    }
                }
            }
        }
        tokenizer = Tokenizer.load(WordLevelTokenizer.write(dir.resolve("tokenizer.json"), words));
        encoder = PromptEncoder.of(tokenizer, "rounds", "proportional", 96);
        DecoderConfig config = Families.tiny(modelType, tokenizer.vocabSize(), 32, 64, 2, 2, 1, 16);
        checkpoint = TinyCheckpoints.write(dir.resolve("model"), config, SafetensorsFile.DType.F32, 1, 3);
    }

    /** The checkpoint with fresh LoRA adapters (r = 4 on every projection, the given dropout). */
    DecoderClassifier lora(double dropout) throws IOException {
        return lora(dropout, DataType.FLOAT32);
    }

    /** {@link #lora(double)} computing in {@code dtype} (FLOAT16: base weights and activations; LoRA stays FLOAT32). */
    DecoderClassifier lora(double dropout, DataType dtype) throws IOException {
        return DecoderClassifier.load(checkpoint, DecoderClassifier.Options.defaults().freshHead(true).seed(5)
                .dtype(dtype).log(s -> {}).lora(LoraConfig.of(4, 8, dropout)));
    }

    List<Example> examples() {
        return sample.train().stream().map(Example::labeled).toList();
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
