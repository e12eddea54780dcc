package arenakit.spark;

import arenakit.pipeline.ConfigFolder;
import arenakit.pipeline.Pipeline;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a worker needs to open the setup exactly as the driver read it: the text of every config file (the
 * driver's folder need not exist on the workers), the stage outputs folder (a path every node sees: the trained
 * models, the base checkpoint and the tokenizer are read from there) and the stage's name.
 */
final class SetupFiles implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String name;
    private final Map<String, String> files;
    private final String out;
    private final String stage;
    private final String key;

    private SetupFiles(String name, Map<String, String> files, String out, String stage) {
        this.name = name;
        this.files = files;
        this.out = out;
        this.stage = stage;
        this.key = sha256(name + "\0" + files + "\0" + out + "\0" + stage);
    }

    /** The setup's pipeline.json and stage files, read on the driver. */
    static SetupFiles of(ConfigFolder folder, Pipeline pipeline, Path out, String stage) throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("pipeline.json", folder.text("pipeline.json"));
        for (String s : pipeline.experiment().stages()) {
            if (folder.has(s + ".json")) {
                files.put(s + ".json", folder.text(s + ".json"));
            }
        }
        return new SetupFiles(folder.name(), files, out.toAbsolutePath().normalize().toString(), stage);
    }

    String stage() {
        return stage;
    }

    Path out() {
        return Path.of(out);
    }

    /** Identifies setup, outputs folder and stage: what a worker's cached models are keyed by. */
    String key() {
        return key;
    }

    /** The config texts (for the job's fingerprint). */
    Map<String, String> files() {
        return files;
    }

    /** The setup as a config folder on this machine (written once per setup under java.io.tmpdir). */
    synchronized ConfigFolder folder() {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "arena-kit-spark", key.substring(0, 16), name);
        try {
            if (!Files.isRegularFile(dir.resolve("pipeline.json"))) {
                Files.createDirectories(dir.getParent());
                Path tmp = Files.createTempDirectory(dir.getParent(), ".setup");
                for (Map.Entry<String, String> f : files.entrySet()) {
                    Files.writeString(tmp.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
                }
                try {
                    Files.move(tmp, dir);
                } catch (IOException e) { // another executor on this node wrote the same files first
                    if (!Files.isRegularFile(dir.resolve("pipeline.json"))) {
                        throw e;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing the setup's configs to " + dir, e);
        }
        return ConfigFolder.of(dir.toString());
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
