package arenakit.model.family;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.model.layers.Rope;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json per family: typed and strict about what it reads, transformers' defaults for what is absent. */
class DecoderConfigTest {
    @TempDir
    Path tmp;

    private static ObjectNode llama() {
        return LlamaConfig.of(512, 64, 160, 4, 4, 2, 16).toJson("bfloat16");
    }

    private IOException readError(ObjectNode config) throws Exception {
        Path file = tmp.resolve("config.json");
        Json.write(file, config);
        return assertThrows(IOException.class, () -> Families.read(file));
    }

    @Test
    void everyFamilyReadsBackWhatItWrites() {
        List<DecoderConfig> configs = List.of(Gemma2Config.gemma2_9b(), Gemma2Config.of(300, 32, 64, 3, 4, 4, 8)
                .withAttentionBias(true).withSlidingWindow(null), LlamaConfig.llama31_8b(), LlamaConfig.llama3_8b()
                .withBiases(true, true).withRopeScaling(new Rope.Linear(2)), Qwen2Config.qwen25_14b(),
                Qwen2Config.of(300, 48, 96, 5, 6, 2, 12).withSlidingWindow(16, 3));
        for (DecoderConfig c : configs) {
            assertEquals(c, Families.fromJson(c.toJson("float32")), c.modelType());
        }
    }

    @Test
    void aUnknownOrMissingModelTypeListsTheSupportedOnes() throws Exception {
        ObjectNode c = llama().put("model_type", "mistral");
        assertTrue(readError(c).getMessage().endsWith("config.json: model_type 'mistral' is not supported "
                + "(supported: gemma2, llama, qwen2)"), readError(c).getMessage());
        c.remove("model_type");
        assertTrue(readError(c).getMessage().contains("missing field model_type"), readError(c).getMessage());
    }

    @Test
    void aKnownFieldOfTheWrongTypeNamesFileKeyAndWhatWasExpected() throws Exception {
        assertEquals(tmp.resolve("config.json") + ": num_hidden_layers must be an integer, got \"four\"",
                readError(llama().put("num_hidden_layers", "four")).getMessage());
        assertTrue(readError(llama().put("head_dim", 4.5)).getMessage()
                .endsWith("head_dim must be an integer, got 4.5"));
        assertTrue(readError(llama().put("num_attention_heads", 4.0)).getMessage()
                .endsWith("num_attention_heads must be an integer, got 4.0"));
        assertTrue(readError(llama().put("rms_norm_eps", "1e-5")).getMessage()
                .endsWith("rms_norm_eps must be a number, got \"1e-5\""));
        assertTrue(readError(llama().put("attention_bias", "false")).getMessage()
                .endsWith("attention_bias must be true or false, got \"false\""));
        ObjectNode c = llama();
        ((ObjectNode) c.putObject("rope_scaling")).put("rope_type", "llama3").put("factor", "8")
                .put("low_freq_factor", 1.0).put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        assertTrue(readError(c).getMessage().endsWith("rope_scaling.factor must be a number, got \"8\""),
                readError(c).getMessage());
        assertTrue(readError(llama().putNull("rms_norm_eps")).getMessage()
                .endsWith("rms_norm_eps must be a number, got null"));
    }

    @Test
    void requiredSizesMustBeThere() throws Exception {
        ObjectNode c = llama();
        c.remove("hidden_size");
        assertTrue(readError(c).getMessage().endsWith("config.json: missing field hidden_size"));
        ObjectNode g = Gemma2Config.gemma2_2b().toJson("float32");
        g.remove("num_key_value_heads");
        assertTrue(readError(g).getMessage().endsWith("missing field num_key_value_heads"));
    }

    @Test
    void fieldsThatChangeTheMathButAreNotSupportedAreRefused() throws Exception {
        ObjectNode yarn = llama();
        yarn.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        assertTrue(readError(yarn).getMessage().endsWith("rope_scaling.rope_type 'yarn' is not supported "
                + "(supported: default, linear, llama3)"), readError(yarn).getMessage());
        assertTrue(readError(llama().put("hidden_act", "gelu")).getMessage()
                .endsWith("hidden_act gelu is not supported for Llama (supported: silu)"));
        assertTrue(readError(llama().put("attention_dropout", 0.1)).getMessage()
                .contains("attention_dropout 0.1 is not supported"));
        ObjectNode types = Qwen2Config.of(300, 48, 96, 2, 6, 2, 8).toJson("float32");
        types.putArray("layer_types").add("full_attention").add("chunked_attention");
        assertTrue(readError(types).getMessage().contains("entry 'chunked_attention' is not supported"));
        ObjectNode uneven = llama();
        uneven.remove("head_dim");
        uneven.put("num_attention_heads", 6);
        uneven.put("num_key_value_heads", 3);
        assertTrue(readError(uneven).getMessage().contains("so head_dim must be given"), readError(uneven).getMessage());
        assertTrue(readError(llama().put("num_key_value_heads", 3)).getMessage()
                .contains("num_attention_heads (4) must be a multiple of num_key_value_heads (3)"));
    }

