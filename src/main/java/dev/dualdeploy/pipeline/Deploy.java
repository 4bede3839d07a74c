package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.time.Abort;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * What {@code dualdeploy deploy} runs on one stage: rollouts → verify (parity) → gate; only a stage that ends SUCCEEDED records the release as
 * its last good release. On a failed gate, every enabled side that does not run its last good release is returned to
 * it. With {@code gate.canary}, the canary side is deployed and judged first against the other side, which still runs
 * the last good release; only when that gate passes does the other side follow, and a short gate judges both. A
 * canary that fails is rolled back alone: the other side, on its last good release, is read but never written.
 *
 * <p>Aborted (the {@link Abort} requested), no rollout and no gate window starts any more, and the stage is put back
 * ({@link PutBack}) whether the abort came during a rollout, a gate or between them.
 */
public final class Deploy {

    private final Targets targets;
    private final EventSink events;
    private final Function<StageSpec, Gate> gates;
    private final Clock clock;
    private final Abort abort;

    /**
     * @param gates makes the gate of a stage (with its metrics provider); called only for a stage whose gate has checks
     */
    public Deploy(Targets targets, EventSink events, Function<StageSpec, Gate> gates, Clock clock) {
        this(targets, events, gates, clock, Abort.none());
    }

    /**
     * @param gates makes the gate of a stage; the gates it makes should end their soak on the same {@code abort}
     * @param abort stops the promotion where it would start new work, and puts the stage back
     */
    public Deploy(Targets targets, EventSink events, Function<StageSpec, Gate> gates, Clock clock, Abort abort) {
        this.targets = targets;
        this.events = events;
        this.gates = gates;
        this.clock = clock;
        this.abort = abort;
    }

