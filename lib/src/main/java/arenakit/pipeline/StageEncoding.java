package arenakit.pipeline;

import arenakit.text.PromptEncoder;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * How a training stage encoded its rows and on which base, as its folder's {@code encoding.json} records it next to
 * {@code stage.json}, {@code adapter/} and a copy of the tokenizer ({@code tokenizer.json}): everything inference
 * needs to encode rows the same way, also when the folder is copied elsewhere (a Kaggle dataset) where the base
 * checkpoint lies under another path.
 *
 * @param baseModel the setup's name for the base ({@code default} = pipeline.json's {@code base_model})
 * @param checkpoint where the base checkpoint was at training time
 * @param architecture the base's family and shape (inference checks the base it finds against it)
 * @param tokenizer the tokenizer file in the stage folder
 * @param tokenizerSha256 its SHA-256
 * @param template the chat template
 * @param format the prompt format
 * @param truncation the truncation policy
 * @param maxLength the token budget of one input (after rounding to a multiple of 16)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record StageEncoding(String baseModel, String checkpoint, Architecture architecture, String tokenizer,
        String tokenizerSha256, String template, String format, String truncation, int maxLength) {
    static final String FILE = "encoding.json";
    static final String TOKENIZER = "tokenizer.json";

    /**
     * Writes {@code encoding.json} and the tokenizer copy into a stage folder. (A stage that resumes from a checkpoint
     * encodes as it started, or the checkpoint is refused: the trainer fingerprints the rows as tokens.)
     */
    static StageEncoding write(Path stageDir, String baseModel, Path checkpoint, PromptEncoder encoder)
            throws IOException {
        StageEncoding e = new StageEncoding(baseModel, checkpoint.toString(), Architecture.of(checkpoint), TOKENIZER,
                encoder.tokenizer().sha256(), encoder.template().name(), encoder.format().name(),
                encoder.truncation().name(), encoder.maxLength());
        Path copy = stageDir.resolve(TOKENIZER);
        Path source = encoder.tokenizer().file().toAbsolutePath().normalize();
        if (!source.equals(copy.toAbsolutePath().normalize())) {
            Path tmp = stageDir.resolve(TOKENIZER + ".tmp");
            Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        Json.write(stageDir.resolve(FILE), e);
        return e;
    }

    private StageEncoding withCheckpoint(String path) {
        return new StageEncoding(baseModel, path, architecture, tokenizer, tokenizerSha256, template, format,
                truncation, maxLength);
    }

    /** The folder's record, if it has one (stage folders written before it existed have none). */
    static Optional<StageEncoding> read(Path stageDir) throws IOException {
        Path file = stageDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.read(file, StageEncoding.class));
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
