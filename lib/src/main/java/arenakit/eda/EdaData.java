package arenakit.eda;

import arenakit.data.Conversation;
import arenakit.data.KaggleCsv;
import arenakit.data.SampleGenerator;
import java.nio.file.Path;
import java.util.List;

/**
 * The rows an EDA looks at: Kaggle's files, or the embedded sample shaped like them (test rows without verdicts or
 * model names, as test.csv has them).
 *
 * @param train labeled rows
 * @param test  test rows, or null
 */
public record EdaData(List<Conversation> train, List<Conversation> test) {

    /** Kaggle's train.csv and (optional, null) test.csv, read and validated by the data layer. */
    public static EdaData read(Path trainCsv, Path testCsv) {
        return new EdaData(KaggleCsv.readTrain(trainCsv).rows(),
                testCsv == null ? null : KaggleCsv.readTest(testCsv).rows());
    }

    /** The embedded sample ({@link SampleGenerator}), generated in memory. */
    public static EdaData sample(SampleGenerator.Options options) {
        SampleGenerator.Sample sample = SampleGenerator.generate(options);
        return new EdaData(sample.train(), sample.test().stream()
                .map(c -> new Conversation(c.id(), null, null, c.turns(), null, c.line()))
                .toList());
    }
}
