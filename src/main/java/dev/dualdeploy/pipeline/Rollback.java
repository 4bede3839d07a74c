package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.time.Abort;
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
 * Rolls the chosen sides of one stage back to one release, decided before anything changes, and follows every side to
 * it. If a chosen side does not run the stage's last good release (a failed, interrupted or never judged release),
 * the stage returns to its last good release: those sides roll back to it and the sides already on it stay. If every
 * chosen side runs it, all go to the good release before it, which the sides must record alike. A side that already
 * finished this rollback (a rollback run again after it was killed) stays where it is. A rollback that cannot be made
 * on every chosen side (a side unreadable, missing, with nothing recorded, or recording another destination) changes
 * nothing and says why: ROLLBACK_FAILED.
 */
public final class Rollback {

    private final Targets targets;
    private final EventSink events;
    private final Abort abort;

    /** @param events where it says what it does */
    public Rollback(Targets targets, EventSink events) {
        this(targets, events, Abort.none());
    }

    /**
     * @param events where it says what it does
     * @param abort requested before the rollback starts, nothing changes (ABORTED); requested during it, the rollback,
     *              being the way back to a good release, is followed to its end (the stage's timeout) and never undone
     */
    public Rollback(Targets targets, EventSink events, Abort abort) {
        this.targets = targets;
        this.events = events;
        this.abort = abort;
    }

    /**
     * Where a rollback takes the chosen sides, decided from what they run and record.
     *
     * @param to the image every chosen side runs afterwards, or empty if the rollback is refused
     * @param moving the sides that roll back
     * @param staying the sides that already run {@code to}; their health is checked, nothing is written
     * @param refusal why the rollback cannot be made on every chosen side; empty when it can
     */
    record Plan(Optional<String> to, List<Side> moving, List<Side> staying, Optional<String> refusal) {

        static Plan refuse(String why) {
            return new Plan(Optional.empty(), List.of(), List.of(), Optional.of(why));
        }
    }

