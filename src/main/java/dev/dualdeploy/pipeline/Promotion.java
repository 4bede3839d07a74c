package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.target.TargetState;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One stage's promotion: deploy → verify (parity) → gate, and on a failed gate the rollback of every side that got
 * the release. With {@code gate.canary}, the canary side is deployed and judged first against the other side, which
 * still runs the previous release; only when that gate passes does the other side follow, and a short gate judges
 * both. A canary that fails is rolled back alone: the other side is never touched.
 */
public final class Promotion {

    private final Targets targets;
    private final Reporter reporter;
    private final Function<StageSpec, Gate> gates;
    private final Clock clock;

    /**
     * @param gates makes the gate of a stage (with its metrics provider); called only for a stage whose gate has checks
     */
    public Promotion(Targets targets, Reporter reporter, Function<StageSpec, Gate> gates, Clock clock) {
        this.targets = targets;
        this.reporter = reporter;
        this.gates = gates;
        this.clock = clock;
    }

    /**
     * Promotes the release through one stage.
     *
     * @param toggle which sides get the release
     * @param rollbackOnFailure whether a failed release (deploy or gate) is rolled back automatically
     * @param gate whether the gate runs; false deploys and verifies only
     */
    public StageReport run(StageSpec stage, Release release, ToggleSpec toggle, boolean rollbackOnFailure, boolean gate) {
        Deploy deploy = new Deploy(targets, reporter);
        GateSpec spec = stage.gate();
        List<Side> sides = List.of(Side.values()).stream().filter(toggle::on).toList();
        if (!spec.analyses() || sides.isEmpty()) {
            return deploy.run(stage, release, toggle, rollbackOnFailure);
        }
        if (!gate) {
            reporter.event(stage.name(), null, "the gate is skipped (--no-gate): the stage is not judged before promotion");
            return deploy.run(stage, release, toggle, rollbackOnFailure);
        }
        Gate judge = gates.apply(stage);
        List<GateReport> runs = new ArrayList<>();
        Map<Side, Instant> deployedAt = new EnumMap<>(Side.class);
        Optional<Side> canary = spec.canary();
        if (canary.isPresent() && sides.size() < 2) {
            reporter.event(stage.name(), null, "canary " + canary.get().label() + " needs both sides enabled; judging "
                    + sides.get(0).label() + " alone");
        }
        if (canary.isPresent() && sides.size() == 2) {
            Side first = canary.get();
            Side other = first == Side.LEGACY ? Side.KUBERNETES : Side.LEGACY;
            deployedAt.put(first, clock.instant());
            StageReport canaryDeploy = deploy.run(stage, release, only(first), rollbackOnFailure);
            if (canaryDeploy.outcome() != StageOutcome.SUCCEEDED) {
                return canaryDeploy;
            }
            GateReport canaryGate = judge.run(new Gate.Phase("canary", List.of(first), spec.soak(), deployedAt));
            runs.add(canaryGate);
            if (canaryGate.decision() != GateReport.Decision.PASS) {
                return afterGate(stage, release, List.of(canaryDeploy), canaryGate, List.of(first), rollbackOnFailure, runs,
                        "; " + other.label() + " was never changed");
            }
            deployedAt.put(other, clock.instant());
            StageReport follow = deploy.run(stage, release, only(other), rollbackOnFailure);
            if (follow.outcome() != StageOutcome.SUCCEEDED) {
                return followFailed(stage, release, canaryDeploy, follow, first, rollbackOnFailure, runs);
            }
            GateReport followGate = judge.run(new Gate.Phase("follow", sides, spec.followSoak(), deployedAt));
            runs.add(followGate);
            if (followGate.decision() != GateReport.Decision.PASS) {
                return afterGate(stage, release, List.of(canaryDeploy, follow), followGate, sides, rollbackOnFailure, runs, "");
            }
            return passed(stage, release, List.of(canaryDeploy, follow), runs);
        }
        sides.forEach(s -> deployedAt.put(s, clock.instant()));
        StageReport deployed = deploy.run(stage, release, toggle, rollbackOnFailure);
        if (deployed.outcome() != StageOutcome.SUCCEEDED) {
            return deployed;
        }
        GateReport report = judge.run(new Gate.Phase("gate", sides, spec.soak(), deployedAt));
        runs.add(report);
        if (report.decision() != GateReport.Decision.PASS) {
            return afterGate(stage, release, List.of(deployed), report, sides, rollbackOnFailure, runs, "");
        }
        return passed(stage, release, List.of(deployed), runs);
    }

    private static ToggleSpec only(Side side) {
        return new ToggleSpec(side == Side.LEGACY, side == Side.KUBERNETES);
    }

