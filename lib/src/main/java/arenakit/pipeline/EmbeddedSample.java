package arenakit.pipeline;

import arenakit.data.SampleGenerator;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The data files of a setup: the configured paths, or (no {@code data.train}) the embedded sample, generated into
 * {@code <out>/data/} by the data layer's {@link SampleGenerator} with the setup's {@code sample} options. A
 * sample already there with the same options is reused.
 */
final class EmbeddedSample {
    static final String OPTIONS_FILE = "sample-options.json";

    private EmbeddedSample() {}

    static Inputs.Files resolve(ExperimentConfig experiment, Path dataDir, Consumer<String> log) throws IOException {
        ExperimentConfig.DataFiles d = experiment.data();
        if (d.train() != null) {
            if (d.test() == null || d.sampleSubmission() == null) {
                throw new ConfigException("pipeline.json: data.train is set, so data.test and data.sample_submission "
                        + "must be set too");
            }
            return new Inputs.Files(existing(d.train()), existing(d.test()), existing(d.sampleSubmission()), null,
                    d.external().stream().map(EmbeddedSample::existing).toList(),
                    d.unlabeled().stream().map(EmbeddedSample::existing).toList());
        }
        SampleGenerator.Options options = options(experiment.sample());
        Path stamp = dataDir.resolve(OPTIONS_FILE);
        SampleGenerator.SampleFiles files = SampleGenerator.SampleFiles.in(dataDir);
        boolean fresh = Files.isRegularFile(stamp)
                && Json.read(stamp, SampleGenerator.Options.class).equals(options)
                && Files.isRegularFile(files.preference());
        if (fresh) {
            log.accept("embedded sample in " + dataDir + " (reused)");
        } else {
            files = SampleGenerator.write(dataDir, options);
            Json.write(stamp, options);
            log.accept(String.format("embedded sample: %d train, %d test, %d external, %d preference rows "
                    + "(signal %.2f, seed %d) -> %s", options.trainRows(), options.testRows(), options.externalRows(),
                    options.preferenceRows(), options.signal(), options.seed(), dataDir));
        }
        return new Inputs.Files(files.train(), files.test(), files.sampleSubmission(), files.solution(),
                options.externalRows() > 0 ? List.of(files.external()) : List.of(),
                options.preferenceRows() > 0 ? List.of(files.preference()) : List.of());
    }

    /**
     * The generator's defaults with the config's {@code sample} fields laid over them. Config keys are snake_case
     * ({@code train_rows}, the generator's {@code trainRows}); an unknown key or a bad value is an error.
     */
    static SampleGenerator.Options options(JsonNode sample) {
        Map<String, Object> changes = new LinkedHashMap<>();
        if (sample != null && !sample.isNull()) {
            sample.fields().forEachRemaining(e -> changes.put(camel(e.getKey()), e.getValue()));
        }
        try {
            return SampleGenerator.Options.defaults().with(changes);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("pipeline.json: invalid 'sample': " + e.getMessage(), e);
        }
    }

    private static String camel(String snake) {
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                b.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return b.toString();
    }

    private static Path existing(String path) {
        Path p = Path.of(path).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new ConfigException("pipeline.json: data file " + p + " does not exist");
        }
        return p;
    }
}