    @Test
    void absentFieldsTakeTransformersDefaults() {
        ObjectNode c = llama();
        c.remove(List.of("head_dim", "num_key_value_heads", "rope_scaling", "rope_theta", "pad_token_id",
                "attention_bias", "mlp_bias", "tie_word_embeddings"));
        c.put("hidden_size", 96).put("num_attention_heads", 6);
        c.put("transformers_version", "4.45.0").put("use_cache", true).put("pretraining_tp", 2); // ignored
        LlamaConfig l = (LlamaConfig) Families.fromJson(c);
        assertEquals(16, l.headDim(), "hidden / heads");
        assertEquals(6, l.numKeyValueHeads(), "multi-head attention");
        assertEquals(10000.0, l.ropeTheta());
        assertEquals(Rope.NONE, l.ropeScaling());
        assertEquals(null, l.padTokenId());
        assertFalse(l.attentionBias() || l.mlpBias() || l.tieWordEmbeddings());
    }

    @Test
    void transformers5RopeParametersReadLikeRopeScaling() {
        ObjectNode v4 = LlamaConfig.llama31_8b().toJson("bfloat16");
        ObjectNode v5 = v4.deepCopy();
        ObjectNode params = (ObjectNode) v5.remove("rope_scaling");
        params.set("rope_theta", v5.remove("rope_theta"));
        v5.set("rope_parameters", params);
        assertEquals(Families.fromJson(v4), Families.fromJson(v5));
        ObjectNode legacy = LlamaConfig.llama31_8b().toJson("bfloat16");
        ObjectNode scaling = (ObjectNode) legacy.get("rope_scaling");
        scaling.set("type", scaling.remove("rope_type")); // the pre-4.43 key
        assertEquals(Families.fromJson(v4), Families.fromJson(legacy));
    }

    @Test
    void qwen2SlidesOnlyWithUseSlidingWindowAndFromMaxWindowLayersOn() {
        ObjectNode off = Qwen2Config.of(300, 48, 96, 4, 6, 2, 8).toJson("float32");
        off.put("sliding_window", 16).put("max_window_layers", 2);
        off.remove("layer_types");
        Qwen2Config q = (Qwen2Config) Families.fromJson(off);
        assertEquals(null, q.slidingWindow());
        assertFalse(q.isSliding(3));
        Qwen2Config on = (Qwen2Config) Families.fromJson(off.put("use_sliding_window", true));
        assertEquals(16, on.slidingWindow());
        assertEquals(List.of(false, false, true, true), List.of(on.isSliding(0), on.isSliding(1), on.isSliding(2),
                on.isSliding(3)));
        assertEquals(8, on.headDim(), "no head_dim: hidden / heads");
    }

    @Test
    void llama3ScalingDividesLowFrequenciesKeepsHighOnesAndBlendsBetween() {
        float[] plain = new Rope(500000, 128, Rope.NONE).inverseFrequencies();
        float[] scaled = new Rope(500000, 128, new Rope.Llama3(8, 1, 4, 8192)).inverseFrequencies();
        int kept = 0;
        int divided = 0;
        for (int i = 0; i < plain.length; i++) {
            double wavelen = 2 * Math.PI / plain[i];
            if (wavelen < 8192 / 4.0) {
                assertEquals(plain[i], scaled[i], 0f);
                kept++;
            } else if (wavelen > 8192 / 1.0) {
                assertEquals(plain[i] / 8, scaled[i], plain[i] * 1e-6);
                divided++;
            } else {
                assertTrue(scaled[i] < plain[i] && scaled[i] > plain[i] / 8, "blended " + i);
            }
        }
        assertTrue(kept > 10 && divided > 10, kept + " kept, " + divided + " divided");
        assertThrows(IllegalArgumentException.class, () -> new Rope.Llama3(8, 4, 4, 8192));
    }
}
