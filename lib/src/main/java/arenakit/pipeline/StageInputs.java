package arenakit.pipeline;

import arenakit.infer.SubmissionConfig;
import arenakit.train.PseudoLabelConfig;
import arenakit.train.TrainConfig;
import arenakit.util.Fingerprint;
import arenakit.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a stage is made from, as a {@link Fingerprint} its run records in {@code <stage>/inputs.json}: its config,
 * the data files it reads, the tokenizer, the base model, and the recorded inputs of the stages (or the folders)
 * whose models it uses. A finished stage is skipped on a later run only while these are the same; otherwise the
 * run stops and says what changed, instead of building on outputs of another setup.
 */
final class StageInputs {
    static final String FILE = "inputs.json";

    private StageInputs() {}

    /** The current inputs of {@code stage} (prepares the sample, tokenizer and tiny base model when needed). */
    static Fingerprint of(Pipeline p, String stage) throws IOException {
        Fingerprint.Builder b = Fingerprint.builder();
        Inputs.Files files = p.inputs().files();
        Object config = p.stageConfig(stage);
        if (config == null) { // eda: the data and the prompt format it counts tokens in
            b.file("tokenizer", p.tokenizer().file());
            b.json("config", firstFormat(p));
            b.file("data.train", files.train()).file("data.test", files.test());
            return b.build();
        }
        b.json("config", config instanceof TrainConfig t0 ? t0.fingerprintJson() : config);
        if (config instanceof TrainConfig t) {
            BaseModels.Base base = p.base(t.model().baseModel()); // the stage's own base, tokenizer and template
            b.file("tokenizer", base.tokenizer().file()).tree("base model", base.checkpoint())
                    .text("template", p.encoder(base, t.data().text()).template().name());
            if (t.distill() != null) {
                b.files("distill.teachers", t.distill().teachers().stream().map(x -> Path.of(x.logits())).toList());
            }
            b.file("data.train", files.train()).files("data.external", files.external());
            if (t.model().loadFrom() != null) {
                reference(p, b, t.model().loadFrom());
            }
            if (t.data().sources().contains(TrainConfig.Data.PSEUDO_LABELS)) {
                b.files("data.unlabeled", files.unlabeled());
                reference(p, b, p.pseudoLabelSource(stage));
            }
        } else if (config instanceof PseudoLabelConfig pl) {
            b.tree("base model", p.baseModel());
            b.files("data.unlabeled", files.unlabeled());
            for (var m : pl.models()) {
                reference(p, b, m.model());
            }
        } else if (config instanceof AverageConfig a) {
            for (var m : a.models()) {
                reference(p, b, m.model());
            }
        } else if (config instanceof SubmissionConfig s) {
            b.tree("base model", p.baseModel());
            b.file("data.test", files.test()).file("data.sample_submission", files.sampleSubmission());
            for (var m : s.models()) {
                reference(p, b, m.model());
            }
        }
        return b.build();
    }

    private static String firstFormat(Pipeline p) {
        for (String s : p.experiment().stages()) {
            if (p.stageConfig(s) instanceof TrainConfig t) {
                return t.data().text().format();
            }
        }
        return null;
    }

    /** A stage of this setup by its recorded inputs; a folder by its files. */
    private static void reference(Pipeline p, Fingerprint.Builder b, String ref) throws IOException {
        if (ref == null) {
            return;
        }
        if (p.experiment().stages().contains(ref)) {
            b.part("stage " + ref, read(p.stageDir(ref)).map(Fingerprint::digest).orElse("unrecorded"));
        } else {
            b.tree("model " + ref, Path.of(ref).toAbsolutePath().normalize());
        }
    }

    static java.util.Optional<Fingerprint> read(Path stageDir) throws IOException {
        Path f = stageDir.resolve(FILE);
        return Files.isRegularFile(f) ? java.util.Optional.of(Json.read(f, Fingerprint.class))
                : java.util.Optional.empty();
    }

    static void write(Path stageDir, Fingerprint inputs) throws IOException {
        Json.write(stageDir.resolve(FILE), inputs);
    }

    /**
     * Fails when a finished stage was made from other inputs than it would be now, naming what changed (for the
     * config, the keys and values).
     */
    static void checkUnchanged(Pipeline p, String stage) throws IOException {
        Path dir = p.stageDir(stage);
        java.util.Optional<Fingerprint> recorded = read(dir);
        String redo = ". Its outputs do not belong to this setup: delete " + dir + " (and the stages that use it) to "
                + "run it again, or choose another --out";
        if (recorded.isEmpty()) {
            throw new ConfigException("stage '" + stage + "' finished earlier (" + dir.resolve(StageSummary.FILE)
                    + "), but an earlier arena-kit ran it and did not record its inputs (" + FILE + "), so they cannot "
                    + "be checked" + redo);
        }
        List<String> changed = recorded.get().differences(of(p, stage));
        if (changed.isEmpty()) {
            return;
        }
        List<String> what = new ArrayList<>();
        for (String part : changed) {
            String copy = p.stageConfig(stage) instanceof AverageConfig ? AverageStage.CONFIG_COPY : "stage.json";
            if (part.equals("config") && Files.isRegularFile(dir.resolve(copy))
                    && p.stageConfig(stage) != null) {
                List<String> diff = Json.differences(Json.MAPPER.readTree(dir.resolve(copy).toFile()),
                        Json.MAPPER.readTree(p.folder().text(stage + ".json")));
                what.add(p.folder().where(stage + ".json") + (diff.isEmpty() ? "" : " (" + String.join("; ", diff)
                        + ")"));
            } else {
                what.add(part);
            }
        }
        throw new ConfigException("stage '" + stage + "' finished earlier (" + dir.resolve(StageSummary.FILE)
                + ") from other inputs than this setup gives it now; changed: " + String.join(", ", what) + redo);
    }
}
