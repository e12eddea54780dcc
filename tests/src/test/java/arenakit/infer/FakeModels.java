package arenakit.infer;

import arenakit.data.Conversation;
import arenakit.data.Turn;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Ensemble members whose output and speed are known: a fake clock that only the runners move, sequence lengths
 * fixed per row, logits a function of the tokens (the swapped row's differ), and a cost per batch of
 * {@code a * tokens + b * sum(length^2)} seconds, the shape the cost model fits.
 */
public final class FakeModels {
    private FakeModels() {}

    /** A clock in nanoseconds that moves only when told. */
    public static final class Clock {
        final AtomicLong nanos = new AtomicLong();

        public long now() {
            return nanos.get();
        }

        public void advance(double seconds) {
            nanos.addAndGet(Math.round(seconds * 1e9));
        }

        public double seconds() {
            return nanos.get() / 1e9;
        }
    }

    /** The row's length in tokens at an unlimited budget: 50 to 1000, spread over the rows. */
    public static int length(Conversation row) {
        return 50 + Math.floorMod(row.id().hashCode() * 31, 951);
    }

    /** A hash of the row's text, so the swapped row's tokens differ from the row's. */
    static int text(Conversation row) {
        int h = 17;
        for (Turn t : row.turns()) {
            h = h * 31 + String.valueOf(t.responseA()).hashCode();
            h = h * 31 + 7 * String.valueOf(t.responseB()).hashCode();
        }
        return h & 0x7fffffff;
    }

    /** A member; {@code a}, {@code b} its true cost, {@code slowAfter} batches after which it runs 10x slower. */
    public static final class Member implements Ensemble.Member {
        final String name;
        final double weight;
        final int maxLength;
        final Clock clock;
        public double a = 1.2e-3;
        public double b = 6e-7;
        public double loadSeconds = 5;
        public int slowAfter = Integer.MAX_VALUE;
        public String fingerprint;
        /** Sequences run, over all opens. */
        public final AtomicInteger sequences = new AtomicInteger();
        public final AtomicInteger batches = new AtomicInteger();
        public final AtomicInteger opened = new AtomicInteger();
        /** (clock seconds, sequence length) of every sequence run, in order. */
        public final List<double[]> trace = new ArrayList<>();

        public Member(String name, double weight, int maxLength, Clock clock) {
            this.name = name;
            this.weight = weight;
            this.maxLength = maxLength;
            this.clock = clock;
            this.fingerprint = "fake-" + name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public double weight() {
            return weight;
        }

        @Override
        public int maxLength() {
            return maxLength;
        }

        @Override
        public String fingerprint(InferenceConfig inference) {
            return (fingerprint + "0000000000000000").replaceAll("[^a-z0-9]", "0");
        }

        @Override
        public Function<Conversation, int[]> encoder(int budget) {
            return row -> {
                int[] ids = new int[Math.min(length(row), budget)];
                ids[0] = text(row);
                return ids;
            };
        }

        /** About 1e7 parameters: the CPU prior is a0 = 4e-4 s/token, b0 = 1e-7 s/len^2 (a 3x and 6x slower truth). */
        @Override
        public DeviceTable.Shape shape(InferenceConfig inference) {
            return new DeviceTable.Shape(10_000_000, 4, 4, 256, 40_000_000, false);
        }

        @Override
        public BatchRunner open(InferenceConfig inference) {
            opened.incrementAndGet();
            clock.advance(loadSeconds);
            return new BatchRunner() {
                @Override
                public List<float[][]> run(List<List<int[]>> work, Listener listener) {
                    List<float[][]> out = new ArrayList<>();
                    for (int i = 0; i < work.size(); i++) {
                        if (!listener.proceed(i)) {
                            while (out.size() < work.size()) {
                                out.add(null);
                            }
                            break;
                        }
                        List<int[]> batch = work.get(i);
                        double cost = 0;
                        long tokens = 0;
                        float[][] logits = new float[batch.size()][];
                        for (int k = 0; k < batch.size(); k++) {
                            int[] s = batch.get(k);
                            cost += a * s.length + b * (double) s.length * s.length;
                            tokens += s.length;
                            logits[k] = logits(s);
                            synchronized (trace) {
                                trace.add(new double[] {clock.seconds(), s.length});
                            }
                        }
                        clock.advance(batches.incrementAndGet() > slowAfter ? 10 * cost : cost);
                        sequences.addAndGet(batch.size());
                        out.add(logits);
                        listener.done(i, tokens);
                    }
                    return out;
                }

                @Override
                public String describe() {
                    return "fake " + name;
                }
            };
        }

        /** Logits from the tokens (a row's text and length), different per model. */
        float[] logits(int[] s) {
            int t = s[0];
            return new float[] {(t % 97) / 40f + (float) weight / 10, ((t / 97) % 89) / 40f, s.length / 1000f};
        }
    }
}
