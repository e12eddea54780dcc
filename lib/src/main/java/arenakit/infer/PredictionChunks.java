package arenakit.infer;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import arenakit.util.Fingerprint;
import arenakit.util.Folders;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One model's predictions of a stage, checkpointed chunk by chunk so that a re-run resumes:
 * {@code <root>/<model>-<fingerprint prefix>/rows-00004000-00008000.json}, each written atomically.
 *
 * <p>A chunk file carries the model's fingerprint (model files, training config, tokenizer and format, the
 * dtype) and, per row, the row's key (a hash of its id and text), the TTA and max_length it was predicted with, and
 * its probabilities and logits. A re-run reuses a stored row only when the fingerprint, the row's key and its
 * settings all match what the stage would compute now; everything else is recomputed, never mixed in. Rows are
 * matched by key, not by position, so a changed {@code chunk_rows} (or reordered input) reuses every row already
 * predicted; files of an earlier layout are deleted once the model has covered all rows again.
 */
public final class PredictionChunks {
    private static final int FORMAT = 1;

    /** One stored row. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Row(String id, String key, boolean tta, int maxLength, double[] probs, double[] logits) {}

    /** A chunk file. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Chunk(int format, String model, String fingerprint, int firstRow, List<Row> rows) {}

    private final Path dir;
    private final String model;
    private final String fingerprint;
    private final Map<String, Row> byKey = new HashMap<>();
    private final Set<Path> written = new HashSet<>();
    private final Set<Path> loaded = new HashSet<>();
    private final int stale;

    private PredictionChunks(Path dir, String model, String fingerprint, int stale) {
        this.dir = dir;
        this.model = model;
        this.fingerprint = fingerprint;
        this.stale = stale;
    }

    /** The folder of {@code model}'s chunks under {@code root}: its name and the fingerprint's first 8 digits. */
    static Path folder(Path root, String model, String fingerprint) {
        String name = Path.of(model).getFileName() == null ? model : Path.of(model).getFileName().toString();
        return root.resolve(name.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + fingerprint.substring(0, 8));
    }

    /** Reads the chunks of {@code model} stored under {@code root} (none yet is fine). */
    public static PredictionChunks open(Path root, String model, String fingerprint, Consumer<String> log)
            throws IOException {
        Path dir = folder(root, model, fingerprint);
        int stale = 0;
        Map<String, Row> rows = new HashMap<>();
        Set<Path> loaded = new HashSet<>();
        if (Files.isDirectory(dir)) {
            for (Path f : files(dir)) {
                Chunk c;
                try {
                    c = Json.read(f, Chunk.class);
                } catch (IOException e) {
                    log.accept("ignoring unreadable chunk " + f + " (" + e.getMessage() + "): its rows are predicted "
                            + "again");
                    stale++;
                    continue;
                }
                if (c.format() != FORMAT || !fingerprint.equals(c.fingerprint()) || c.rows() == null) {
                    stale++;
                    continue;
                }
                for (Row r : c.rows()) {
                    rows.put(r.key(), r);
                }
                loaded.add(f);
            }
        }
        if (stale > 0) {
            log.accept(model + ": " + stale + " chunk file(s) in " + dir + " were made by other model files or "
                    + "settings: their rows are predicted again");
        }
        PredictionChunks chunks = new PredictionChunks(dir, model, fingerprint, stale);
        chunks.byKey.putAll(rows);
        chunks.loaded.addAll(loaded);
        return chunks;
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
    }

    /** The stored row with this key, or null. */
    public Row get(String key) {
        return byKey.get(key);
    }

    public int storedRows() {
        return byKey.size();
    }

    /**
     * Writes the rows {@code [from, to)} of the current layout that have a prediction (atomically); when nothing in
     * them is new ({@code fresh} false) and a file of that range was read, it is kept as it is.
     */
    public void write(int from, int to, List<Row> rows, boolean fresh) throws IOException {
        Path file = dir.resolve(String.format(Locale.ROOT, "rows-%08d-%08d.json", from, to));
        if (!fresh && loaded.contains(file)) {
            written.add(file);
            return;
        }
        Json.write(file, new Chunk(FORMAT, model, fingerprint, from, rows));
        rows.forEach(r -> byKey.put(r.key(), r));
        written.add(file);
    }

    /**
     * Deletes the files not written in this run (an earlier chunk layout, stale fingerprints): call once every
     * chunk of the current layout is written, so no stored row is lost.
     */
    public void dropOthers() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        for (Path f : files(dir)) {
            if (!written.contains(f)) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** Deletes the model folders under {@code root} that none of {@code kept} uses (old settings, old models). */
    public static void prune(Path root, Collection<PredictionChunks> kept) throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        Set<Path> keep = new HashSet<>();
        kept.forEach(k -> keep.add(k.dir));
        try (Stream<Path> s = Files.list(root)) {
            for (Path d : s.toList()) {
                if (!keep.contains(d)) {
                    Folders.deleteTree(d);
                }
            }
        }
    }

    int staleFiles() {
        return stale;
    }

    /** A row's key: its id and the text a model reads (prompts and responses of every turn, nulls kept apart). */
    static String rowKey(Conversation c) {
        Fingerprint.Hasher h = Fingerprint.hasher().text(c.id()).ints(c.turns().size());
        for (Turn t : c.turns()) {
            h.text(t.prompt()).text(t.responseA()).text(t.responseB());
        }
        return h.hex().substring(0, 24);
    }
}
