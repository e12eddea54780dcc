package arenakit.spark;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * One input row on its way through the job: the conversation (turn texts; any may be null, as in the data), where
 * it came from ({@code source}: index into the job's input files; {@code line}: the CSV line or Parquet row number,
 * 1-based) and, once known, its input tokens and its partition. Plain and serializable so Spark can shuffle it.
 */
final class PairRow implements Serializable {
    private static final long serialVersionUID = 1L;

    final String id;
    final String[] prompts;
    final String[] responsesA;
    final String[] responsesB;
    final int source;
    final long line;
    int tokens;

    private PairRow(String id, String[] prompts, String[] responsesA, String[] responsesB, int source, long line) {
        this.id = id;
        this.prompts = prompts;
        this.responsesA = responsesA;
        this.responsesB = responsesB;
        this.source = source;
        this.line = line;
    }

    static PairRow of(Conversation c, int source, long line) {
        int n = c.turns().size();
        String[] p = new String[n];
        String[] a = new String[n];
        String[] b = new String[n];
        for (int i = 0; i < n; i++) {
            Turn t = c.turns().get(i);
            p[i] = t.prompt();
            a[i] = t.responseA();
            b[i] = t.responseB();
        }
        return new PairRow(c.id(), p, a, b, source, line);
    }

    /** The row as the library sees it (unlabeled: the job predicts, it never trains). */
    Conversation conversation() {
        List<Turn> turns = new ArrayList<>(prompts.length);
        for (int i = 0; i < prompts.length; i++) {
            turns.add(new Turn(prompts[i], responsesA[i], responsesB[i]));
        }
        return new Conversation(id, null, null, turns, null, line);
    }

    /** Input order: file by file, line by line. */
    static int compare(PairRow x, PairRow y) {
        int c = Integer.compare(x.source, y.source);
        return c != 0 ? c : Long.compare(x.line, y.line);
    }
}
