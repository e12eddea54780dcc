package arenakit.pipeline;

import arenakit.model.lora.AdapterAverage;
import arenakit.model.lora.PeftAdapter;
import arenakit.train.TrainConfig;
import arenakit.util.AtomicFiles;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * LoRA averaging of trained models ({@link AdapterAverage}) with what makes the result a trained model of its own:
 * averaging stage folders (stage.json + adapter/ + encoding.json, e.g. the folds of stage 3) gives a stage folder
 * with the same head, input format, tokenizer and base, its stage.json's LoRA at the new rank; averaging bare PEFT
 * adapter folders gives a bare adapter folder. Either way {@code average.json} reports the weights, the rank and the
 * approximation error per module. Used by the {@code average} stage kind and the {@code average-adapters} command.
 */
public final class AdapterAveraging {
    /** The report next to the result. */
    public static final String REPORT = "average.json";

    private AdapterAveraging() {}

    /**
     * Averages folders, each a trained stage (stage.json + adapter/) or a bare PEFT adapter, with weights (null: 1
     * each) at {@code rank} (null: the sum of the ranks, exact) into {@code out}: a stage folder when every input is
     * one, else a bare adapter folder.
     */
    public static AdapterAverage.Report average(List<Path> folders, List<Double> weights, Integer rank, Path out,
            Consumer<String> log) throws IOException {
        if (weights != null && weights.size() != folders.size()) {
            throw new IllegalArgumentException(weights.size() + " weights for " + folders.size() + " adapters");
        }
        List<TrainedModel> models = new ArrayList<>();
        for (Path f : folders) {
            Path dir = f.toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new IOException(dir + " does not exist (a trained stage folder or a PEFT adapter folder)");
            }
            models.add(TrainedModel.isPeftAdapter(dir) ? new TrainedModel(dir.toString(), dir, null, dir, null)
                    : TrainedModel.of(dir.toString(), dir));
        }
        List<Double> w = weights != null ? weights : folders.stream().map(x -> 1.0).toList();
        return averageModels(models, w, rank, out, log);
    }

    /** The same over trained models (a setup's stages); {@code config} null marks a bare adapter. */
    static AdapterAverage.Report averageModels(List<TrainedModel> models, List<Double> weights, Integer rank, Path out,
            Consumer<String> log) throws IOException {
        boolean stages = models.stream().allMatch(m -> m.config() != null);
        List<AdapterAverage.Input> inputs = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            TrainedModel m = models.get(i);
            if (m.config() != null && m.config().model().lora() == null) {
                throw new IOException(m.dir() + " fine-tuned every weight (no LoRA adapter): only LoRA adapters can be "
                        + "averaged");
            }
            inputs.add(new AdapterAverage.Input(PeftAdapter.read(m.weights()), weights.get(i)));
        }
        if (stages) {
            checkSameModel(models, log);
        }
        Path adapterDir = stages ? out.resolve(TrainedModel.ADAPTER) : out;
        String base = baseName(inputs);
        AdapterAverage.Report report = AdapterAverage.average(inputs, rank, adapterDir, base);
        if (stages) {
            TrainedModel first = models.get(0);
            writeStage(out, first, report);
        }
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.set("inputs", Json.MAPPER.valueToTree(models.stream().map(m -> m.dir().toString()).toList()));
        n.set("report", Json.MAPPER.valueToTree(report));
        Json.write(out.resolve(REPORT), n);
        log.accept(report.summary());
        return report;
    }

    /** Folds and seeds of one model: the same head, input format, base and tokenizer (max_length may differ). */
    private static void checkSameModel(List<TrainedModel> models, Consumer<String> log) throws IOException {
        TrainedModel first = models.get(0);
        for (TrainedModel m : models.subList(1, models.size())) {
            List<String> differ = new ArrayList<>();
            TrainConfig.Model a = first.config().model();
            TrainConfig.Model b = m.config().model();
            if (!a.head().equals(b.head())) {
                differ.add("model.head " + a.head() + " vs " + b.head());
            }
            if (!Objects.equals(a.baseModel(), b.baseModel())) {
                differ.add("model.base_model " + a.baseModel() + " vs " + b.baseModel());
            }
            TrainConfig.Text ta = first.config().data().text();
            TrainConfig.Text tb = m.config().data().text();
            if (!ta.format().equals(tb.format()) || !ta.truncation().equals(tb.truncation())
                    || !Objects.equals(ta.template(), tb.template())) {
                differ.add("data.text " + ta.format() + "/" + ta.truncation() + " vs " + tb.format() + "/"
                        + tb.truncation());
            }
            StageEncoding ea = first.encoding();
            StageEncoding eb = m.encoding();
            if ((ea == null) != (eb == null)) {
                differ.add("encoding.json in one folder only");
            } else if (ea != null) {
                if (!ea.architecture().equals(eb.architecture())) {
                    differ.add("base model " + ea.architecture() + " vs " + eb.architecture());
                }
                if (!ea.tokenizerSha256().equals(eb.tokenizerSha256()) || !ea.template().equals(eb.template())) {
                    differ.add("tokenizer or chat template");
                }
            }
            if (!differ.isEmpty()) {
                throw new IOException(m.dir() + " is not a fold or seed of the same model as " + first.dir()
                        + ": " + String.join("; ", differ) + " (average adapters trained with one setup of one base)");
            }
            if (ta.maxLength() != tb.maxLength()) {
                log.accept("note: " + m.dir() + " trained at max_length " + tb.maxLength() + ", " + first.dir() + " at "
                        + ta.maxLength() + ": the average is recorded with " + ta.maxLength());
            }
        }
    }

    /** base_model_name_or_path of the first adapter (provenance only). */
    private static String baseName(List<AdapterAverage.Input> inputs) throws IOException {
        var n = arenakit.model.io.ConfigJson.parse(inputs.get(0).adapter().configFile()).get("base_model_name_or_path");
        return n == null || !n.isTextual() ? "" : n.textValue();
    }

    /**
     * stage.json (the first model's training config, its LoRA at the result's rank and alpha, no PiSSA init: the
     * average is a plain LoRA), encoding.json and the tokenizer copy of the first stage folder.
     */
    private static void writeStage(Path out, TrainedModel first, AdapterAverage.Report report) throws IOException {
        TrainConfig c = first.config();
        TrainConfig.Model m = c.model();
        TrainConfig.Lora l = m.lora();
        TrainConfig.Lora averaged = new TrainConfig.Lora(report.rank(), report.alpha(), l.dropout(), l.targets(), false);
        TrainConfig.Model model = new TrainConfig.Model(m.head(), averaged, m.loadFrom(), m.dtype(), m.baseModel());
        TrainConfig stage = new TrainConfig(c.kind(), c.description(), model, c.data(), c.optimizer(), c.schedule(),
                c.loader(), c.train(), c.distill());
        AtomicFiles.writeString(out.resolve("stage.json"), Json.MAPPER.writeValueAsString(stage));
        for (String file : List.of(StageEncoding.FILE, StageEncoding.TOKENIZER)) {
            Path from = first.dir().resolve(file);
            if (Files.isRegularFile(from)) {
                Path tmp = out.resolve(file + ".tmp");
                Files.copy(from, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, out.resolve(file), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }
}
