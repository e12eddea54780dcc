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

/** The read-only ../shared/fixtures/gemma2-tiny checkpoint; tests using it skip when ../shared is absent. */
final class SharedFixture {
    private SharedFixture() {}

    static Path gemma2Tiny() {
        Path dir = ArenaHome.find().map(h -> h.resolve("../shared/fixtures/gemma2-tiny").normalize())
                .orElse(Path.of("../shared/fixtures/gemma2-tiny"));
        Assumptions.assumeTrue(Files.isDirectory(dir), "../shared/fixtures/gemma2-tiny is absent: parity skipped");
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
