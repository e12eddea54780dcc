package arenakit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Table-driven: each bad input gets an error naming file, line, id and column, or a counted repair; nothing is
 * dropped silently (every accepted file yields exactly its data rows).
 */
class ValidationMatrixTest {
    static final String HEADER = "id,model_a,model_b,prompt,response_a,response_b,winner_model_a,winner_model_b,"
            + "winner_tie\n";

    @TempDir
    Path tmp;

    /** A CSV-quoted cell holding {@code json}. */
    static String q(String json) {
        return "\"" + json.replace("\"", "\"\"") + "\"";
    }

    static String row(String id, String prompt, String a, String b, String labels) {
        return id + ",m1,m2," + q(prompt) + "," + q(a) + "," + q(b) + "," + labels + "\n";
    }

    static final String GOOD1 = row("11", "[\"hi\"]", "[\"hello\"]", "[\"hey\"]", "1,0,0");
    static final String GOOD2 = row("12", "[\"q\"]", "[\"x\"]", "[\"y\"]", "0,0,1");

    /** An expected error: the 1-based line (0 = none), id, column and a fragment of the problem. */
    record Err(long line, String id, String column, String fragment) {}

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("malformed JSON cell", HEADER + GOOD1 + row("13", "[\"abc", "[\"a\"]", "[\"b\"]",
                        "1,0,0"), new Err(3, "13", "prompt", "malformed JSON")),
                Arguments.of("cell not an array", HEADER + row("13", "\"abc\"", "[\"a\"]", "[\"b\"]", "1,0,0"),
                        new Err(2, "13", "prompt", "expected a JSON array")),
                Arguments.of("element not a string", HEADER + row("13", "[\"p\"]", "[{\"t\":1}]", "[\"b\"]",
                        "1,0,0"), new Err(2, "13", "response_a", "element 1 is an object")),
                Arguments.of("empty array", HEADER + row("13", "[]", "[]", "[]", "1,0,0"),
                        new Err(2, "13", "prompt", "empty JSON array")),
                Arguments.of("turn counts differ", HEADER + row("13", "[\"p\",\"q\"]", "[\"a\"]", "[\"b\",\"c\"]",
                        "1,0,0"), new Err(2, "13", null, "turn counts differ")),
                Arguments.of("missing column", HEADER.replace(",winner_tie", "") + "11,m1,m2,\"[]\",\"[]\",\"[]\",1,0\n",
                        new Err(1, null, null, "missing column(s) [winner_tie]")),
                Arguments.of("extra column", HEADER.replace("\n", ",extra\n") + GOOD1.replace("\n", ",x\n"),
                        new Err(1, null, null, "unexpected column(s) [extra]")),
                Arguments.of("renamed column", HEADER.replace("winner_model_a", "winner_a") + GOOD1,
                        new Err(1, null, null, "missing column(s) [winner_model_a]; unexpected column(s) [winner_a]")),
                Arguments.of("repeated column", HEADER.replace("\n", ",id\n") + GOOD1.replace("\n", ",11\n"),
                        new Err(1, null, null, "repeated column(s) [id]")),
                Arguments.of("ragged record", HEADER + GOOD1 + "13,m1,m2\n",
                        new Err(3, "13", null, "record has 3 fields, header has 9")),
                Arguments.of("two labels set", HEADER + row("13", "[\"p\"]", "[\"a\"]", "[\"b\"]", "1,1,0"),
                        new Err(2, "13", "winner_model_b", "two labels set")),
                Arguments.of("no label set", HEADER + row("13", "[\"p\"]", "[\"a\"]", "[\"b\"]", "0,0,0"),
                        new Err(2, "13", null, "no label set")),
                Arguments.of("non-numeric label", HEADER + row("13", "[\"p\"]", "[\"a\"]", "[\"b\"]", "yes,0,0"),
                        new Err(2, "13", "winner_model_a", "label is 'yes', expected 0 or 1")),
                Arguments.of("fractional label", HEADER + row("13", "[\"p\"]", "[\"a\"]", "[\"b\"]", "0.5,0.5,0"),
                        new Err(2, "13", "winner_model_a", "expected 0 or 1")),
                Arguments.of("duplicate id", HEADER + GOOD1 + GOOD2 + GOOD1,
                        new Err(4, "11", "id", "duplicate id (first seen on line 2)")),
                Arguments.of("blank id", HEADER + GOOD1.replaceFirst("^11", ""),
                        new Err(2, null, "id", "blank id")),
                Arguments.of("blank model name", HEADER + GOOD1.replace(",m1,", ",,"),
                        new Err(2, "11", "model_a", "blank value")),
                Arguments.of("empty file", "", new Err(0, null, null, "empty file")),
                Arguments.of("header only", HEADER, new Err(1, null, null, "header only")),
                Arguments.of("unclosed quote", HEADER + GOOD1 + "13,m1,m2,\"[\"\"p\"\"]\n",
                        new Err(0, null, null, "malformed CSV")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void badTrainFilesAreErrorsNamingWhere(String name, String content, Err expected) throws IOException {
        Path file = write("train.csv", content.getBytes(StandardCharsets.UTF_8));
        DataException e = assertThrows(DataException.class, () -> KaggleCsv.readTrain(file), name);
        assertEquals(file, e.file(), name);
        if (expected.line() > 0) {
            assertEquals(expected.line(), e.line(), name + ": " + e.getMessage());
        }
        assertEquals(expected.id(), e.id(), name + ": " + e.getMessage());
        assertEquals(expected.column(), e.column(), name + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(expected.fragment()), name + ": " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    }

    @Test
    void invalidUtf8IsAnErrorNamingTheLine() throws IOException {
        byte[] bad = (HEADER + GOOD1 + "13,m1,m2,\"[\"\"caf\u0001\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\",1,0,0\n")
                .getBytes(StandardCharsets.UTF_8);
        int at = new String(bad, StandardCharsets.ISO_8859_1).indexOf('\u0001');
        bad[at] = (byte) 0xC3; // a lead byte followed by '"' is not UTF-8
        Path file = write("train.csv", bad);
        DataException e = assertThrows(DataException.class, () -> KaggleCsv.readTrain(file));
        assertEquals(3, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("invalid UTF-8") && e.getMessage().contains("byte offset " + at),
                e.getMessage());
    }

    /** Inputs that are accepted, with the repairs (if any) they must report and a check of the parsed rows. */
    static Stream<Arguments> accepted() {
        String nulls = row("13", "[null,\"second\"]", "[\"\",null]", "[\"say \\\"hi\\\" \\\\ \\/ \\u00e9 \\ud83d\\ude00\","
                + "\"x\"]", "0,1,0");
        String multiline = "14,m1,m2,\"[\"\"p\"\",\n\"\"q\"\"]\",\"[\"\"a\"\",\n\"\"b\"\"]\",\"[\"\"c\"\",\"\"d\"\"]\",0,0,1\n";
        return Stream.of(
                Arguments.of("UTF-8 BOM", ("\uFEFF" + HEADER + GOOD1 + GOOD2), Map.of(Repairs.Kind.BOM_STRIPPED, 1L),
                        2, (Function<DataSet, Boolean>) d -> d.rows().get(0).id().equals("11")),
                Arguments.of("CRLF line ends", (HEADER + GOOD1 + GOOD2).replace("\n", "\r\n"),
                        Map.of(Repairs.Kind.CRLF_LINE_END, 3L), 2,
                        (Function<DataSet, Boolean>) d -> d.rows().get(1).line() == 3
                                && d.rows().get(1).winner() == Winner.TIE),
                Arguments.of("lone surrogate", HEADER + row("13", "[\"p\"]", "[\"bad \\ud83d end\"]", "[\"b\"]",
                        "1,0,0"), Map.of(Repairs.Kind.LONE_SURROGATE, 1L), 1,
                        (Function<DataSet, Boolean>) d -> d.rows().get(0).turns().get(0).responseA()
                                .equals("bad \uFFFD end")),
                Arguments.of("nulls, empties, escapes, unicode", HEADER + nulls, Map.of(), 1,
                        (Function<DataSet, Boolean>) d -> {
                            Turn t = d.rows().get(0).turns().get(0);
                            return t.prompt() == null && t.responseA().isEmpty()
                                    && t.responseB().equals("say \"hi\" \\ / \u00e9 \uD83D\uDE00")
                                    && d.rows().get(0).turns().get(1).responseA() == null;
                        }),
                Arguments.of("blank lines between and after records", HEADER + GOOD1 + "\n  \n" + GOOD2 + "\n",
                        Map.of(), 2, (Function<DataSet, Boolean>) d -> d.rows().get(1).line() == 5),
                Arguments.of("multi-line quoted cells", HEADER + multiline + GOOD1, Map.of(), 2,
                        (Function<DataSet, Boolean>) d -> d.rows().get(0).turns().size() == 2
                                && d.rows().get(0).line() == 2 && d.rows().get(1).line() == 5),
                Arguments.of("columns in another order", "winner_tie,id,model_b,model_a,winner_model_b,prompt,"
                        + "response_b,response_a,winner_model_a\n1,7,mb,ma,0,\"[\"\"p\"\"]\",\"[\"\"b\"\"]\","
                        + "\"[\"\"a\"\"]\",0\n", Map.of(), 1,
                        (Function<DataSet, Boolean>) d -> d.rows().get(0).winner() == Winner.TIE
                                && d.rows().get(0).modelA().equals("ma")
                                && d.rows().get(0).turns().get(0).responseB().equals("b")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void acceptedInputsReportTheirRepairs(String name, String content, Map<Repairs.Kind, Long> repairs, int rows,
            Function<DataSet, Boolean> check) throws IOException {
        Path file = write("train.csv", content.getBytes(StandardCharsets.UTF_8));
        DataSet d = KaggleCsv.readTrain(file);
        assertEquals(rows, d.size(), name);
        for (Repairs.Kind k : Repairs.Kind.values()) {
            assertEquals(repairs.getOrDefault(k, 0L), d.repairs().count(k), name + " " + k);
        }
        assertTrue(check.apply(d), name);
        if (!repairs.isEmpty()) {
            assertTrue(d.summary().toText().contains(repairs.keySet().iterator().next().description()), name);
        }
    }

    @Test
    void aOneMegabyteCellParses() throws IOException {
        String big = "x".repeat(1 << 20);
        Path file = write("train.csv", (HEADER + row("13", "[\"p\"]", "[\"" + big + "\"]", "[\"b\"]", "1,0,0"))
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(1 << 20, KaggleCsv.readTrain(file).rows().get(0).turns().get(0).responseA().length());
    }

    @Test
    void crlfBomAndBadBytesAcrossBufferBoundariesOfALargerFile() throws IOException {
        Path lf = SampleGenerator.write(tmp.resolve("gen"), SampleGenerator.Options.defaults().withRows(1500, 0, 0, 0))
                .train();
        DataSet plain = KaggleCsv.readTrain(lf);
        String text = Files.readString(lf);
        Path crlf = write("train.csv", ("\uFEFF" + text.replace("\n", "\r\n")).getBytes(StandardCharsets.UTF_8));
        DataSet repaired = KaggleCsv.readTrain(crlf);
        assertEquals(plain.rows(), repaired.rows());
        assertEquals(1501, repaired.repairs().count(Repairs.Kind.CRLF_LINE_END));
        assertEquals(1, repaired.repairs().count(Repairs.Kind.BOM_STRIPPED));

        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int line = 1200;
        int at = 0;
        for (int seen = 1; seen < line; at++) {
            seen += bytes[at] == '\n' ? 1 : 0;
        }
        bytes[at + 3] = (byte) 0xFF; // inside the id of the record on line 1200
        Path bad = write("train.csv", bytes);
        DataException e = assertThrows(DataException.class, () -> KaggleCsv.readTrain(bad));
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset " + (at + 3)), e.getMessage());
    }

    @Test
    void testIdsThatDoNotMatchSampleSubmissionAreAnError() throws IOException {
        Path test = write("test.csv", ("id,prompt,response_a,response_b\n"
                + "1,\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\"\n"
                + "2,\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\"\n").getBytes(StandardCharsets.UTF_8));
        Path sample = write("sample_submission.csv", ("id,winner_model_a,winner_model_b,winner_tie\n"
                + "1,0.3,0.3,0.4\n3,0.3,0.3,0.4\n").getBytes(StandardCharsets.UTF_8));
        DataException e = assertThrows(DataException.class,
                () -> Submission.checkTestIds(KaggleCsv.readTest(test), Submission.readIds(sample), sample));
        assertTrue(e.getMessage().contains("1 in test.csv only e.g. [2]")
                && e.getMessage().contains("1 in sample_submission.csv only e.g. [3]"), e.getMessage());
        DataException v = assertThrows(DataException.class, () -> Submission.validate(sample, test, sample));
        assertNotNull(v.getMessage());
    }

    @Test
    void kindIsGuessedFromTheHeader() throws IOException {
        Path test = write("t.csv", ("id,prompt,response_a,response_b\n1,\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",\"[null]\"\n")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(DataKind.TEST, KaggleCsv.read(test).kind());
        Path pref = write("p.csv", ("id,prompt,chosen,rejected\n1,\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",\"[\"\"\"\"]\"\n")
                .getBytes(StandardCharsets.UTF_8));
        DataSet p = KaggleCsv.read(pref);
        assertEquals(DataKind.PREFERENCE, p.kind());
        List<PreferencePairs.UnlabeledPair> pairs = PreferencePairs.unlabeled(p.rows(), 5);
        assertEquals(1, pairs.size());
        assertTrue(!pairs.get(0).conversation().labeled());
        Turn t = pairs.get(0).conversation().turns().get(0);
        assertEquals("a", pairs.get(0).chosenSide() == Winner.A ? t.responseA() : t.responseB());
    }

    private Path write(String name, byte[] content) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "case");
        return Files.write(dir.resolve(name), content);
    }
}
