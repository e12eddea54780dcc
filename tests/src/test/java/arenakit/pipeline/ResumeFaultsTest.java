package arenakit.pipeline;

import static arenakit.pipeline.Setups.edit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import arenakit.util.OutputLock;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resumable state is keyed by what produced it: a checkpoint made with other settings, data or models is refused
 * with the reason, a finished stage whose inputs changed is not built upon, a stale embedded sample is generated
 * again; and one run writes into an output folder at a time. Trains a few steps of the smoke setup (seconds).
 */
class ResumeFaultsTest {
    @TempDir
    Path dir;

    /** Smoke with a 4-step stage 1 that checkpoints every 2 steps and evaluates only at the end. */
    private Path setup(String name, Setups.Edit... more) throws IOException {
        List<Setups.Edit> edits = new ArrayList<>(List.of(edit("stage1.json", "\"max_steps\": 12, \"log_every\": 2, "
                + "\"eval_every\": 6, \"checkpoint_every\": 6", "\"max_steps\": 4, \"log_every\": 2, \"eval_every\": 0, "
                + "\"checkpoint_every\": 2")));
        edits.addAll(List.of(more));
        return Setups.copy(dir.resolve(name), "smoke", edits.toArray(new Setups.Edit[0]));
    }

    private static Pipeline open(Path setup, Path out, List<String> log) {
        return Pipeline.open(ConfigFolder.of(setup.toString()), out, log::add);
    }

    @Test
    void aCheckpointFromOtherInputsIsRefusedWithTheReasonAndTheRightOneResumes() throws Exception {
        Path out = dir.resolve("out");
        List<String> log = new ArrayList<>();
        try (Pipeline p = open(setup("a"), out, log)) {
            assertEquals(StageSummary.PAUSED, p.runStage("stage1", 2).status());
        }
        Path ckpt = out.resolve("stage1/checkpoints/step-000002");
        assertTrue(Files.isDirectory(ckpt), log.toString());

        // another learning rate: the checkpoint's config is not this run's
        try (Pipeline p = open(setup("lr", edit("stage1.json", "\"lr\": 3e-3", "\"lr\": 2e-3")), out, log)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.runStage("stage1", 0));
            assertTrue(e.getMessage().contains(ckpt + " was written under a different config: the stage config "
                    + "(optimizer.lr: 0.003 -> 0.002) changed since"), e.getMessage());
            assertTrue(e.getMessage().contains("delete " + out.resolve("stage1/checkpoints")), e.getMessage());
        }

        // other data (the sample's seed): the sample is generated again, and the checkpoint is refused
        log.clear();
        try (Pipeline p = open(setup("seed", edit("pipeline.json", "\"preference_rows\": 60, \"seed\": 42",
                "\"preference_rows\": 60, \"seed\": 43")), out, log)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.runStage("stage1", 0));
            assertTrue(e.getMessage().contains(ckpt + " was made from other inputs: "), e.getMessage());
            assertTrue(e.getMessage().contains("the training rows as tokens"), e.getMessage());
            assertTrue(e.getMessage().contains("data.train"), e.getMessage());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("the sample options changed (seed: 42 -> 43)")),
                log.toString());

        // a checkpoint cut short (a full disk, a copy that stopped): the file and what to do
        Path trainable = ckpt.resolve("trainable.ndlist");
        Path saved = Files.copy(trainable, dir.resolve("trainable.saved"));
        try (FileChannel ch = FileChannel.open(trainable, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
        log.clear();
        try (Pipeline p = open(setup("a2"), out, log)) {
            IOException e = assertThrows(IOException.class, () -> p.runStage("stage1", 0));
            assertTrue(e.getMessage().startsWith(trainable + " cannot be read ("), e.getMessage());
            assertTrue(e.getMessage().contains("the checkpoint is truncated or damaged; delete "
                    + out.resolve("stage1/checkpoints")), e.getMessage());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("generating it again")), "the sample is back: " + log);

        // the original inputs again: it resumes where it paused and finishes
        Files.copy(saved, trainable, StandardCopyOption.REPLACE_EXISTING);
        log.clear();
        try (Pipeline p = open(setup("a3"), out, log)) {
            assertEquals(StageSummary.DONE, p.runStage("stage1", 0).status());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("resuming from " + ckpt + " at step 2 of 4")), log.toString());

        // finished: a changed config is not built upon
        try (Pipeline p = open(setup("lr2", edit("stage1.json", "\"lr\": 3e-3", "\"lr\": 2e-3")), out, log)) {
            ConfigException e = assertThrows(ConfigException.class, () -> p.runStage("stage1", 0));
            assertTrue(e.getMessage().contains("stage 'stage1' finished earlier (" + out.resolve("stage1/summary.json")
                    + ") from other inputs than this setup gives it now; changed: "), e.getMessage());
            assertTrue(e.getMessage().contains("stage1.json (optimizer.lr: 0.003 -> 0.002)"), e.getMessage());
            assertTrue(e.getMessage().contains("delete " + out.resolve("stage1")), e.getMessage());
        }
        // the same setup again: skipped
        log.clear();
        try (Pipeline p = open(setup("a4"), out, log)) {
            p.runStage("stage1", 0);
        }
        assertTrue(log.stream().anyMatch(l -> l.startsWith("[stage1] done earlier")), log.toString());
    }

    @Test
    void aSecondRunIntoTheSameFolderStopsAtOnce() throws Exception {
        Path out = dir.resolve("busy");
        try (OutputLock other = OutputLock.acquire(out, "another run", s -> {});
                Pipeline p = open(setup("busy"), out, new ArrayList<>())) {
            IOException e = assertThrows(IOException.class, () -> p.runStage("eda", 0));
            assertTrue(e.getMessage().contains(out + " is in use by another run"), e.getMessage());
        }
        assertTrue(!Files.exists(out.resolve("eda")), "nothing was written");
    }

    @Test
    void aChangedSampleFileIsGeneratedAgainNotReused() throws Exception {
        Path out = dir.resolve("sample");
        List<String> log = new ArrayList<>();
        try (Pipeline p = open(setup("s"), out, log)) {
            p.inputs();
        }
        Path train = out.resolve("data/train.csv");
        byte[] original = Files.readAllBytes(train);
        Files.writeString(train, "edited\n");
        log.clear();
        try (Pipeline p = open(setup("s2"), out, log)) {
            p.inputs();
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("generated file(s) [train.csv] changed since, generating it "
                + "again")), log.toString());
        assertEquals(new String(original), Files.readString(train));
    }
}
