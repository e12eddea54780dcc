package arenakit.pipeline;

import arenakit.text.ChatTemplate;
import arenakit.text.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The base models of a setup: pipeline.json's {@code base_model} (named {@code default}) with its {@code tokenizer}
 * and {@code template}, and the named entries of {@code base_models}. Each is resolved on first use: its tokenizer,
 * its checkpoint folder (a tiny random one is written then), its chat template (named, or its family's).
 */
final class BaseModels {
    private final Pipeline pipeline;
    private final Map<String, Base> bases = new LinkedHashMap<>();

    BaseModels(Pipeline pipeline, ExperimentConfig experiment, String where) {
        this.pipeline = pipeline;
        bases.put(ExperimentConfig.DEFAULT_BASE, new Base(ExperimentConfig.DEFAULT_BASE, experiment.baseModel(),
                experiment.tokenizer(), experiment.template(), where));
        experiment.baseModels().forEach((name, b) -> bases.put(name,
                new Base(name, b.baseModel(), b.tokenizer(), b.template(), where + " base_models." + name)));
    }

    /** A base by name; null = {@code default}. */
    Base get(String name) {
        Base b = bases.get(name == null ? ExperimentConfig.DEFAULT_BASE : name);
        if (b == null) {
            throw new ConfigException("no base model '" + name + "' (pipeline.json has " + names() + ")");
        }
        return b;
    }

    boolean has(String name) {
        return name == null || bases.containsKey(name);
    }

    List<String> names() {
        return List.copyOf(bases.keySet());
    }

    /** Whether any base has loaded its tokenizer or written or found its checkpoint yet. */
    boolean inUse() {
        return bases.values().stream().anyMatch(b -> b.tokenizer != null || b.checkpoint != null);
    }

    List<Base> all() {
        return new ArrayList<>(bases.values());
    }

    /**
     * The {@code model_type} of a base without loading it: config.json's for a checkpoint; for a tiny model the
     * family it is written in. The one place a base's family is read.
     */
    static String modelType(ExperimentConfig.BaseModel spec) throws IOException {
        if (spec.checkpoint() != null) {
            return Architecture.modelType(Path.of(spec.checkpoint()));
        }
        return spec.tiny().modelType();
    }

    /** One base model: where it comes from, and (once asked for) its tokenizer, checkpoint and template. */
    final class Base {
        private final String name;
        private final ExperimentConfig.BaseModel spec;
        private final String tokenizerSpec;
        private final String templateName;
        private final String where;
        private Tokenizer tokenizer;
        private Path checkpoint;
        private ChatTemplate template;

        private Base(String name, ExperimentConfig.BaseModel spec, String tokenizerSpec, String templateName,
                String where) {
            this.name = name;
            this.spec = spec;
            this.tokenizerSpec = tokenizerSpec;
            this.templateName = templateName;
            this.where = where;
        }

        String name() {
            return name;
        }

        ExperimentConfig.BaseModel spec() {
            return spec;
        }

        /** Its tokenizer (shared with every base and trained stage whose tokenizer file has the same bytes). */
        synchronized Tokenizer tokenizer() throws IOException {
            if (tokenizer == null) {
                tokenizer = pipeline.tokenizerAt(Tokenizers.file(tokenizerSpec, spec, where, pipeline));
            }
            return tokenizer;
        }

        /** Its checkpoint folder; a tiny one is written into the output folder first. */
        synchronized Path checkpoint() throws IOException {
            if (checkpoint == null) {
                pipeline.startEngine();
                Path dir = pipeline.out().resolve(name.equals(ExperimentConfig.DEFAULT_BASE) ? "base-model"
                        : "base-model-" + name);
                checkpoint = Models.baseCheckpoint(spec, tokenizer(), dir, pipeline.log("model"));
            }
            return checkpoint;
        }

        /** Its chat template: the configured one, else its family's. */
        synchronized ChatTemplate template() throws IOException {
            if (template == null) {
                if (templateName != null) {
                    template = ChatTemplate.forName(templateName);
                } else {
                    String type = modelType(spec);
                    try {
                        template = ChatTemplate.forModelType(type);
                    } catch (IllegalArgumentException e) {
                        throw new ConfigException(where + ": " + e.getMessage(), e);
                    }
                }
            }
            return template;
        }

        /** Its family and shape, from the checkpoint's config.json. */
        Architecture architecture() throws IOException {
            return Architecture.of(checkpoint());
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
