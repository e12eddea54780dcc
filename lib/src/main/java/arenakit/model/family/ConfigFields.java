package arenakit.model.family;

import arenakit.model.io.ConfigJson;
import arenakit.model.layers.Activation;
import arenakit.model.layers.Rope;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Reading and writing the config.json fields the families share, the same way for each. */
final class ConfigFields {
    static final String FULL = "full_attention";
    static final String SLIDING = "sliding_attention";

    private ConfigFields() {}

    /** The sizes every family checks the same way. */
    static void checkSizes(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
            int numAttentionHeads, int numKeyValueHeads, int headDim, int numLabels) {
        requirePositive("vocab_size", vocabSize);
        requirePositive("hidden_size", hiddenSize);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("num_hidden_layers", numHiddenLayers);
        requirePositive("num_attention_heads", numAttentionHeads);
        requirePositive("num_key_value_heads", numKeyValueHeads);
        requirePositive("head_dim", headDim);
        requirePositive("num_labels", numLabels);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads
                    + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + headDim);
        }
    }

    static void requirePositive(String field, double v) {
        if (!(v > 0)) {
            throw new IllegalArgumentException(field + " must be positive, got " + v);
        }
    }

    /** {@code num_labels}, else the size of {@code id2label}, else transformers' default 2. */
    static int numLabels(ConfigJson c) {
        if (c.present("num_labels")) {
            return c.intOr("num_labels", 2);
        }
        ConfigJson id2label = c.object("id2label");
        return id2label == null ? 2 : id2label.node().size();
    }

    /** The MLP activation named by {@code key}; one outside {@code allowed} is an error. */
    static Activation activation(ConfigJson c, String key, String fallback, String family, Activation... allowed) {
        String name = c.stringOr(key, fallback);
        Activation a = Activation.byName(name);
        for (Activation ok : allowed) {
            if (ok == a) {
                return a;
            }
        }
        List<String> names = new ArrayList<>();
        for (Activation ok : allowed) {
            names.add(ok.hfName());
        }
        throw c.error(key, name + " is not supported for " + family + " (supported: " + String.join(", ", names) + ")");
    }

    /** attention_dropout must be 0: dropout on attention probabilities is not implemented. */
    static void noAttentionDropout(ConfigJson c) {
        double p = c.doubleOr("attention_dropout", 0.0);
        if (p != 0) {
            throw c.error("attention_dropout", p + " is not supported (0 only: dropout on the attention "
                    + "probabilities is not implemented)");
        }
    }

    /**
     * {@code layer_types} ({@code full_attention} / {@code sliding_attention} per layer), or the family's default
     * pattern when absent.
     */
    static List<String> layerTypes(ConfigJson c, int layers, java.util.function.IntPredicate slidingByDefault) {
        List<String> types = c.stringList("layer_types");
        if (types == null) {
            return layerTypes(layers, slidingByDefault);
        }
        if (types.size() != layers) {
            throw c.error("layer_types", "has " + types.size() + " entries for " + layers + " layers");
        }
        for (String t : types) {
            if (!t.equals(FULL) && !t.equals(SLIDING)) {
                throw c.error("layer_types", "entry '" + t + "' is not supported (" + FULL + " or " + SLIDING + ")");
            }
        }
        return types;
    }

    /** Checks a layer_types list given in code (the reader checks config.json's). */
    static List<String> checkLayerTypes(List<String> types, int layers) {
        if (types.size() != layers) {
            throw new IllegalArgumentException("layer_types has " + types.size() + " entries for " + layers
                    + " layers");
        }
        for (String t : types) {
            if (!t.equals(FULL) && !t.equals(SLIDING)) {
                throw new IllegalArgumentException("layer_types entry '" + t + "' is not " + FULL + " or " + SLIDING);
            }
        }
        return List.copyOf(types);
    }

    /** The default pattern: layer i sliding when {@code sliding.test(i)}. */
    static List<String> layerTypes(int layers, java.util.function.IntPredicate sliding) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            out.add(sliding.test(i) ? SLIDING : FULL);
        }
        return List.copyOf(out);
    }

    /** {@code rope_theta}: top level (transformers 4), or inside {@code rope_parameters} (transformers 5). */
    static double ropeTheta(ConfigJson c, double fallback) {
        ConfigJson params = ropeParameters(c);
        double theta = params != null && params.has("rope_theta") ? params.doubleOr("rope_theta", fallback)
                : c.doubleOr("rope_theta", fallback);
        requirePositive("rope_theta", theta);
        return theta;
    }

    /**
     * The RoPE scaling of {@code rope_scaling} (transformers 4) or {@code rope_parameters} (5): default, linear or
     * llama3; any other type is an error, as are the two fields disagreeing.
     */
    static Rope.Scaling ropeScaling(ConfigJson c) {
        ConfigJson v4 = c.object("rope_scaling");
        ConfigJson v5 = ropeParameters(c);
        Rope.Scaling a = v4 == null ? null : scaling(v4);
        Rope.Scaling b = v5 == null ? null : scaling(v5);
        if (a != null && b != null && !a.equals(b)) {
            throw new IllegalArgumentException("rope_scaling " + a + " and rope_parameters " + b + " disagree");
        }
        return a != null ? a : b != null ? b : Rope.NONE;
    }

    /** {@code rope_parameters} as one object: flat, or per layer type when every layer type has the same. */
    private static ConfigJson ropeParameters(ConfigJson c) {
        ConfigJson p = c.object("rope_parameters");
        if (p == null || p.node().has("rope_type") || p.node().has("type") || p.node().has("rope_theta")) {
            return p;
        }
        JsonNode first = null;
        String firstKey = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = p.node().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (first == null) {
                first = e.getValue();
                firstKey = e.getKey();
            } else if (!first.equals(e.getValue())) {
                throw new IllegalArgumentException("rope_parameters differ between layer types (" + firstKey + " vs "
                        + e.getKey() + "): not supported");
            }
        }
        return firstKey == null ? null : p.object(firstKey);
    }

    private static Rope.Scaling scaling(ConfigJson s) {
        String type = s.has("rope_type") ? s.stringOr("rope_type", "default") : s.stringOr("type", "default");
        return switch (type) {
            case "default" -> Rope.NONE;
            case "linear" -> new Rope.Linear(requiredNumber(s, "factor"));
            case "llama3" -> new Rope.Llama3(requiredNumber(s, "factor"), requiredNumber(s, "low_freq_factor"),
                    requiredNumber(s, "high_freq_factor"), s.requiredInt("original_max_position_embeddings"));
            default -> throw s.error("rope_type", "'" + type + "' is not supported (supported: default, linear, "
                    + "llama3)");
        };
    }

    private static double requiredNumber(ConfigJson s, String key) {
        if (!s.has(key)) {
            throw s.error(key, "is missing");
        }
        return s.doubleOr(key, 0);
    }

    /** Writes {@code rope_theta} and {@code rope_scaling} as transformers 4 does (5 reads them too). */
    static void putRope(ObjectNode n, double theta, Rope.Scaling scaling) {
        n.put("rope_theta", theta);
        if (scaling instanceof Rope.Llama3 s) {
            ObjectNode r = n.putObject("rope_scaling");
            r.put("rope_type", "llama3");
            r.put("factor", s.factor());
            r.put("low_freq_factor", s.lowFreqFactor());
            r.put("high_freq_factor", s.highFreqFactor());
            r.put("original_max_position_embeddings", s.originalMaxPositionEmbeddings());
        } else if (scaling instanceof Rope.Linear l) {
            n.putObject("rope_scaling").put("rope_type", "linear").put("factor", l.factor());
        } else {
            n.putNull("rope_scaling");
        }
    }

    /** {@code eos_token_id} as one id or a list (what transformers writes). */
    static void putTokenIds(ObjectNode n, Integer pad, Integer bos, List<Integer> eos) {
        putNullable(n, "pad_token_id", pad);
        putNullable(n, "bos_token_id", bos);
        if (eos.isEmpty()) {
            n.putNull("eos_token_id");
        } else if (eos.size() == 1) {
            n.put("eos_token_id", eos.get(0));
        } else {
            eos.forEach(n.putArray("eos_token_id")::add);
        }
    }

    /** id2label and label2id of a sequence classifier with {@code numLabels} labels. */
    static void putLabels(ObjectNode n, int numLabels) {
        ObjectNode id2label = n.putObject("id2label");
        ObjectNode label2id = n.putObject("label2id");
        for (int i = 0; i < numLabels; i++) {
            id2label.put(Integer.toString(i), "LABEL_" + i);
            label2id.put("LABEL_" + i, i);
        }
    }

    /** A number field, or JSON null as transformers writes an unset optional (Jackson keeps int vs float). */
    static void putNullable(ObjectNode n, String field, Number v) {
        n.set(field, Json.MAPPER.valueToTree(v));
    }

    /** The beginning of every config.json this project writes: architecture, model type and the sizes. */
    static ObjectNode header(String architecture, DecoderConfig c) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.putArray("architectures").add(architecture);
        n.put("model_type", c.modelType());
        n.put("vocab_size", c.vocabSize());
        n.put("hidden_size", c.hiddenSize());
        n.put("intermediate_size", c.intermediateSize());
        n.put("num_hidden_layers", c.numHiddenLayers());
        n.put("num_attention_heads", c.numAttentionHeads());
        n.put("num_key_value_heads", c.numKeyValueHeads());
        return n;
    }

    /** The end of every config.json this project writes: dropout (none), init range, dtype, labels. */
    static ObjectNode footer(ObjectNode n, DecoderConfig c, String torchDtype) {
        n.put("attention_dropout", 0.0);
        n.put("initializer_range", c.initializerRange());
        n.put("torch_dtype", torchDtype);
        putLabels(n, c.numLabels());
        return n;
    }
}
