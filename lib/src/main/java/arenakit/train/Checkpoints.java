package arenakit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import arenakit.model.SequenceClassifier;
import arenakit.model.tensor.NoGrad;
import arenakit.util.Fingerprint;
import arenakit.util.Folders;
import arenakit.util.StrictJson;
import arenakit.util.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Resumable training checkpoints under {@code <stage>/checkpoints/}.
 *
 * <p>Each checkpoint is a folder {@code step-000040/} holding the model's own export (a PEFT {@code adapter/}, or
 * a full checkpoint for full fine-tuning: usable on its own), {@code trainable.ndlist} (the exact float values of
 * every trainable tensor: a resume must not lose precision to the adapter's storage dtype), {@code optimizer.ndlist}
 * (AdamW moments and step count) and {@code state.json} (step, history, the config it was made under, the dynamic
 * loss scale). The folder is written under a temporary name and renamed into place, then {@code latest.json} is
 * replaced atomically: a crash at any point leaves the previous checkpoint intact and findable. Older checkpoint
 * folders are removed after the new one is published.
 */
public final class Checkpoints {
    private final Path root;

    public Checkpoints(Path stageDir) {
        this.root = stageDir.resolve("checkpoints");
    }

    /**
     * What a checkpoint remembers about the run besides tensors.
     *
     * @param lossSum the summed training loss of the steps since the last history line ({@code sinceLine} of them),
     *     so the next line averages the same steps as in an uninterrupted run
     * @param gradNormSum the summed gradient norms of those steps that were applied
     * @param skippedSinceLine how many of those steps were skipped for a gradient overflow (loss scaling)
     * @param lossScaler the dynamic loss scale and its count of finite steps; null when scaling is off
     * @param inputs what the run was made from (config, training rows, base model, the model it started from):
     *     a resume under other inputs is refused, naming what differs
     */
    public record State(long step, long tokens, double seconds, List<TrainLog> history, TrainConfig config,
            double lossSum, double gradNormSum, int sinceLine, int skippedSinceLine,
            @StrictJson.Nullable LossScaler.State lossScaler, Fingerprint inputs) {
        public State {
            history = List.copyOf(history);
        }
    }

    private record Latest(String dir, long step) {}

    /** Writes a model in its usable form (PEFT adapter, or full checkpoint) into a folder. */
    @FunctionalInterface
    public interface Exporter {
        void export(SequenceClassifier model, Path dir) throws IOException;
    }

    public void save(SequenceClassifier model, Exporter exporter, AdamW optimizer, State state) throws IOException {
        Files.createDirectories(root);
        String name = String.format("step-%06d", state.step());
        Path tmp = Files.createTempDirectory(root, "." + name + ".");
        try {
            write(model, exporter, optimizer, state, tmp, name);
        } catch (java.nio.file.FileSystemException e) {
            throw e;
        } catch (IOException e) { // a stream's write error has no path: "No space left on device"
            java.nio.file.FileSystemException named = new java.nio.file.FileSystemException(
                    root.resolve(name).toString(), null, "cannot write the checkpoint: " + e.getMessage());
            named.initCause(e);
            throw named;
        } finally {
            Folders.deleteTree(tmp);
        }
    }

    private void write(SequenceClassifier model, Exporter exporter, AdamW optimizer, State state, Path tmp,
            String name) throws IOException {
        exporter.export(model, tmp);
        try (OutputStream out = Files.newOutputStream(tmp.resolve("trainable.ndlist"))) {
            NDList list = new NDList();
            for (Map.Entry<String, NDArray> e : model.trainable().entrySet()) {
                NDArray a = e.getValue().duplicate();
                a.setName(e.getKey());
                list.add(a);
            }
            list.encode(out);
            list.close();
        }
        try (OutputStream out = Files.newOutputStream(tmp.resolve("optimizer.ndlist"))) {
            optimizer.save(out);
        }
        Json.write(tmp.resolve("state.json"), state);
        Path target = root.resolve(name);
        Folders.deleteTree(target);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target);
        }
        Json.write(root.resolve("latest.json"), new Latest(name, state.step()));
        try (Stream<Path> old = Files.list(root)) {
            for (Path p : old.filter(p -> Files.isDirectory(p) && !p.equals(target) && !p.equals(tmp)).toList()) {
                Folders.deleteTree(p);
            }
        }
    }

    /** The newest complete checkpoint folder, if any. */
    public Optional<Path> latest() throws IOException {
        Path pointer = root.resolve("latest.json");
        if (!Files.isRegularFile(pointer)) {
            return Optional.empty();
        }
        Path dir = root.resolve(Json.read(pointer, Latest.class).dir());
        if (!Files.isRegularFile(dir.resolve("state.json"))) {
            throw new IOException(pointer + " names " + dir + ", which is not a complete checkpoint");
        }
        return Optional.of(dir);
    }

    /**
     * What the checkpoint in {@code dir} remembers besides tensors (read before {@link #restore} to check it). A
     * checkpoint from before inputs were recorded is refused: nothing says what it was trained on.
     */
    public static State state(Path dir) throws IOException {
        Path file = dir.resolve("state.json");
        if (!Json.MAPPER.readTree(file.toFile()).has("inputs")) {
            throw new IOException(dir + " was written by an earlier arena-kit, which did not record the settings, data "
                    + "and model a checkpoint was made from, so resuming it could mix runs; delete " + dir.getParent()
                    + " to start the stage over");
        }
        return Json.read(file, State.class);
    }

    /** Loads trainable values and optimizer state from {@code dir} into the live model and optimizer. */
    public static void restore(Path dir, SequenceClassifier model, AdamW optimizer) throws IOException {
        Map<String, NDArray> live = model.trainable();
        NDManager tmp = live.values().iterator().next().getManager().newSubManager();
        try (tmp; InputStream in = Files.newInputStream(dir.resolve("trainable.ndlist")); NoGrad g = NoGrad.enter()) {
            Map<String, NDArray> saved = new LinkedHashMap<>();
            NDList decoded;
            try {
                decoded = NDList.decode(tmp, in);
            } catch (RuntimeException e) { // DJL says only "Malformed data"
                throw damaged(dir.resolve("trainable.ndlist"), e);
            }
            for (NDArray a : decoded) {
                saved.put(a.getName(), a);
            }
            if (!saved.keySet().equals(live.keySet())) {
                throw new IOException(dir + ": checkpoint tensors " + saved.keySet() + " do not match the model's "
                        + live.keySet() + " (different LoRA targets or head?)");
            }
            for (Map.Entry<String, NDArray> e : live.entrySet()) {
                copyInto(saved.get(e.getKey()), e.getValue(), dir + ": " + e.getKey());
            }
        }
        try (InputStream in = Files.newInputStream(dir.resolve("optimizer.ndlist"))) {
            optimizer.load(in);
        } catch (java.nio.file.NoSuchFileException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw damaged(dir.resolve("optimizer.ndlist"), e);
        }
    }

    private static IOException damaged(Path file, Exception e) {
        return new IOException(file + " cannot be read (" + (e.getMessage() == null ? e.getClass().getSimpleName()
                : e.getMessage()) + "): the checkpoint is truncated or damaged; delete " + file.getParent().getParent()
                + " to start the stage over", e);
    }

    /** Copies values into a live tensor in place (it keeps its identity, gradient flag and device). */
    static void copyInto(NDArray source, NDArray target, String what) throws IOException {
        if (!source.getShape().equals(target.getShape())) {
            throw new IOException(what + " has shape " + source.getShape() + ", expected " + target.getShape());
        }
        target.set(source.toType(target.getDataType(), false).toByteBuffer());
    }
}
