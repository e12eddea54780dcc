package arenakit.eda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StatsTest {

    /** Newcombe (1998), Stat Med 17:857, Table II, method 3 (Wilson score, no continuity correction). */
    @ParameterizedTest
    @CsvSource({
        "81, 263, 0.2553, 0.3662",
        "15, 148, 0.0624, 0.1605",
        "0, 20, 0.0000, 0.1611",
        "1, 29, 0.0061, 0.1718",
    })
    void wilsonMatchesPublishedIntervals(long k, long n, double low, double high) {
        Stats.Interval ci = Stats.wilson(k, n, Stats.Z95);
        assertEquals(low, ci.low(), 5e-5);
        assertEquals(high, ci.high(), 5e-5);
    }

    @Test
    void wilsonIsSymmetricAndBounded() {
        Stats.Interval half = Stats.wilson(5, 10, Stats.Z95);
        assertEquals(1.0, half.low() + half.high(), 1e-12);
        assertEquals(new Stats.Interval(0, 1), Stats.wilson(0, 0, Stats.Z95));
        Stats.Interval all = Stats.wilson(20, 20, Stats.Z95);
        assertEquals(1.0, all.high(), 1e-12);
        assertEquals(1 - 0.1611, all.low(), 5e-5);
        assertThrows(IllegalArgumentException.class, () -> Stats.wilson(3, 2, Stats.Z95));
    }

    @Test
    void nearestRankQuantiles() {
        int[] ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(5, Stats.quantile(ten, 0.5));
        assertEquals(9, Stats.quantile(ten, 0.9));   // exactly 90% of values <= 9
        assertEquals(10, Stats.quantile(ten, 0.91));
        assertEquals(10, Stats.quantile(ten, 0.99));
        assertEquals(10, Stats.quantile(ten, 1.0));
        assertEquals(1, Stats.quantile(ten, 0.0));
        assertEquals(7, Stats.quantile(new int[] {7}, 0.95));
        int[] twenty = new int[20];
        for (int i = 0; i < 20; i++) {
            twenty[i] = i + 1;
        }
        assertEquals(19, Stats.quantile(twenty, 0.95)); // 0.95 * 20 is 19 up to rounding error
        assertThrows(IllegalArgumentException.class, () -> Stats.quantile(new int[0], 0.5));
        assertThrows(IllegalArgumentException.class, () -> Stats.quantile(ten, 1.5));
    }

    @Test
    void recommendedMaxLengthIsTheCoverageQuantileRoundedUpToTheMultiple() {
        int[] lengths = {100, 3000, 500, 2000, 1000, 1500, 2500, 700, 3500, 4340};
        assertEquals(3504, Stats.recommendMaxLength(lengths, 0.9, 16)); // 90%: 3500 -> 3504
        assertEquals(4352, Stats.recommendMaxLength(lengths, 1.0, 16)); // all: 4340 -> 4352
        assertEquals(3072, Stats.recommendMaxLength(new int[] {3072, 10}, 1.0, 16)); // a multiple stays
        assertEquals(16, Stats.recommendMaxLength(new int[] {0, 0}, 0.5, 16));       // never below one multiple
        assertEquals(1500, Stats.recommendMaxLength(lengths, 0.5, 1));
        // the unsorted input is not modified
        assertEquals(100, lengths[0]);
        assertEquals(3000, lengths[1]);
        assertThrows(IllegalArgumentException.class, () -> Stats.recommendMaxLength(lengths, 0, 16));
        assertThrows(IllegalArgumentException.class, () -> Stats.recommendMaxLength(lengths, 0.9, 0));
    }
}
