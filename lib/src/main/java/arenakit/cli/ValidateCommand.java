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
import java.util.Locale;
import java.util.Map;
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
    enum Kind { auto, train, external, test, preference, submission }

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
        try {
            Kind k = kind == Kind.auto ? guess() : kind;
            if (k == Kind.submission) {
                if (test == null || sample == null) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "a submission is validated against --test and --sample");
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
            err.println("invalid: " + e.getMessage());
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private Kind guess() {
        DataKind guessed = DataKind.guessFrom(file);
        return guessed == DataKind.SUBMISSION ? Kind.submission
                : Kind.valueOf(guessed.name().toLowerCase(Locale.ROOT));
    }
}