    /**
     * Promotes the release through one stage.
     *
     * @param toggle which sides get the release
     * @param rollbackOnFailure whether a failed release (deploy or gate) is rolled back automatically
     * @param gate whether the gate runs; false deploys and verifies only
     * @throws dev.dualdeploy.targets.TargetException if the stage succeeded but the release could not be recorded as
     *         its last good release
     */
    public StageResult run(StageSpec stage, Release release, ToggleSpec toggle, boolean rollbackOnFailure, boolean gate) {
        Rollouts rollouts = new Rollouts(targets, events, abort);
        GateSpec spec = stage.gate();
        List<Side> sides = List.of(Side.values()).stream().filter(toggle::on).toList();
        if (!sides.isEmpty()) {
            refuseLeftoversToggledOff(stage, release, toggle);
        }
        if (!spec.analyses() || sides.isEmpty()) {
            return rollouts.run(stage, release, toggle, rollbackOnFailure);
        }
        if (!gate) {
            events.accept(new Event.GateSkipped(events.run(), events.now(), Optional.of(stage.name()), Optional.empty(),
                    "--no-gate; the stage is not judged before promotion"));
            return rollouts.run(stage, release, toggle, rollbackOnFailure);
        }
        Gate judge = gates.apply(stage);
        // Every enabled side's inputs are checked before the first side changes (a canary must not go out when the
        // other side's manifests are malformed), and what each side ran is kept for failure recovery.
        Map<Side, DeployTarget> opened = open(stage, sides);
        Rollouts.preflight(opened);
        Map<Side, TargetState> read = new EnumMap<>(Side.class);
        opened.forEach((side, target) -> read.put(side, target.current()));
        Rollouts.requirePresent(stage, opened, read, sides);
        if (abort.requested()) {
            return PutBack.beforeRollout(stage, Optional.of(release), "the preflight reads", "nothing was changed", opened, read,
                    events, abort);
        }
        Emit.stageStarted(events, stage.name(), "deploy", sides, Optional.of(release.image()), Optional.of(release.version()), read);
        Map<Side, TargetState> reconciled = LastGood.reconcile(stage, opened, read, events);
        ExecutorService returns = Executors.newFixedThreadPool(opened.size());
        Map<Side, TargetState> before;
        try {
            before = Recovery.returnLeftovers(stage, opened, reconciled, release, baselined(spec), rollouts, returns, events);
        } finally {
            returns.shutdownNow();
        }
        // A side rolled back since its last good record (just now, or by an earlier run shortly before) may have served
        // the release it was rolled back from within the last soak: that traffic must not be the baseline either.
        boolean rolledBack = before != reconciled || before.values().stream().anyMatch(state -> state.rolledBackFrom().isPresent());
        if (abort.requested()) {
            return before != reconciled
                    ? PutBack.beforeRollout(stage, Optional.of(release), "the return of what an earlier run left", "the sides were returned"
                    + " to the last good release; " + release.version() + " was not deployed", opened, before, events, abort)
                    : PutBack.beforeRollout(stage, Optional.of(release), "the stage's preparation (before any rollout)",
                    "nothing was changed", opened, before, events, abort);
        }
        if (rolledBack && spec.checks().stream().anyMatch(Deploy::beforeDeploy)) {
            Emit.notice(events, stage.name(), null, "waiting " + Durations.format(spec.soak()) + " (the soak) before deploying, so that"
                    + " the gate's before-deploy baseline is the last good release's traffic, not that of the release it replaced");
            if (!judge.awaitBaseline(spec.soak()) && abort.requested()) {
                return PutBack.beforeRollout(stage, Optional.of(release), "the wait of one soak before deploying",
                        (before != reconciled ? "the sides were returned to the last good release; " : "") + release.version()
                                + " was not deployed", opened, before, events, abort);
            }
        }
        Run run = new Run(stage, release, sides, rollbackOnFailure, before, rollouts);
        List<GateResult> runs = new ArrayList<>();
        Map<Side, Instant> deployedAt = new EnumMap<>(Side.class);
        Optional<Side> canary = spec.canary();
        if (canary.isPresent() && sides.size() < 2) {
            Emit.notice(events, stage.name(), null, "canary " + canary.get().label() + " needs both sides enabled; judging "
                    + sides.get(0).label() + " alone");
        }
        if (canary.isPresent() && sides.size() == 2) {
            Side first = canary.get();
            Side other = first == Side.LEGACY ? Side.KUBERNETES : Side.LEGACY;
            deployedAt.put(first, clock.instant());
            StageResult canaryDeploy = rollouts.run(stage, release, only(first), rollbackOnFailure, false, sides);
            if (canaryDeploy.outcome() != StageOutcome.SUCCEEDED) {
                return ended(canaryDeploy, false);
            }
            GateResult canaryGate = judge(run, judge, new Gate.Phase("canary", List.of(first), spec.soak(), deployedAt));
            runs.add(canaryGate);
            if (abort.requested()) {
                return aborted(run, sides(List.of(canaryDeploy)), "the gate canary", Optional.of(other), runs);
            }
            if (canaryGate.decision() != GateResult.Decision.PASS) {
                return afterGate(run, List.of(canaryDeploy), canaryGate, List.of(first), runs, Optional.of(other));
            }
            deployedAt.put(other, clock.instant());
            StageResult follow = rollouts.run(stage, release, only(other), rollbackOnFailure, false, sides);
            if (follow.outcome() != StageOutcome.SUCCEEDED && abort.requested()) {
                // The follow deploy's put-back covered the canary side too; its reason says what was put back.
                List<SideResult> both = sides(List.of(canaryDeploy, follow));
                return ended(new StageResult(stage.name(), Optional.of(release), follow.outcome(), follow.reason(),
                        Parity.of(after(both)), both, runs));
            }
            if (follow.outcome() != StageOutcome.SUCCEEDED) {
                return followFailed(run, canaryDeploy, follow, first, runs);
            }
            GateResult followGate = judge(run, judge, new Gate.Phase("follow", sides, spec.followSoak(), deployedAt));
            runs.add(followGate);
            if (abort.requested()) {
                return aborted(run, sides(List.of(canaryDeploy, follow)), "the gate follow", Optional.empty(), runs);
            }
            if (followGate.decision() != GateResult.Decision.PASS) {
                return afterGate(run, List.of(canaryDeploy, follow), followGate, sides, runs, Optional.empty());
            }
            return passed(run, List.of(canaryDeploy, follow), runs);
        }
        sides.forEach(s -> deployedAt.put(s, clock.instant()));
        StageResult deployed = rollouts.run(stage, release, toggle, rollbackOnFailure, false, sides);
        if (deployed.outcome() != StageOutcome.SUCCEEDED) {
            return ended(deployed, false);
        }
        GateResult report = judge(run, judge, new Gate.Phase("gate", sides, spec.soak(), deployedAt));
        runs.add(report);
        if (abort.requested()) {
            return aborted(run, sides(List.of(deployed)), "the gate", Optional.empty(), runs);
        }
        if (report.decision() != GateResult.Decision.PASS) {
            return afterGate(run, List.of(deployed), report, sides, runs, Optional.empty());
        }
        return passed(run, List.of(deployed), runs);
    }