    /**
     * Rolls the sides back; SUCCEEDED only if every side runs the planned release afterwards, healthy.
     *
     * @param sides the configured sides to roll back
     */
    public StageResult run(StageSpec stage, List<Side> sides) {
        Map<Side, DeployTarget> opened = new EnumMap<>(Side.class);
        for (Side side : sides) {
            opened.put(side, targets.open(stage, side, Emit.progress(events, stage.name(), side)));
        }
        Map<Side, TargetState> read = Rollouts.readBack(opened);
        Emit.stageStarted(events, stage.name(), "rollback", sides, Optional.empty(), Optional.empty(), read);
        Map<Side, TargetState> before = LastGood.reconcile(stage, opened, read, events);
        Plan plan = plan(sides, before);
        if (abort.requested()) {
            // Before any rollback started (and before a refusal, which changes nothing either): the stage began
            // (journaled), so it ends too; no rollback is said to start.
            return PutBack.beforeRollout(stage, Optional.empty(), "the rollback's preparation", "nothing was changed", opened, before,
                    events, abort);
        }
        if (plan.refusal().isPresent()) {
            String reason = "cannot roll back " + Side.labels(sides) + ": " + plan.refusal().get() + "; nothing was changed";
            List<SideResult> reports = new ArrayList<>();
            sides.forEach(side -> reports.add(new SideResult(side, opened.get(side).describe(), Optional.empty(), Optional.empty(),
                    Optional.empty(), before.get(side), Duration.ZERO)));
            return unchanged(stage, opened, before, StageOutcome.ROLLBACK_FAILED, reason, reports);
        }
        String to = plan.to().orElseThrow();
        String label = label(to, before);
        String staying = plan.staying().isEmpty() ? "" : Side.labels(plan.staying()) + " already runs it";
        if (plan.moving().isEmpty()) {
            Emit.notice(events, stage.name(), null, "rolling back no side to " + label + "; " + staying);
        } else {
            Emit.rollbackStarted(events, stage.name(), null, plan.moving(), "asked for, to " + label + (staying.isEmpty() ? "" : "; " + staying),
                    Optional.of(to));
        }
        Rollouts rollouts = new Rollouts(targets, events, abort);
        Map<Side, String> errors = new EnumMap<>(Side.class);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, sides.size()));
        try {
            Map<Side, RolloutResult> results = new EnumMap<>(Side.class);
            results.putAll(Rollouts.parallel(pool, sides, side -> plan.moving().contains(side)
                    ? rollouts.rollback(stage, side, opened.get(side), errors, plan.to(), "")
                    : follow(stage, side, opened.get(side), to, before.get(side))));
            if (abort.requested()) {
                PutBack.rollbackFinished(stage, events, abort);
            }
            Map<Side, TargetState> after = Rollouts.readBack(opened);
            Emit.readBack(events, stage.name(), Rollouts.describe(opened), after);
            List<SideResult> reports = new ArrayList<>();
            for (Side side : sides) {
                Optional<RolloutResult> rollback = Optional.of(results.get(side)).filter(r -> plan.moving().contains(side));
                reports.add(new SideResult(side, opened.get(side).describe(), Optional.empty(), rollback,
                        Optional.ofNullable(errors.get(side)), after.get(side), results.get(side).took()));
            }
            // A rollback that cannot be read back is not one that succeeded: a person must look (exit 4).
            List<String> failed = new ArrayList<>();
            for (Side side : sides) {
                RolloutResult result = results.get(side);
                if (!result.succeeded()) {
                    failed.add(side.label() + (plan.moving().contains(side) ? " " : " (already on it) ") + result.outcome() + ": " + result.reason());
                } else if (!after.get(side).readable()) {
                    failed.add(Parity.cannotBeRead(side, after.get(side)));
                } else if (!after.get(side).image().equals(Optional.of(to))) {
                    failed.add(side.label() + " runs " + after.get(side).image().orElse("nothing") + ", not " + to);
                }
            }
            Parity parity = Parity.of(after);
            // Finished after an abort, the run ends where the person asked it to go: aborted, in a defined state.
            StageOutcome outcome = !failed.isEmpty() ? StageOutcome.ROLLBACK_FAILED
                    : abort.requested() ? StageOutcome.ABORTED : StageOutcome.SUCCEEDED;
            String done = (plan.moving().isEmpty() ? "rolled back no side" : "rolled back " + Side.labels(plan.moving())) + " to " + label
                    + (plan.staying().isEmpty() ? "" : " (" + Side.labels(plan.staying()) + " already ran it)");
            String reason = failed.isEmpty() ? done : "rollback to " + label + " failed: " + String.join("; ", failed);
            Emit.parity(events, stage.name(), parity);
            StageResult result = new StageResult(stage.name(), Optional.empty(), outcome, reason, parity, reports);
            Emit.stageEnded(events, result);
            return result;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Ends a rollback that changed nothing: what the sides run (as read and reconciled before it) is said as read back,
     * with their parity, and the stage ends as {@code outcome}.
     */
    private StageResult unchanged(StageSpec stage, Map<Side, DeployTarget> opened, Map<Side, TargetState> before,
                                  StageOutcome outcome, String reason, List<SideResult> reports) {
        Emit.readBack(events, stage.name(), Rollouts.describe(opened), before);
        Parity parity = Parity.of(before);
        Emit.parity(events, stage.name(), parity);
        StageResult result = new StageResult(stage.name(), Optional.empty(), outcome, reason, parity, reports);
        Emit.stageEnded(events, result);
        return result;
    }

    /** Decides where the sides go, from what they run and record, before anything changes. */
    static Plan plan(List<Side> sides, Map<Side, TargetState> states) {
        for (Side side : sides) {
            TargetState state = states.get(side);
            // A side that is gone or silent stops the rollback of both; the other one can still go back alone.
            String other = sides.stream().filter(s -> s != side).map(Side::label).findFirst().orElse("");
            String alone = other.isEmpty() ? "" : " (to roll back " + other + " alone: --side " + other + ")";
            if (state.health() == TargetState.Health.ABSENT) {
                return Plan.refuse(side.label() + " does not exist (" + state.detail() + ")" + alone);
            }
            if (!state.readable()) {
                return Plan.refuse(Parity.cannotBeRead(side, state) + alone);
            }
            if (state.image().isEmpty()) {
                return Plan.refuse(side.label() + " runs no image that can be read (" + state.detail() + ")");
            }
            if (state.lastGoodImage().isEmpty()) {
                return Plan.refuse("no last good release is recorded on " + side.label());
            }
        }
        List<String> lasts = sides.stream().map(s -> states.get(s).lastGoodImage().orElseThrow()).distinct().toList();
        Plan plan;
        if (lasts.size() == 1) {
            String last = lasts.get(0);
            List<Side> off = sides.stream().filter(s -> !states.get(s).image().orElseThrow().equals(last)).toList();
            if (!off.isEmpty()) {
                plan = new Plan(Optional.of(last), off, sides.stream().filter(s -> !off.contains(s)).toList(), Optional.empty());
            } else {
                List<Side> oldest = sides.stream().filter(s -> states.get(s).rollbackImage().isEmpty()).toList();
                if (!oldest.isEmpty()) {
                    return Plan.refuse("every side runs its last good release, " + label(last, states)
                            + ", and no good release before it is recorded on " + Side.labels(oldest));
                }
                List<String> previous = sides.stream().map(s -> states.get(s).rollbackImage().orElseThrow()).distinct().toList();
                if (previous.size() > 1) {
                    return Plan.refuse("the sides record different good releases before " + label(last, states) + " ("
                            + each(sides, s -> states.get(s).rollbackImage().orElseThrow()) + "); roll back one side at a time"
                            + " (--side), or deploy the release wanted to the stage");
                }
                plan = new Plan(Optional.of(previous.get(0)), sides, List.of(), Optional.empty());
            }
        } else {
            // Records that disagree are settled only as a rollback run again after some sides finished it leaves them:
            // those run their last good release, which every other side records as the good release before its own.
            Optional<String> finished = lasts.stream().filter(t -> sides.stream().allMatch(s -> {
                TargetState state = states.get(s);
                return state.lastGoodImage().equals(Optional.of(t)) && state.image().equals(Optional.of(t))
                        || state.onLastGood() && state.rollbackImage().equals(Optional.of(t));
            })).findFirst();
            if (finished.isEmpty()) {
                return Plan.refuse("the sides' last good records disagree (" + each(sides, s -> states.get(s).lastGoodImage().orElseThrow())
                        + "); roll back one side at a time (--side), or deploy the release wanted to the stage; `dualdeploy status"
                        + " --output json` shows each side's records");
            }
            String to = finished.get();
            List<Side> there = sides.stream().filter(s -> states.get(s).image().equals(Optional.of(to))).toList();
            plan = new Plan(finished, sides.stream().filter(s -> !there.contains(s)).toList(), there, Optional.empty());
        }
        for (Side side : plan.moving()) {
            Optional<String> goes = states.get(side).rollbackImage();
            if (!goes.equals(plan.to())) { // what DeployTarget#rollback does must be the plan; never split the stage
                return Plan.refuse(side.label() + " would go to " + goes.orElse("nowhere") + ", not " + plan.to().orElseThrow());
            }
        }
        return plan;
    }

    /** Checks the health of a side that already runs the release the others return to; nothing is written. */
    private RolloutResult follow(StageSpec stage, Side side, DeployTarget target, String to, TargetState state) {
        Instant started = targets.clock().instant();
        Optional<Release> release = LastGood.release(to, state);
        try {
            RolloutResult result;
            if (release.isPresent()) {
                result = target.deploy(release.get()).await(stage.timeout()); // the release it runs: checks health only
            } else {
                TargetState now = target.current();
                result = new RolloutResult(now.health() == TargetState.Health.HEALTHY ? RolloutResult.Outcome.SUCCEEDED
                        : RolloutResult.Outcome.FAILED, now.health() + ": " + now.detail(),
                        Duration.between(started, targets.clock().instant()));
            }
            Emit.rollbackEnded(events, stage.name(), side, result, "already on it: ", Optional.empty());
            return result;
        } catch (TargetException e) {
            RolloutResult result = new RolloutResult(RolloutResult.Outcome.FAILED, e.getMessage(),
                    Duration.between(started, targets.clock().instant()));
            Emit.rollbackEnded(events, stage.name(), side, result, "already on it, but its health could not be checked: ",
                    Optional.empty());
            return result;
        }
    }

    private static String each(List<Side> sides, Function<Side, String> image) {
        return String.join(", ", sides.stream().map(s -> s.label() + " " + Release.shortImage(image.apply(s))).toList());
    }

    /** An image as people read it in a reason: its version where a side records one, and its short digest. */
    static String label(String image, Map<Side, TargetState> states) {
        Optional<String> version = states.values().stream().filter(s -> s.image().equals(Optional.of(image)))
                .map(TargetState::version).flatMap(Optional::stream).findFirst();
        return version.map(v -> v + " (" + Release.shortImage(image) + ")").orElse(Release.shortImage(image));
    }

}
