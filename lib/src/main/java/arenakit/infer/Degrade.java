package arenakit.infer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * What a time budget has decided for the rows still to do: TTA on or off, and the fraction of each model's
 * max_length (the models it dropped are marked {@link ModelRun.State#DROPPED}). {@link #apply} takes the steps in
 * their documented order, each only while the projection still passes the hard limit:
 *
 * <ol>
 *   <li>swap TTA off;</li>
 *   <li>drop the lowest-weight model still to run, then the next (never the highest-weight one, which runs first
 *       and so covers every row);</li>
 *   <li>a shorter max_length for every model still running: the largest fraction of its own (steps of 5%) whose
 *       projection is within 97% of the limit, down to {@link ModelRun#floor}.</li>
 * </ol>
 *
 * A later check can shorten max_length again when the projection passes the limit once more. Each decision is logged
 * with its numbers and kept for the run's report.
 */
final class Degrade {
    static final double LENGTH_STEP = 0.05;
    static final double TARGET = 0.97;

    /** The projected finish, in seconds from the start, if the rows still to do ran with these settings. */
    @FunctionalInterface
    interface Projection {
        double at(boolean tta, double lengthFactor);
    }

    private final TimeBudget budget;
    private final Consumer<String> log;
    private final List<String> decisions = new ArrayList<>();
    private boolean tta;
    private double lengthFactor = 1;

    Degrade(boolean tta, TimeBudget budget, Consumer<String> log) {
        this.tta = tta;
        this.budget = budget;
        this.log = log;
    }

    boolean tta() {
        return tta;
    }

    double lengthFactor() {
        return lengthFactor;
    }

    List<String> decisions() {
        return List.copyOf(decisions);
    }

    /** Records a decision made elsewhere (the hard limit). */
    void note(String line) {
        decisions.add(line);
        log.accept(line);
    }

    /**
     * Takes the steps needed for the projection to fit the hard limit; true when a setting of {@code running}'s run
     * in flight changed (it must stop and re-plan its rows).
     */
    boolean apply(List<ModelRun> models, ModelRun running, Projection projection) {
        double limit = budget.hardLimit();
        double projected = projection.at(tta, lengthFactor);
        if (projected <= limit) {
            return false;
        }
        boolean changed = false;
        if (tta) {
            int todo = rowsToDo(models);
            tta = false;
            double now = projection.at(false, lengthFactor);
            decide(String.format(Locale.ROOT, "swap TTA off for the %,d row prediction(s) still to do", todo),
                    projected, now);
            projected = now;
            changed = true;
        }
        ModelRun anchor = models.stream().max(Comparator.comparingDouble(ModelRun::weight)
                .thenComparing(m -> -models.indexOf(m))).orElseThrow();
        while (projected > limit) {
            ModelRun drop = models.stream().filter(m -> m != anchor && m.active() && !m.remaining.isEmpty())
                    .min(Comparator.comparingDouble(ModelRun::weight).thenComparing(m -> -models.indexOf(m)))
                    .orElse(null);
            if (drop == null) {
                break;
            }
            int todo = drop.rowsToDo();
            drop.state = ModelRun.State.DROPPED;
            double now = projection.at(tta, lengthFactor);
            decide(String.format(Locale.ROOT, "drop %s (weight %s, the lowest still to run) for its %,d row(s) still "
                    + "to do", drop.name(), weight(drop), todo), projected, now);
            projected = now;
            changed |= drop == running;
        }
        if (projected > limit) {
            double chosen = -1;
            for (double f = lengthFactor - LENGTH_STEP; f > 0; f -= LENGTH_STEP) {
                if (projection.at(tta, f) <= limit * TARGET || atFloor(models, f)) {
                    chosen = f;
                    break;
                }
            }
            if (chosen > 0 && capsChange(models, chosen)) {
                String caps = caps(models, chosen);
                int todo = rowsToDo(models);
                lengthFactor = chosen;
                double now = projection.at(tta, chosen);
                decide(String.format(Locale.ROOT, "max_length %s for the %,d row prediction(s) still to do%s", caps,
                        todo, now > limit ? " (the shortest allowed: the hard limit will cut the rest)" : ""),
                        projected, now);
                changed = true;
            }
        }
        return changed;
    }

    static int rowsToDo(List<ModelRun> models) {
        return models.stream().mapToInt(ModelRun::rowsToDo).sum();
    }

    private static boolean atFloor(List<ModelRun> models, double factor) {
        return models.stream().filter(ModelRun::active).allMatch(m -> m.capAt(factor) == m.floor());
    }

    private boolean capsChange(List<ModelRun> models, double factor) {
        return models.stream().filter(ModelRun::active).anyMatch(m -> m.capAt(factor) != m.capAt(lengthFactor));
    }

    private String caps(List<ModelRun> models, double factor) {
        List<String> out = new ArrayList<>();
        for (ModelRun m : models) {
            if (m.active()) {
                out.add((models.size() > 1 ? m.name() + " " : "") + m.capAt(lengthFactor) + " -> " + m.capAt(factor));
            }
        }
        return String.join(", ", out);
    }

    private void decide(String what, double before, double after) {
        note(String.format(Locale.ROOT, "time budget %s: projected finish %s (elapsed %s) passes the hard limit %s: "
                + "%s -> projected %s", TimeBudget.format(budget.budget()), Predictor.duration(before),
                Predictor.duration(budget.elapsed()), Predictor.duration(budget.hardLimit()), what,
                Predictor.duration(after)));
    }

    private static String weight(ModelRun m) {
        double w = m.weight();
        return w == Math.rint(w) ? String.valueOf((long) w) : String.valueOf(w);
    }
}
