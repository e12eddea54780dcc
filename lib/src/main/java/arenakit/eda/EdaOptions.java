package arenakit.eda;

import arenakit.text.PromptFormat;
import java.util.List;

/**
 * What the EDA looks at and how finely. Serialised into eda.json so every number there comes with its settings.
 *
 * @param topModels          how many models (most games first) get a win-rate row
 * @param topPrompts         how many of the most repeated prompts are listed
 * @param maxLengthCoverage  share of training rows whose formatted model input must fit, untruncated, into the
 *                           recommended max length (0.95 = 95% of rows)
 * @param lengthMultiple     the recommended max length is a multiple of this (16: fp16 tensor-core friendly)
 * @param format             prompt format of the model input ({@code arenakit.text}: pab, papb, rounds)
 * @param lengthDiffEdges    ascending bin edges, in characters, for len(response A) - len(response B); bins are
 *                           {@code (-inf, e0), [e0, e1), ..., [e_last, +inf)}
 * @param coverageLengths    max lengths for the coverage table (how many rows fit at 1024, 2048, 3072, ...)
 * @param histogramBins      number of token-length histogram bins below the overflow bin
 */
public record EdaOptions(
        int topModels,
        int topPrompts,
        double maxLengthCoverage,
        int lengthMultiple,
        String format,
        List<Integer> lengthDiffEdges,
        List<Integer> coverageLengths,
        int histogramBins) {

    public EdaOptions {
        if (topModels < 1 || topPrompts < 0 || histogramBins < 1) {
            throw new IllegalArgumentException("EdaOptions: topModels and histogramBins must be >= 1, topPrompts >= 0");
        }
        if (!(maxLengthCoverage > 0 && maxLengthCoverage <= 1)) {
            throw new IllegalArgumentException("EdaOptions: maxLengthCoverage must be in (0, 1], got " + maxLengthCoverage);
        }
        if (lengthMultiple < 1) {
            throw new IllegalArgumentException("EdaOptions: lengthMultiple must be >= 1, got " + lengthMultiple);
        }
        PromptFormat.forName(format); // an unknown format fails here, before any tokenizing
        lengthDiffEdges = List.copyOf(lengthDiffEdges);
        coverageLengths = List.copyOf(coverageLengths);
        for (int i = 1; i < lengthDiffEdges.size(); i++) {
            if (lengthDiffEdges.get(i) <= lengthDiffEdges.get(i - 1)) {
                throw new IllegalArgumentException("EdaOptions: lengthDiffEdges must be strictly ascending: " + lengthDiffEdges);
            }
        }
    }

    /** Defaults that suit both the 999-row sample and the 57k-row train.csv. */
    public static EdaOptions defaults() {
        return new EdaOptions(20, 10, 0.95, 16, "pab",
                List.of(-2000, -1000, -500, -200, -50, 50, 200, 500, 1000, 2000),
                List.of(512, 1024, 1536, 2048, 2560, 3072, 4096, 6144, 8192),
                60);
    }

    public EdaOptions withMaxLengthCoverage(double coverage) {
        return new EdaOptions(topModels, topPrompts, coverage, lengthMultiple, format, lengthDiffEdges,
                coverageLengths, histogramBins);
    }

    public EdaOptions withTopModels(int n) {
        return new EdaOptions(n, topPrompts, maxLengthCoverage, lengthMultiple, format, lengthDiffEdges,
                coverageLengths, histogramBins);
    }

    public EdaOptions withFormat(String name) {
        return new EdaOptions(topModels, topPrompts, maxLengthCoverage, lengthMultiple, name, lengthDiffEdges,
                coverageLengths, histogramBins);
    }
}
