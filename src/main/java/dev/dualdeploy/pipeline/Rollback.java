package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.target.DeployTarget;
import dev.dualdeploy.target.RolloutResult;
import dev.dualdeploy.target.TargetState;
import java.time.Duration;
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
        Map<Side, TargetState> before = LastGood.reconcile(stage, opened, Deploy.readBack(opened), reporter);
        List<Side> already = alreadyThere(sides, before);
        already.forEach(side -> reporter.event(stage.name(), side, "already runs " + before.get(side).image().orElseThrow()
                + ", where the other sides return, and has no good release before it recorded: left as it is"));
        List<Side> moving = sides.stream().filter(s -> !already.contains(s)).toList();
        Map<Side, String> errors = new EnumMap<>(Side.class);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, sides.size()));
        try {
            Map<Side, RolloutResult> results = Deploy.parallel(pool, moving, side -> deploy.rollback(stage, side, opened.get(side), errors));
            Map<Side, TargetState> after = Deploy.readBack(opened);
            List<SideReport> reports = new ArrayList<>();
            for (Side side : sides) {
                Optional<RolloutResult> result = Optional.ofNullable(results.get(side));
                reports.add(new SideReport(side, opened.get(side).describe(), Optional.empty(), result,
                        Optional.ofNullable(errors.get(side)), after.get(side), result.map(RolloutResult::took).orElse(Duration.ZERO)));
            }
            List<String> failed = moving.stream().filter(s -> !results.get(s).succeeded())
                    .map(s -> s.label() + ": " + results.get(s).reason()).toList();
            Parity parity = Parity.of(after);
            // Sides that ran one release must end on one release. If they do not (records that disagree in a way
            // LastGood could not settle), the stage is in DRIFT, which is not a rollback that succeeded; sides that
            // already differed when the rollback began (deployed one at a time) may still differ.
            boolean drift = failed.isEmpty() && sides.size() > 1 && parity.status() == Parity.Status.DRIFT
                    && Parity.of(before).status() == Parity.Status.PARITY;
            StageOutcome outcome = failed.isEmpty() && !drift ? StageOutcome.SUCCEEDED : StageOutcome.ROLLBACK_FAILED;
            String done = moving.isEmpty() ? "rolled back nothing" : "rolled back " + Side.labels(moving);
            String left = already.isEmpty() ? "" : " (" + Side.labels(already) + " already ran the release the others returned to)";
            String reason = drift ? done + ", but they now run different releases (" + parity.reason()
                    + "): the sides' last good records disagree; needs a person"
                    : failed.isEmpty() ? done + left : "rollback failed: " + String.join("; ", failed);
            reporter.event(stage.name(), null, outcome + ": " + reason + " [" + parity.status() + "]");
            return new StageReport(stage.name(), Optional.empty(), outcome, reason, parity, reports);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The sides with no release to return to that already run the one release every other side returns to: what a
     * rollback killed after those sides switched leaves (the switch moved their records, so nothing is recorded
     * before it). Writing them would fail; leaving them is the rollback.
     */
    private static List<Side> alreadyThere(List<Side> sides, Map<Side, TargetState> before) {
        List<Side> going = sides.stream().filter(s -> before.get(s).rollbackImage().isPresent()).toList();
        List<Optional<String>> destinations = going.stream().map(s -> before.get(s).rollbackImage()).distinct().toList();
        if (going.isEmpty() || destinations.size() != 1) {
            return List.of();
        }
        return sides.stream().filter(s -> !going.contains(s))
                .filter(s -> before.get(s).lastGoodImage().isPresent() && before.get(s).image().equals(destinations.get(0)))
                .toList();
    }
}
