package arenakit.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PostProcessTest {
    private static final double[] MODEL = {0.5, 0.3, 0.2};
    private static final PostProcess RULES = new PostProcess(new PostProcessConfig(0.9, 0.8));

    private static Conversation row(Turn... turns) {
        return new Conversation("1", null, null, Arrays.asList(turns), null, 0);
    }

    @Test
    void emptySideLoses() {
        // A said nothing in every turn (null and blank both count): B gets 0.9, A and tie share 0.1 as 5:2
        Conversation emptyA = row(new Turn("q", null, "answer"), new Turn("q2", " ", "more"));
        assertArrayEquals(new double[] {0.1 * 5 / 7, 0.9, 0.1 * 2 / 7}, RULES.apply(emptyA, MODEL), 1e-12);
        Conversation emptyB = row(new Turn("q", "answer", ""));
        assertArrayEquals(new double[] {0.9, 0.1 * 3 / 5, 0.1 * 2 / 5}, RULES.apply(emptyB, MODEL), 1e-12);
    }

    @Test
    void identicalResponsesTie() {
        Conversation same = row(new Turn("q", "same", "same"), new Turn("q2", "x", "x"));
        assertArrayEquals(new double[] {0.2 * 5 / 8, 0.2 * 3 / 8, 0.8}, RULES.apply(same, MODEL), 1e-12);
    }

    @Test
    void otherRowsAndSwitchedOffRulesAreUntouched() {
        Conversation normal = row(new Turn("q", "a", "b"));
        assertArrayEquals(MODEL, RULES.apply(normal, MODEL), 0);
        // both sides empty is neither rule: no evidence for a side, and "identical" needs something said
        assertNull(RULES.rule(row(new Turn("q", null, ""))));
        PostProcess off = new PostProcess(new PostProcessConfig(null, null));
        assertArrayEquals(MODEL, off.apply(row(new Turn("q", null, "b")), MODEL), 0);
        assertArrayEquals(MODEL, new PostProcess(null).apply(row(new Turn("q", "s", "s")), MODEL), 0);
        assertNull(RULES.rule(row(new Turn("q", "s", "s"), new Turn("q", "t", "u"))));
        assertArrayEquals(new double[] {0.5, 0.3, 0.2}, MODEL, 0); // apply() never modifies its input
    }
}
