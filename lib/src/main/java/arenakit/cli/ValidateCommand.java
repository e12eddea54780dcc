package arenakit.cli;

import arenakit.data.DataException;
import arenakit.data.DataKind;
import arenakit.data.DataSet;
import arenakit.data.KaggleCsv;
import arenakit.data.PreferencePairs;
import arenakit.data.Submission;
import arenakit.util.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code validate FILE}: reads a competition file with full validation and prints what it holds (rows, labels,
 * turns, nulls, repairs) as text or {@code --json}. Exit code 0 when valid, 1 when the data is bad (the error names
 * file, line, id and column), 2 for usage errors.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Validate a competition data file (train / lmsys-33k / test / preference / submission) and "
                + "print a summary.")
public final class ValidateCommand implements Callable<Integer> {

    /** What a file can be validated as; {@code auto} guesses from the header. */
    enum Kind {
        auto("a file of the kind its header shows"),
        train("a train file (Kaggle train.csv)"),
        external("an external labeled file (lmsys-33k, the columns of train.csv)"),
        test("a test file (Kaggle test.csv)"),
        preference("a preference-pair file (id, prompt, chosen, rejected)"),
        submission("a submission (the columns of sample_submission.csv)");

        final String description;

        Kind(String description) {
            this.description = description;
        }
    }

    @Parameters(index = "0", paramLabel = "FILE", description = "The CSV file to validate.")
    Path file;

    @Option(names = "--kind", defaultValue = "auto",
            description = "What the file is: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}, from the header).")
    Kind kind;

    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    @Option(names = "--test", paramLabel = "TEST_CSV",
            description = "test.csv: for a submission (required) or to check test ids against --sample.")
    Path test;

    @Option(names = "--sample", paramLabel = "SAMPLE_CSV",
            description = "sample_submission.csv: for a submission (required), or with a test file.")
    Path sample;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String... args) {
        System.exit(Cli.execute(new ValidateCommand(), args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Kind k = kind;
        try {
            if (k == Kind.auto) {
                k = guess(err);
                if (k == null) {
                    return 1;
                }
            }
            if (k == Kind.submission) {
                if (test == null || sample == null) {
                    throw new CommandLine.ParameterException(spec.commandLine(), file.getFileName() + " is "
                            + (kind == Kind.auto ? "taken for " : "") + k.description + ", and a submission is "
                            + "checked against the competition's files: pass --test and --sample (its test.csv and "
                            + "sample_submission.csv)"
                            + (kind == Kind.auto ? " (or --kind, if it is another kind of file)" : ""));
                }
                Submission.Report report = Submission.validate(file, test, sample);
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("file", file.getFileName().toString());
                    m.put("kind", "SUBMISSION");
                    m.put("rows", report.rows());
                    m.put("mean", report.mean());
                    out.println(Json.MAPPER.writeValueAsString(m));
                } else {
                    out.println(file.getFileName() + ": valid submission, " + report);
                }
                return 0;
            }
            DataSet data = switch (k) {
                case train -> KaggleCsv.readTrain(file);
                case external -> KaggleCsv.readExternal(file);
                case test -> KaggleCsv.readTest(file);
                case preference -> PreferencePairs.read(file);
                default -> throw new IllegalStateException(k.name());
            };
            if (k == Kind.test && sample != null) {
                Submission.checkTestIds(data, Submission.readIds(sample), sample);
            }
            out.print(json ? Json.MAPPER.writeValueAsString(data.summary()) + System.lineSeparator()
                    : data.summary().toText());
            return 0;
        } catch (DataException e) {
            err.println("invalid " + (k == Kind.auto ? "file" : k.name() + " file") + ": " + e.getMessage());
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /**
     * The kind the header shows, said on stderr ("validating train.csv as a test file (from its header ...)"); null
     * after explaining on stderr that the header matches no kind of competition file.
     */
    private Kind guess(PrintWriter err) {
        List<String> header = DataKind.headerOf(file);
        Set<String> known = new LinkedHashSet<>();
        for (DataKind d : DataKind.values()) {
            known.addAll(d.columns());
        }
        if (header.stream().noneMatch(known::contains)) {
            String first = String.join(",", header);
            err.println("invalid file: " + file + " is not a competition CSV file: its first line (" + shorten(first)
                    + ") names none of the columns of a train file (" + String.join(",", DataKind.TRAIN.columns())
                    + "), a test file (" + String.join(",", DataKind.TEST.columns()) + "), a submission ("
                    + String.join(",", DataKind.SUBMISSION.columns()) + ") or a preference-pair file ("
                    + String.join(",", DataKind.PREFERENCE.columns()) + "); if it is one of them, say which with "
                    + "--kind");
            return null;
        }
        DataKind guessed = DataKind.guess(header);
        Kind k = guessed == DataKind.SUBMISSION ? Kind.submission
                : Kind.valueOf(guessed.name().toLowerCase(Locale.ROOT));
        err.println("validating " + file.getFileName() + " as " + k.description + ", from its header ("
                + shorten(String.join(",", header)) + "); --kind says otherwise");
        return k;
    }

    private static String shorten(String s) {
        return s.length() <= 120 ? s : s.substring(0, 119) + "\u2026";
    }
}
