package arenakit.pipeline;

import arenakit.data.Conversation;
import arenakit.data.DataSet;
import arenakit.data.Dedup;
import arenakit.data.Folds;
import arenakit.data.KaggleCsv;
import arenakit.data.PreferencePairs;
import arenakit.train.TrainConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The setup's data files, read once and shared by the stages: labeled rows (train + external, deduplicated),
 * the held-out split, unlabeled pairs, test rows.
 */
final class Inputs {
    /** Seed of the coin that puts each preference pair's chosen response at A or B (fixed: labels stay joinable). */
    static final long SIDE_SEED = 42;
    private final Files files;
    private final Consumer<String> log;
    private List<Conversation> train;
    private List<Conversation> labeled;
    private final Set<Conversation> external = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private List<Conversation> unlabeled;
    private DataSet test;
    private final Map<TrainConfig.Holdout, Split> splits = new HashMap<>();
    private final Set<String> droppedExternal = new java.util.LinkedHashSet<>();

    /** Resolved paths; {@code solution} (the test labels) only for the embedded sample. */
    record Files(Path train, Path test, Path sampleSubmission, Path solution, List<Path> external,
            List<Path> unlabeled) {}

    /** Labeled rows divided into training rows and the held-out fold. */
    record Split(List<Conversation> train, List<Conversation> holdout) {}

    Inputs(Files files, Consumer<String> log) {
        this.files = files;
        this.log = log;
    }

    Files files() {
        return files;
    }

    /** The rows of train.csv. */
    synchronized List<Conversation> train() {
        if (train == null) {
            train = KaggleCsv.readTrain(files.train()).rows();
        }
        return train;
    }

    /** Labeled rows of train.csv, then of the external files. */
    synchronized List<Conversation> labeled() {
        if (labeled == null) {
            List<Conversation> rows = new ArrayList<>(train());
            for (Path p : files.external()) {
                List<Conversation> kept = dedupAgainst(rows, KaggleCsv.readExternal(p), p);
                rows.addAll(kept);
                external.addAll(kept);
            }
            labeled = List.copyOf(rows);
        }
        return labeled;
    }

    /** Labeled rows split by the holdout (no holdout: everything trains). */
    synchronized Split split(TrainConfig.Holdout holdout, List<String> sources) {
        List<Conversation> all = labeled();
        Split split;
        if (holdout == null) {
            split = new Split(all, List.of());
        } else {
            split = splits.computeIfAbsent(holdout, h -> {
                Folds.Split f = Folds.split(all, Folds.stratifiedGroupKFold(all, h.folds(), h.seed()), h.fold());
                return new Split(f.train(), f.valid());
            });
        }
        boolean useExternal = sources.contains(TrainConfig.Data.EXTERNAL);
        boolean useTrain = sources.contains(TrainConfig.Data.TRAIN);
        List<Conversation> kept = split.train().stream()
                .filter(c -> external.contains(c) ? useExternal : useTrain).toList();
        return new Split(kept, split.holdout());
    }

    /** Ids of external rows dropped as duplicates of train rows (after {@link #labeled}). */
    synchronized Set<String> droppedExternal() {
        labeled();
        return Set.copyOf(droppedExternal);
    }

    /** Unlabeled pairs for pseudo-labels, responses placed at random sides. */
    synchronized List<Conversation> unlabeled() {
        if (unlabeled == null) {
            List<Conversation> rows = new ArrayList<>();
            for (Path p : files.unlabeled()) {
                PreferencePairs.unlabeled(PreferencePairs.read(p).rows(), SIDE_SEED)
                        .forEach(u -> rows.add(u.conversation()));
            }
            unlabeled = List.copyOf(rows);
        }
        return unlabeled;
    }

    synchronized DataSet test() {
        if (test == null) {
            test = KaggleCsv.readTest(files.test());
        }
        return test;
    }

    private List<Conversation> dedupAgainst(List<Conversation> seen, DataSet external, Path file) {
        Dedup.Result r = Dedup.againstTrain(external.rows(), seen);
        log.accept(file.getFileName() + ": " + r);
        r.dropped().forEach(c -> droppedExternal.add(c.id()));
        return r.kept();
    }
}
