package arenakit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import arenakit.model.DecoderClassifier;
import arenakit.model.Placement;
import arenakit.model.TinyCheckpoints;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.util.ArenaHome;
import arenakit.util.Engines;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The model commands in-process, and parity.java run for real through environment/bin/jbang. */
class ModelCommandsTest {
    @TempDir
    Path tmp;

    record Run(int code, String out) {}

    static Run run(Object command, String... args) {
        StringWriter text = new StringWriter();
        CommandLine cli = new CommandLine(command);
        cli.setOut(new PrintWriter(text));
        cli.setErr(new PrintWriter(text));
        int code = cli.execute(args);
        return new Run(code, text.toString());
    }

    @Test
    void parityPassesOnMatchingReferenceAndFailsOnAShiftedOne() throws Exception {
        Path dir = TinyCheckpoints.write(tmp.resolve("fixture"), TinyCheckpoints.testConfig(64), DType.BF16, 2, 4);
        List<int[]> seqs = List.of(new int[] {2, 5, 9}, new int[] {2, 7, 7, 1, 30, 12, 40, 41, 42, 8, 3});
        float[] logits;
        try (DecoderClassifier model = DecoderClassifier.load(dir, DecoderClassifier.Options.defaults()
                .placement(Placement.single(Device.cpu())).log(s -> { })); NDManager scope = Engines.newManager()) {
            logits = model.logits(scope, seqs, false).toFloatArray();
        }
        writeExpected(dir, seqs, logits, 0f);
        Run ok = run(new ParityCommand(), dir.toString());
        assertEquals(0, ok.code(), ok.out());
        assertTrue(ok.out().contains("PARITY OK"), ok.out());

        writeExpected(dir, seqs, logits, 2e-4f);
        Run bad = run(new ParityCommand(), dir.toString());
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().contains("PARITY FAILED"), bad.out());

        // int8: the float32 reference within the int8 bound; a reference off by half its largest logit is not
        writeExpected(dir, seqs, logits, 0f);
        Run int8 = run(new ParityCommand(), dir.toString(), "--quantize", "int8");
        assertEquals(0, int8.code(), int8.out());
        assertTrue(int8.out().contains("projections int8 (fp32 compute, CPU); bound: |logit diff| <= 10% of the "
                + "largest |reference logit|") && int8.out().contains("bound ") && int8.out().contains("PARITY OK"),
                int8.out());
        float max = 0;
        for (float l : logits) {
            max = Math.max(max, Math.abs(l));
        }
        writeExpected(dir, seqs, logits, max / 2);
        Run int8Bad = run(new ParityCommand(), dir.toString(), "--quantize", "int8");
        assertEquals(1, int8Bad.code(), int8Bad.out());
        assertTrue(int8Bad.out().contains("PARITY FAILED: a difference exceeds the int8 bound"), int8Bad.out());
    }

    private static void writeExpected(Path dir, List<int[]> seqs, float[] logits, float shift) throws Exception {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ArrayNode cases = root.putArray("cases");
        for (int i = 0; i < seqs.size(); i++) {
            ObjectNode c = cases.addObject();
            ArrayNode ids = c.putArray("input_ids");
            for (int id : seqs.get(i)) {
                ids.add(id);
            }
            ArrayNode l = c.putArray("logits");
            for (int k = 0; k < 3; k++) {
                l.add(logits[i * 3 + k] + (k == 1 ? shift : 0));
            }
        }
        Json.write(dir.resolve("expected.json"), root);
    }

    @Test
    void memoryPlanOfGemma2_9bOnTwoGpus() {
        Run r = run(new MemoryPlanCommand(), "gemma-2-9b", "--devices", "gpu0:21,gpu1", "--tokens", "8192",
                "--max-length", "2048", "--lora-rank", "64");
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("9,241,716,736 parameters"), r.out());
        assertTrue(r.out().contains("gpu(0)   layers [0, 21)"), r.out());
        assertTrue(r.out().contains("216,072,192 adapter parameters"), r.out());
        assertEquals(2, run(new MemoryPlanCommand(), "gemma-2-9b", "--dtype", "bf16").code());
        Run int8 = run(new MemoryPlanCommand(), "gemma-2-9b", "--devices", "gpu0", "--quantize", "int8");
        assertEquals(0, int8.code(), int8.out());
        assertTrue(int8.out().contains("gpu(0)   layers [0, 42): weights 9.47 GiB"), int8.out());
        assertTrue(int8.out().contains("weights 0.55x of float16 (17.21 GiB)"), int8.out());
        Run int4 = run(new MemoryPlanCommand(), "gemma-2-9b", "--quantize", "int4");
        assertEquals(2, int4.code());
        assertTrue(int4.out().contains("--quantize must be none or int8, got 'int4'"), int4.out());
    }

    @Test
    void parityScriptRunsForRealOnTheSharedFixture() throws Exception {
        Path fixture = ArenaHome.find().orElseThrow().resolve("../shared/fixtures/gemma2-tiny").normalize();
        Assumptions.assumeTrue(Files.isDirectory(fixture), "../shared is absent: parity script not run");
        JbangRun.Result r = JbangRun.run(tmp, "parity.java", fixture.toString());
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("PARITY OK") && r.out().contains("train step (labels [0,1,2,0])"), r.out());
    }
}