    /**
     * What every step of one promotion needs.
     *
     * @param sides the enabled sides
     * @param before what each enabled side ran when the promotion began
     */
    private record Run(StageSpec stage, Release release, List<Side> sides, boolean rollbackOnFailure,
                       Map<Side, TargetState> before, Rollouts rollouts) {
    }

    private Map<Side, DeployTarget> open(StageSpec stage, List<Side> sides) {
        Map<Side, DeployTarget> opened = new EnumMap<>(Side.class);
        sides.forEach(side -> opened.put(side, targets.open(stage, side, Emit.progress(events, stage.name(), side))));
        return opened;
    }

    /**
     * A side toggled off for this run that runs a release which never passed there (left by an interrupted or failed
     * run) stops the deploy before anything changes: this run may not write it, and deploying the other side would
     * leave the stage with a side on a release nobody judged, and, were it the same release, record that release good
     * on the other side. A person returns it ({@code rollback --side}) or toggles it on, so that the deploy returns it
     * first. A toggled-off side that cannot be read is said and left alone: it may be off because it cannot be reached.
     *
     * @throws TargetException naming the side, what it runs and the ways on
     */
    private void refuseLeftoversToggledOff(StageSpec stage, Release release, ToggleSpec toggle) {
        for (Side side : Side.values()) {
            if (toggle.on(side) || !stage.configured(side)) {
                continue;
            }
            TargetState state = Rollouts.readBack(open(stage, List.of(side))).get(side);
            if (!state.readable()) {
                Emit.notice(events, stage.name(), side, "toggled off and could not be read (" + state.detail() + "): not known"
                        + " whether it runs a release that never passed here");
            } else if (state.lastGoodImage().isPresent() && !state.onLastGood() && state.image().isPresent()) {
                String runs = Text.foreign(state.version().orElse(Release.shortImage(state.image().get())));
                throw new TargetException("stage " + stage.name() + ": " + side.label() + " is toggled off but runs " + runs
                        + ", which never passed here (left by an interrupted or failed run); " + release.version() + " was not"
                        + " deployed: return it first with 'dualdeploy rollback --stage " + stage.name() + " --side "
                        + side.label() + "', or deploy with " + side.label() + " toggled on (the deploy returns it first)");
            }
        }
    }

    /** Whether a check of the gate judges against a baseline (the traffic before the deploy, or the other side). */
    private static boolean baselined(GateSpec gate) {
        return gate.checks().stream().anyMatch(c -> c instanceof CheckSpec.Compare || c instanceof CheckSpec.Sequential);
    }

    private static boolean beforeDeploy(CheckSpec check) {
        return check instanceof CheckSpec.Compare c && c.baseline().side().isEmpty()
                || check instanceof CheckSpec.Sequential q && q.baseline().side().isEmpty();
    }

    private static ToggleSpec only(Side side) {
        return new ToggleSpec(side == Side.LEGACY, side == Side.KUBERNETES);
    }

