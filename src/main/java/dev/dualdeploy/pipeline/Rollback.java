package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.target.DeployTarget;
import dev.dualdeploy.target.RolloutResult;
import dev.dualdeploy.target.TargetState;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Returns the chosen sides of one stage, in parallel, to their last good release, or, on a side that already runs it,
 * to the good release before it; and follows them (see {@link dev.dualdeploy.target.DeployTarget#rollback()}).
 */
public final class Rollback {

    private final Targets targets;
    private final Reporter reporter;

    public Rollback(Targets targets, Reporter reporter) {
        this.targets = targets;
        this.reporter = reporter;
    }

    /**
     * Rolls the sides back; SUCCEEDED only if every side completed its rollback.
     *
     * @param sides the configured sides to roll back
     */
    public StageReport run(StageSpec stage, List<Side> sides) {
        reporter.event(stage.name(), null, "rolling back " + Side.labels(sides));
        Map<Side, DeployTarget> opened = new EnumMap<>(Side.class);
        for (Side side : sides) {
            opened.put(side, targets.open(stage, side, reporter.side(stage.name(), side)));
        }
        Deploy deploy = new Deploy(targets, reporter);
        Map<Side, String> errors = new EnumMap<>(Side.class);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, sides.size()));
        try {
            Map<Side, RolloutResult> results = Deploy.parallel(pool, sides, side -> deploy.rollback(stage, side, opened.get(side), errors));
            Map<Side, TargetState> after = Deploy.readBack(opened);
            List<SideReport> reports = new ArrayList<>();
            for (Side side : sides) {
                reports.add(new SideReport(side, opened.get(side).describe(), Optional.empty(), Optional.of(results.get(side)),
                        Optional.ofNullable(errors.get(side)), after.get(side), results.get(side).took()));
            }
            // A rollback that cannot be read back is not one that succeeded: a person must look (exit 4).
            List<String> failed = sides.stream().filter(s -> !results.get(s).succeeded() || !after.get(s).readable())
                    .map(s -> results.get(s).succeeded() ? Parity.cannotBeRead(s, after.get(s)) : s.label() + ": " + results.get(s).reason())
                    .toList();
            Parity parity = Parity.of(after);
            // Each side goes back to its own last good record; records that disagree (a run killed between marking
            // the two sides good) leave the stage in DRIFT, which is not a rollback that succeeded.
            boolean drift = failed.isEmpty() && sides.size() > 1 && parity.status() == Parity.Status.DRIFT;
            StageOutcome outcome = failed.isEmpty() && !drift ? StageOutcome.SUCCEEDED : StageOutcome.ROLLBACK_FAILED;
            String reason = drift ? "rolled back " + Side.labels(sides) + ", but they now run different releases (" + parity.reason()
                    + "): the sides' last good records disagree; needs a person"
                    : failed.isEmpty() ? "rolled back " + Side.labels(sides) : "rollback failed: " + String.join("; ", failed);
            reporter.event(stage.name(), null, outcome + ": " + reason + " [" + parity.status() + "]");
            return new StageReport(stage.name(), Optional.empty(), outcome, reason, parity, reports);
        } finally {
            pool.shutdownNow();
        }
    }
}
