package arenakit.pipeline;

import arenakit.data.SampleGenerator;
import arenakit.util.Fingerprint;
import arenakit.util.Json;
import arenakit.util.StrictJson;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The data files of a setup: the configured paths, or (no {@code data.train}) the embedded sample, generated into
 * {@code <out>/data/} by the data layer's {@link SampleGenerator} with the setup's {@code sample} options. A
 * sample already there is reused only when it was made with the same options and its files are unchanged
 * ({@code sample-options.json} records both); otherwise it is generated again.
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
        SampleGenerator.Options options = options(experiment.sample(), "pipeline.json");
        Path stampFile = dataDir.resolve(OPTIONS_FILE);
        SampleGenerator.SampleFiles files = SampleGenerator.SampleFiles.in(dataDir);
        String stale = staleness(stampFile, options, files);
        if (stale == null) {
            log.accept("embedded sample in " + dataDir + " (reused: same options, files unchanged)");
        } else {
            if (Files.exists(stampFile)) {
                log.accept("embedded sample in " + dataDir + ": " + stale + ", generating it again");
            }
            files = SampleGenerator.write(dataDir, options);
            Json.write(stampFile, new Stamp(options, filesFingerprint(files)));
            log.accept(String.format("embedded sample: %d train, %d test, %d external, %d preference rows "
                    + "(signal %.2f, seed %d) -> %s", options.trainRows(), options.testRows(), options.externalRows(),
                    options.preferenceRows(), options.signal(), options.seed(), dataDir));
        }
        return new Inputs.Files(files.train(), files.test(), files.sampleSubmission(), files.solution(),
                options.externalRows() > 0 ? List.of(files.external()) : List.of(),
                options.preferenceRows() > 0 ? List.of(files.preference()) : List.of());
    }

    /**
     * What {@code sample-options.json} records: the options the sample was generated with and the fingerprint of
     * the files generated, so a sample is reused only when both still hold.
     */
    record Stamp(SampleGenerator.Options options, Fingerprint files) {}

    /** Why the sample in the folder cannot be reused, or null when it can. */
    private static String staleness(Path stampFile, SampleGenerator.Options options,
            SampleGenerator.SampleFiles files) throws IOException {
        if (!Files.isRegularFile(stampFile)) {
            return "no " + OPTIONS_FILE;
        }
        Stamp stamp;
        try {
            stamp = Json.read(stampFile, Stamp.class);
        } catch (Json.Invalid e) {
            return OPTIONS_FILE + " is unreadable or from an earlier version";
        }
        if (!stamp.options().equals(options)) {
            return "the sample options changed (" + String.join("; ", Json.differences(
                    Json.MAPPER.valueToTree(stamp.options()), Json.MAPPER.valueToTree(options))) + ")";
        }
        for (Path f : all(files)) {
            if (!Files.isRegularFile(f)) {
                return f.getFileName() + " is missing";
            }
        }
        List<String> changed = stamp.files().differences(filesFingerprint(files));
        return changed.isEmpty() ? null : "generated file(s) " + changed + " changed since";
    }

    private static List<Path> all(SampleGenerator.SampleFiles f) {
        return List.of(f.train(), f.test(), f.sampleSubmission(), f.solution(), f.external(), f.preference());
    }

    private static Fingerprint filesFingerprint(SampleGenerator.SampleFiles files) throws IOException {
        Fingerprint.Builder b = Fingerprint.builder();
        for (Path f : all(files)) {
            b.file(f.getFileName().toString(), f);
        }
        return b.build();
    }

    /**
     * The generator's defaults with the config's {@code sample} fields laid over them. Config keys are snake_case
     * ({@code train_rows}, the generator's {@code trainRows}); every key left out takes the generator's default. An
     * unknown key, a wrong JSON type (checked as strictly as every config) or a bad value is an error naming
     * {@code source}.
     */
    static SampleGenerator.Options options(JsonNode sample, String source) {
        Map<String, Object> changes = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        if (sample != null && !sample.isNull()) {
            if (!sample.isObject()) {
                throw new ConfigException(source + ": 'sample' must be an object of generator options or null, got "
                        + sample);
            }
            Map<String, RecordComponent> known = StrictJson.keys(SampleGenerator.Options.class);
            sample.fields().forEachRemaining(e -> {
                RecordComponent rc = known.get(camel(e.getKey()));
                if (rc == null || !e.getKey().equals(snake(rc.getName()))) {
                    problems.add("unknown field 'sample." + e.getKey() + "' (known: " + known.keySet().stream()
                            .map(EmbeddedSample::snake).sorted().collect(Collectors.joining(", ")) + ")");
                    return;
                }
                problems.addAll(StrictJson.check(e.getValue(), rc.getGenericType(), "sample." + e.getKey(), null));
                changes.put(rc.getName(), e.getValue());
            });
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.stream().map(q -> source + ": " + q).collect(Collectors.joining("\n")));
        }
        try {
            return SampleGenerator.Options.defaults().with(changes);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source + ": invalid 'sample': " + e.getMessage(), e);
        }
    }

    private static String snake(String camel) {
        return new com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy().translate(camel);
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
