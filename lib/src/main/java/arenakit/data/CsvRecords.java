package arenakit.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.dataformat.csv.CsvFactory;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Streams a CSV file (RFC 4180, quoted cells may span lines) as records with the line each starts on, after
 * checking the header against the expected columns. Decoding is strict UTF-8 ({@link StrictUtf8Reader}).
 */
final class CsvRecords {
    // Features go on the factory: a parser hands SKIP_EMPTY_LINES to its decoder when it is created, so enabling
    // it on a parser afterwards has no effect.
    private static final CsvFactory CSV = CsvFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(JsonCells.MAX_STRING_LENGTH).build())
            .enable(CsvParser.Feature.WRAP_AS_ARRAY)
            .enable(CsvParser.Feature.SKIP_EMPTY_LINES)
            .build();

    /** One record: its values by column index (header order) and the 1-based line it starts on. */
    record Record(long line, String[] values) {}

    /** The header, mapped to column positions. */
    record Header(List<String> names) {
        int index(String column) {
            return names.indexOf(column);
        }
    }

    private CsvRecords() {}

    /** Reads only the header line (to detect what kind of file this is). */
    static List<String> header(Path file) {
        List<String> out = new ArrayList<>();
        scan(() -> Files.newInputStream(file), file, new Repairs(), names -> out.addAll(names), null, true);
        return out;
    }

    /**
     * Checks the header has exactly {@code expected} (any order), then hands every record to {@code sink} with
     * values re-ordered to {@code expected}'s order.
     */
    static void read(Path file, List<String> expected, Repairs repairs, Consumer<Record> sink) {
        read(() -> Files.newInputStream(file), file, repairs, names -> checkHeader(file, names, expected), sink);
    }

    /**
     * Streams the records of {@code in} (named {@code file} in messages; closed at the end): {@code header} checks
     * the header and returns the column order the records are handed over in ({@link #checkHeader}).
     */
    static void read(InputStream in, Path file, Repairs repairs, Function<List<String>, int[]> header,
            Consumer<Record> sink) {
        read(() -> in, file, repairs, header, sink);
    }

    private static void read(Source in, Path file, Repairs repairs, Function<List<String>, int[]> header,
            Consumer<Record> sink) {
        int[][] order = new int[1][];
        scan(in, file, repairs, names -> order[0] = header.apply(names), rec -> {
            String[] v = new String[order[0].length];
            for (int i = 0; i < v.length; i++) {
                v[i] = rec.values()[order[0][i]];
            }
            sink.accept(new Record(rec.line(), v));
        }, false);
    }

    /** Opens the bytes to read (a file, or a stream handed in). */
    @FunctionalInterface
    private interface Source {
        InputStream open() throws IOException;
    }

    /**
     * Checks that {@code names} are exactly {@code expected} (any order); returns, for each expected column, its
     * position in {@code names}.
     */
    static int[] checkHeader(Path file, List<String> names, List<String> expected) {
        Set<String> seen = new LinkedHashSet<>();
        List<String> dup = new ArrayList<>();
        for (String n : names) {
            if (!seen.add(n)) {
                dup.add(n);
            }
        }
        List<String> missing = expected.stream().filter(c -> !seen.contains(c)).toList();
        List<String> extra = names.stream().filter(c -> !expected.contains(c)).toList();
        if (!dup.isEmpty() || !missing.isEmpty() || !extra.isEmpty()) {
            StringBuilder sb = new StringBuilder("header does not match: ");
            if (!missing.isEmpty()) {
                sb.append("missing column(s) ").append(missing).append("; ");
            }
            if (!extra.isEmpty()) {
                sb.append("unexpected column(s) ").append(extra).append("; ");
            }
            if (!dup.isEmpty()) {
                sb.append("repeated column(s) ").append(dup).append("; ");
            }
            sb.append("expected ").append(String.join(",", expected)).append(", found ").append(String.join(",", names));
            throw new DataException(file, 1, null, null, sb.toString());
        }
        Map<String, Integer> pos = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            pos.put(names.get(i), i);
        }
        return expected.stream().mapToInt(pos::get).toArray();
    }

    private static void scan(Source in, Path file, Repairs repairs, Consumer<List<String>> header,
            Consumer<Record> sink, boolean headerOnly) {
        try (StrictUtf8Reader reader = new StrictUtf8Reader(
                        new BufferedInputStream(in.open(), 1 << 16), file, repairs);
                JsonParser p = CSV.createParser(reader)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw DataException.ofFile(file, "empty file: expected a header line");
            }
            List<String> names = null;
            List<String> row = new ArrayList<>();
            long line;
            long records = 0;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.START_ARRAY) {
                row.clear();
                line = 0;
                while ((t = p.nextToken()) == JsonToken.VALUE_STRING) {
                    if (line == 0) {
                        line = p.currentTokenLocation().getLineNr();
                    }
                    row.add(p.getText());
                }
                if (names == null) {
                    names = List.copyOf(row);
                    header.accept(names);
                    if (headerOnly) {
                        return;
                    }
                    continue;
                }
                if (row.size() != names.size()) {
                    String id = row.isEmpty() || row.get(0).isBlank() ? null : row.get(0);
                    throw new DataException(file, line, id, null, "record has " + row.size() + " fields, header has "
                            + names.size() + " (" + String.join(",", names) + ")");
                }
                records++;
                sink.accept(new Record(line, row.toArray(String[]::new)));
            }
            if (names == null) {
                throw DataException.ofFile(file, "empty file: expected a header line");
            }
            if (records == 0) {
                throw new DataException(file, 1, null, null, "header only: the file has no data rows");
            }
        } catch (NoSuchFileException e) {
            throw DataException.ofFile(file, "file not found");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new DataException(file, e.getLocation() == null ? 0 : e.getLocation().getLineNr(), null, null,
                    "malformed CSV: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }
}