    private StageResult passed(Run run, List<StageResult> deploys, List<GateResult> runs) {
        Map<Side, TargetState> recorded = run.rollouts().markGood(run.stage(), run.release(), open(run.stage(), run.sides()));
        List<SideResult> sides = sides(deploys).stream().map(s -> new SideResult(s.side(), s.target(), s.rollout(), s.rollback(),
                s.rollbackError(), recorded.getOrDefault(s.side(), s.after()), s.took())).toList();
        Parity parity = Parity.of(after(sides));
        String reason = "every enabled side runs " + run.release().version() + " (" + Release.shortDigest(run.release().digest())
                + ") and the gate passed: " + runs.get(runs.size() - 1).reason();
        return ended(new StageResult(run.stage().name(), Optional.of(run.release()), StageOutcome.SUCCEEDED, reason, parity, sides, runs));
    }

    /**
     * @param judged the sides the gate judged (they keep the release on a pause)
     * @param untouched the side a canary gate left unchanged, named in the reason if recovery did not have to act on it
     */
    private StageResult afterGate(Run run, List<StageResult> deploys, GateResult gate, List<Side> judged,
                                  List<GateResult> runs, Optional<Side> untouched) {
        StageSpec stage = run.stage();
        Release release = run.release();
        List<SideResult> sides = sides(deploys);
        String what = (gate.phase().equals("gate") ? "gate " : "gate " + gate.phase() + " ") + gate.outcome() + ": " + gate.reason();
        if (gate.decision() == GateResult.Decision.PAUSE) {
            // Only a deploy whose gate passes records the release as last good; `dualdeploy gate` judges and changes
            // nothing, so the way on is the same deploy again (it judges the release again; a gate with a baseline
            // must not take the release itself as one, so that deploy starts again from the last good release).
            String again = baselined(stage.gate()) ? "it returns them to the last good release, deploys the release again, judges it"
                    : "it keeps the release, judges it again";
            String reason = what + "; " + Side.labels(judged) + " keep " + release.version() + " until a person runs the same"
                    + " deploy again (" + again + ", and records it as last good if the gate passes)"
                    + " or rolls back (dualdeploy rollback)";
            return ended(new StageResult(stage.name(), Optional.of(release), StageOutcome.PAUSED, reason, Parity.of(after(sides)), sides, runs));
        }
        if (!run.rollbackOnFailure()) {
            String reason = what + "; automatic rollback is off, the release is still in place on " + Side.labels(judged);
            return ended(new StageResult(stage.name(), Optional.of(release), StageOutcome.FAILED, reason, Parity.of(after(sides)), sides, runs));
        }
        return recovered(run, sides, what, untouched, runs, Optional.empty());
    }

