package arenakit.model;

import arenakit.util.ArenaHome;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The read-only checkpoints of ../shared/fixtures (gemma2-tiny, llama3-tiny, qwen2-tiny) with transformers'
 * reference outputs; tests using them skip when ../shared is absent.
 */
final class SharedFixture {
    /** The fixtures with a reference of the forward, the adapter and one training step. */
    static final String[] NAMES = {"gemma2-tiny", "llama3-tiny", "qwen2-tiny"};

    private SharedFixture() {}

    static Path gemma2Tiny() {
        return dir("gemma2-tiny");
    }

    static Path dir(String name) {
        String rel = "../shared/fixtures/" + name;
        Path dir = ArenaHome.find().map(h -> h.resolve(rel).normalize()).orElse(Path.of(rel));
        Assumptions.assumeTrue(Files.isDirectory(dir), rel + " is absent: parity skipped");
        return dir;
    }

    record Case(int[] ids, float[] logits, float[] logitsWithAdapter, float[] lastHidden, float[] hiddenMean) {}

    static List<Case> cases(Path dir) throws IOException {
        JsonNode root = Json.MAPPER.readTree(dir.resolve("expected.json").toFile());
        List<Case> out = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            out.add(new Case(ints(c.get("input_ids")), floats(c.get("logits")), floats(c.get("logits_with_adapter")),
                    floats(c.get("last_hidden")), floats(c.get("hidden_mean"))));
        }
        return out;
    }

    static int[] ints(JsonNode n) {
        int[] a = new int[n.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = n.get(i).asInt();
        }
        return a;
    }

    static float[] floats(JsonNode n) {
        float[] a = new float[n.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) n.get(i).asDouble();
        }
        return a;
    }
}
