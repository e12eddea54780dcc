package arenakit.eda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Kaggle CSV read the plainest way (Jackson CSV + Jackson JSON, nothing from lib), so that tests can recount what
 * the EDA computed through lib's own readers and compare.
 */
final class IndependentCounts {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One CSV row: the JSON arrays as lists with nulls kept; {@code verdict} 0 = A, 1 = B, 2 = tie, -1 = none. */
    record Row(String modelA, String modelB, List<String> prompt, List<String> a, List<String> b, int verdict) {}

    private IndependentCounts() {}

    static List<Row> read(Path csv) throws IOException {
        CsvMapper mapper = new CsvMapper();
        List<Row> rows = new ArrayList<>();
        try (Reader in = Files.newBufferedReader(csv, StandardCharsets.UTF_8);
                MappingIterator<Map<String, String>> it = mapper.readerForMapOf(String.class)
                        .with(CsvSchema.emptySchema().withHeader()).readValues(in)) {
            while (it.hasNext()) {
                Map<String, String> r = it.next();
                int verdict = "1".equals(r.get("winner_model_a")) ? 0
                        : "1".equals(r.get("winner_model_b")) ? 1
                        : "1".equals(r.get("winner_tie")) ? 2 : -1;
                rows.add(new Row(r.get("model_a"), r.get("model_b"), strings(r.get("prompt")),
                        strings(r.get("response_a")), strings(r.get("response_b")), verdict));
            }
        }
        return rows;
    }

    private static List<String> strings(String jsonArray) throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode n : JSON.readTree(jsonArray)) {
            out.add(n.isNull() ? null : n.asText());
        }
        return out;
    }

    static boolean hasText(List<String> side) {
        return side.stream().anyMatch(s -> s != null && !s.isBlank());
    }

    static long codePoints(List<String> side) {
        return side.stream().filter(s -> s != null).mapToLong(s -> s.codePoints().count()).sum();
    }
}