    /**
     * Runs the gate. One that throws (a bug in a check, a provider that threw instead of returning an error) leaves
     * the stage changed: it is returned to its last good release first (unless automatic rollback is off), then the
     * exception is passed on.
     */
    private GateResult judge(Run run, Gate gate, Gate.Phase phase) {
        try {
            return gate.run(phase);
        } catch (RuntimeException e) {
            ExecutorService pool = Executors.newFixedThreadPool(run.sides().size());
            try {
                throw run.rollouts().unexpected(run.stage(), "the gate", e, open(run.stage(), run.sides()), run.before(),
                        run.release(), pool, run.rollbackOnFailure());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** The other side's deploy failed after the canary passed; its own recovery covered the canary side too. */
    private StageResult followFailed(Run run, StageResult canaryDeploy, StageResult follow, Side canary, List<GateResult> runs) {
        List<SideResult> sides = sides(List.of(canaryDeploy, follow));
        String reason = "the canary passed but the other side's deploy failed: " + follow.reason();
        if (!run.rollbackOnFailure()) {
            reason = follow.reason() + "; " + canary.label() + " keeps the release: automatic rollback is off";
        }
        return ended(new StageResult(run.stage().name(), Optional.of(run.release()), follow.outcome(), reason, Parity.of(after(sides)),
                sides, runs));
    }

    /** The run was aborted during {@code during} (a gate): the stage is put back. */
    private StageResult aborted(Run run, List<SideResult> sides, String during, Optional<Side> untouched, List<GateResult> runs) {
        return recovered(run, sides, PutBack.what(abort, during), untouched, runs, Optional.of(during));
    }

    /** @param abortedDuring what the abort stopped, when this is the put-back after one ({@code what} then says so) */
    private StageResult recovered(Run run, List<SideResult> sides, String what, Optional<Side> untouched, List<GateResult> runs,
                                  Optional<String> abortedDuring) {
        boolean aborted = abortedDuring.isPresent();
        StageSpec stage = run.stage();
        Map<Side, DeployTarget> opened = open(stage, run.sides());
        ExecutorService pool = Executors.newFixedThreadPool(run.sides().size());
        Recovery.Result recovery;
        try {
            if (aborted) {
                recovery = PutBack.run(stage, abortedDuring.get(), opened, run.before(),
                        Optional.of(run.release().image()), Map.of(), run.rollouts(), pool, events, abort);
            } else {
                recovery = Recovery.run(stage, opened, run.before(), Optional.of(run.release().image()), Map.of(), run.rollouts(),
                        pool, events, what);
            }
        } finally {
            pool.shutdownNow();
        }
        Map<Side, SideResult> merged = new EnumMap<>(Side.class);
        sides.forEach(s -> merged.put(s.side(), s));
        for (Side side : run.sides()) {
            SideResult deployed = merged.get(side);
            Optional<RolloutResult> rollback = Optional.ofNullable(recovery.rollbacks().get(side));
            Optional<String> error = Optional.ofNullable(recovery.errors().get(side));
            if (deployed == null && rollback.isEmpty() && !recovery.stuck().containsKey(side)) {
                continue; // read only: a side recovery did not act on and this run did not deploy is not reported
            }
            Duration took = (deployed == null ? Duration.ZERO : deployed.took()).plus(rollback.map(RolloutResult::took).orElse(Duration.ZERO));
            merged.put(side, new SideResult(side, opened.get(side).describe(), deployed == null ? Optional.empty() : deployed.rollout(),
                    rollback, error, recovery.after().get(side), took));
        }
        List<SideResult> all = new ArrayList<>(merged.values());
        StageOutcome outcome = aborted ? PutBack.outcome(recovery) : recovery.outcome();
        String note = untouched.filter(s -> !recovery.rolledBack().contains(s)).map(s -> "; " + s.label() + " was never changed").orElse("");
        String reason = what + "; " + recovery.summary() + (recovery.recovered() ? note : "");
        Parity parity = Parity.of(after(all));
        return ended(new StageResult(stage.name(), Optional.of(run.release()), outcome, reason, parity, all, runs));
    }

    /** Says the stage's parity and that the stage ended, as the report says, and returns the report. */
    private StageResult ended(StageResult report) {
        return ended(report, true);
    }

    /** @param parity false when the deploy that made the report said its parity already */
    private StageResult ended(StageResult report, boolean parity) {
        if (parity) {
            Emit.parity(events, report.stage(), report.parity());
        }
        Emit.stageEnded(events, report);
        return report;
    }

    /**
     * The sides of the deploys, in side order. A side in two (the canary, rolled back by the recovery of the other side's
     * deploy) keeps its rollout from the first and takes its rollback and what it runs from the later, its time the two's.
     */
    private static List<SideResult> sides(List<StageResult> deploys) {
        Map<Side, SideResult> sides = new EnumMap<>(Side.class);
        deploys.forEach(d -> d.sides().forEach(s -> sides.merge(s.side(), s, (a, b) -> new SideResult(b.side(), b.target(),
                b.rollout().or(a::rollout), b.rollback().or(a::rollback), b.rollbackError().or(a::rollbackError), b.after(),
                a.took().plus(b.took())))));
        return new ArrayList<>(sides.values());
    }

    private static Map<Side, TargetState> after(List<SideResult> sides) {
        Map<Side, TargetState> states = new EnumMap<>(Side.class);
        sides.forEach(s -> states.put(s.side(), s.after()));
        return states;
    }

}
