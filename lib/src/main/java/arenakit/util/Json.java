package arenakit.util;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Path;

/** The project's one Jackson mapper: strict on unknown fields (a typo in a config is an error), pretty output. */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private Json() {}

    /**
     * Reads a JSON file. Bad content is an IOException naming the file, line and column: Jackson's own message
     * leaves the source out ("REDACTED") since 2.16.
     */
    public static <T> T read(Path file, Class<T> type) throws IOException {
        try {
            return MAPPER.readValue(file.toFile(), type);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new IOException(file + (at == null ? "" : " line " + at.getLineNr() + " column " + at.getColumnNr())
                    + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Pretty JSON, written atomically. */
    public static void write(Path file, Object value) throws IOException {
        // AtomicFiles closes the stream itself, after the write succeeded
        AtomicFiles.write(file, out -> MAPPER.writer().without(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
                .writeValue(out, value));
    }
}