    private StageReport passed(StageSpec stage, Release release, List<StageReport> deploys, List<GateReport> runs) {
        List<SideReport> sides = sides(deploys);
        Parity parity = Parity.of(after(sides));
        String reason = "every enabled side runs " + release.version() + " (" + Release.shortDigest(release.digest()) + ") and the gate"
                + " passed: " + runs.get(runs.size() - 1).reason();
        reporter.event(stage.name(), null, StageOutcome.SUCCEEDED + ": " + reason + " [" + parity.status() + "]");
        return new StageReport(stage.name(), Optional.of(release), StageOutcome.SUCCEEDED, reason, parity, sides, runs);
    }

    private StageReport afterGate(StageSpec stage, Release release, List<StageReport> deploys, GateReport gate, List<Side> rollBack,
                                  boolean rollbackOnFailure, List<GateReport> runs, String note) {
        List<SideReport> sides = sides(deploys);
        String what = (gate.phase().equals("gate") ? "gate " : "gate " + gate.phase() + " ") + gate.outcome() + ": " + gate.reason();
        if (gate.decision() == GateReport.Decision.PAUSE) {
            String reason = what + "; " + Side.labels(rollBack) + " keep " + release.version() + " until a person runs the gate again"
                    + " (dualdeploy gate) or rolls back (dualdeploy rollback)";
            reporter.event(stage.name(), null, StageOutcome.PAUSED + ": " + reason);
            return new StageReport(stage.name(), Optional.of(release), StageOutcome.PAUSED, reason, Parity.of(after(sides)), sides, runs);
        }
        if (!rollbackOnFailure) {
            String reason = what + "; automatic rollback is off, the release is still in place on " + Side.labels(rollBack);
            reporter.event(stage.name(), null, StageOutcome.FAILED + ": " + reason);
            return new StageReport(stage.name(), Optional.of(release), StageOutcome.FAILED, reason, Parity.of(after(sides)), sides, runs);
        }
        return rolledBack(stage, release, sides, rollBack, what, note, runs);
    }

    /** The other side's deploy failed after the canary passed: the canary side has the release, so it goes back too. */
    private StageReport followFailed(StageSpec stage, Release release, StageReport canaryDeploy, StageReport follow, Side canary,
                                     boolean rollbackOnFailure, List<GateReport> runs) {
        List<SideReport> sides = sides(List.of(canaryDeploy, follow));
        if (!rollbackOnFailure) {
            return new StageReport(stage.name(), Optional.of(release), follow.outcome(), follow.reason() + "; " + canary.label()
                    + " keeps the release: automatic rollback is off", Parity.of(after(sides)), sides, runs);
        }
        if (follow.outcome() == StageOutcome.ROLLBACK_FAILED) {
            return new StageReport(stage.name(), Optional.of(release), StageOutcome.ROLLBACK_FAILED, follow.reason() + "; "
                    + canary.label() + " was left on the release", Parity.of(after(sides)), sides, runs);
        }
        return rolledBack(stage, release, sides, List.of(canary), "the canary passed but the other side's deploy failed: "
                + follow.reason(), "", runs);
    }

    private StageReport rolledBack(StageSpec stage, Release release, List<SideReport> sides, List<Side> rollBack, String what,
                                   String note, List<GateReport> runs) {
        reporter.event(stage.name(), null, what + "; rolling back " + Side.labels(rollBack));
        StageReport rollback = new Rollback(targets, reporter).run(stage, rollBack);
        Map<Side, SideReport> merged = new EnumMap<>(Side.class);
        sides.forEach(s -> merged.put(s.side(), s));
        for (SideReport back : rollback.sides()) {
            SideReport deployed = merged.get(back.side());
            merged.put(back.side(), deployed == null ? back : new SideReport(back.side(), deployed.target(), deployed.rollout(),
                    back.rollback(), back.rollbackError(), back.after(), deployed.took().plus(back.took())));
        }
        List<SideReport> all = new ArrayList<>(merged.values());
        boolean ok = rollback.outcome() == StageOutcome.SUCCEEDED;
        StageOutcome outcome = ok ? StageOutcome.ROLLED_BACK : StageOutcome.ROLLBACK_FAILED;
        String reason = what + (ok ? "; rolled back " + Side.labels(rollBack) + " to the previous release" + note
                : "; " + rollback.reason() + ": needs a person");
        Parity parity = Parity.of(after(all));
        reporter.event(stage.name(), null, outcome + ": " + reason + " [" + parity.status() + "]");
        return new StageReport(stage.name(), Optional.of(release), outcome, reason, parity, all, runs);
    }

    private static List<SideReport> sides(List<StageReport> deploys) {
        Map<Side, SideReport> sides = new EnumMap<>(Side.class);
        deploys.forEach(d -> d.sides().forEach(s -> sides.put(s.side(), s)));
        return new ArrayList<>(sides.values());
    }

    private static Map<Side, TargetState> after(List<SideReport> sides) {
        Map<Side, TargetState> states = new EnumMap<>(Side.class);
        sides.forEach(s -> states.put(s.side(), s.after()));
        return states;
    }

}
