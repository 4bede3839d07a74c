package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Preflight;
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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The rollouts of one release to the toggled-on sides of one stage, in parallel (without the gate: that is
 * {@link Deploy}), holding the stage to parity: it succeeds only
 * when every enabled side reads back the release digest, and then the release is recorded as the stage's last good
 * release on every enabled side. If any side fails (or reads back another digest), every enabled side that does not
 * run its last good release is returned to it, whichever run put it there, so a re-run after a killed run recovers
 * too.
 */
public final class Rollouts {

    private final Targets targets;
    private final EventSink events;
    private final Abort abort;

    /** @param events where it says what it does; their instants come from the sink's clock */
    public Rollouts(Targets targets, EventSink events) {
        this(targets, events, Abort.none());
    }

    /**
     * @param events where it says what it does; their instants come from the sink's clock
     * @param abort once requested, no rollout starts, the rollouts under way stop being followed, and every enabled side
     *              not on its last good release is put back to it ({@link PutBack})
     */
    public Rollouts(Targets targets, EventSink events, Abort abort) {
        this.targets = targets;
        this.events = events;
        this.abort = abort;
    }

    /**
     * Runs the deploy; on success the release is marked good on every enabled side.
     *
     * @param toggle which sides get the release (the stage's toggle with any flag overrides applied)
     * @param rollbackOnFailure whether a failed release is rolled back automatically
     * @throws TargetException if the release runs at parity but could not be recorded as the last good release
     */
    public StageResult run(StageSpec stage, Release release, ToggleSpec toggle, boolean rollbackOnFailure) {
        return run(stage, release, toggle, rollbackOnFailure, true, toggledOn(toggle));
    }

    /**
     * Runs the deploy.
     *
     * @param markGood whether success marks the release good (false when a gate must pass first)
     * @param recover the enabled sides that failure recovery covers: the toggle's sides, and in a canary deploy the
     *                other side too (read, and written only if it does not run its last good release)
     */
    StageResult run(StageSpec stage, Release release, ToggleSpec toggle, boolean rollbackOnFailure, boolean markGood,
                    List<Side> recover) {
        List<Side> sides = toggledOn(toggle);
        // A deploy run by a promotion (markGood false) is one step of the promotion's stage, which says when the stage
        // starts and ends; a deploy on its own says it.
        boolean ownsStage = markGood;
        if (sides.isEmpty()) {
            Emit.stageStarted(events, stage.name(), "deploy", sides, Optional.of(release.image()), Optional.of(release.version()), Map.of());
            StageResult skipped = new StageResult(stage.name(), Optional.of(release), StageOutcome.SKIPPED, "no side is enabled",
                    Parity.of(Map.of()), List.of());
            Emit.stageEnded(events, skipped);
            return skipped;
        }
        Map<Side, DeployTarget> opened = open(stage, recover.stream().filter(s -> !sides.contains(s)).toList(), open(stage, sides, new EnumMap<>(Side.class)));
        preflight(opened);
        Map<Side, TargetState> read = new EnumMap<>(Side.class);
        for (Side side : opened.keySet()) {
            read.put(side, opened.get(side).current());
        }
        if (ownsStage && abort.requested()) {
            return PutBack.beforeRollout(stage, Optional.of(release), "the preflight reads", "nothing was changed", opened, read,
                    events, abort);
        }
        if (ownsStage) {
            Emit.stageStarted(events, stage.name(), "deploy", sides, Optional.of(release.image()), Optional.of(release.version()), read);
        }
        // A promotion settles the records once, before its first deploy; the state between its deploys and gates (a
        // canary judged, the other side following) is unjudged by definition and must never complete a record.
        requirePresent(stage, opened, read, sides);
        Map<Side, TargetState> before = markGood ? LastGood.reconcile(stage, opened, read, events) : read;
        ExecutorService pool = Executors.newFixedThreadPool(opened.size(), r -> {
            Thread t = new Thread(r, "deploy-" + stage.name());
            t.setDaemon(true);
            return t;
        });
        try {
            if (markGood) {
                // A promotion returns the leftovers itself, once, before its first deploy (see LastGood above).
                Map<Side, TargetState> reconciled = before;
                before = Recovery.returnLeftovers(stage, opened, before, release, false, this, pool, events);
                if (abort.requested()) {
                    // No rollout of the release began: the abort is said where it found the run, and nothing is put back.
                    return before != reconciled
                            ? PutBack.beforeRollout(stage, Optional.of(release), "the return of what an earlier run left", "the sides"
                            + " were returned to the last good release; " + release.version() + " was not deployed", opened, before,
                            events, abort)
                            : PutBack.beforeRollout(stage, Optional.of(release), "the stage's preparation (before any rollout)",
                            "nothing was changed", opened, before, events, abort);
                }
            }
            Map<Side, TargetState> from = before;
            Map<Side, RolloutResult> rollouts;
            try {
                rollouts = parallel(pool, sides, side -> rollout(stage, side, opened.get(side), release, from.get(side)));
            } catch (RuntimeException e) {
                throw unexpected(stage, "the rollout", e, opened, from, release, pool, rollbackOnFailure);
            }
            if (abort.requested()) {
                Recovery.Result putBack = PutBack.run(stage, "the rollout of " + release.version(), opened, from,
                        Optional.of(release.image()), superseded(rollouts), this, pool, events, abort);
                return report(stage, release, sides, opened, rollouts, Optional.of(putBack), putBack.after(),
                        Optional.of(PutBack.what(abort, "the rollout of " + release.version())), true, ownsStage, true);
            }
            Map<Side, TargetState> after = readBack(only(opened, sides));
            Emit.readBack(events, stage.name(), describe(opened), after);
            Optional<String> failure = failure(sides, rollouts, after, release);
            if (failure.isEmpty()) {
                if (markGood) {
                    after = markGood(stage, release, only(opened, sides));
                }
                return report(stage, release, sides, opened, rollouts, Optional.empty(), after, failure, rollbackOnFailure, ownsStage);
            }
            if (!rollbackOnFailure) {
                return report(stage, release, sides, opened, rollouts, Optional.empty(), after, failure, false, ownsStage);
            }
            Recovery.Result recovery = Recovery.run(stage, opened, before, Optional.of(release.image()), superseded(rollouts),
                    this, pool, events, "release failed: " + failure.get());
            return report(stage, release, sides, opened, rollouts, Optional.of(recovery), recovery.after(), failure, true, ownsStage);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A step of a stage that changed something threw what it should not (a bug, an exception a target or a check did
     * not turn into a result; for a rollout, after every other side's rollout ended): the sides this run changed are
     * returned to their last good release all the same (unless automatic rollback is off), and what was done is
     * reported before the exception is passed on.
     *
     * @param during the step that threw, such as {@code the rollout}
     * @return {@code e}, with a failure of the recovery itself added as suppressed, for the caller to throw
     */
    RuntimeException unexpected(StageSpec stage, String during, RuntimeException e, Map<Side, DeployTarget> opened,
                                Map<Side, TargetState> before, Release release, ExecutorService pool, boolean rollbackOnFailure) {
        if (!rollbackOnFailure) {
            Emit.notice(events, stage.name(), null, "unexpected error during " + during + ": " + e + "; automatic rollback is off,"
                    + " the sides are left as they are");
            return e;
        }
        Emit.notice(events, stage.name(), null, "unexpected error during " + during + ": " + e + "; returning every enabled side"
                + " to its last good release");
        try {
            Recovery.Result recovery = Recovery.run(stage, opened, before, Optional.of(release.image()), Map.of(), this, pool, events,
                    "unexpected error during " + during);
            Emit.notice(events, stage.name(), null, recovery.outcome() + " after the unexpected error: " + recovery.summary()
                    + " [" + Parity.of(recovery.after()).outcome() + "]");
        } catch (RuntimeException failed) {
            Emit.notice(events, stage.name(), null, "the rollback after the unexpected error failed too: " + failed
                    + "; the stage needs a person (dualdeploy status)");
            e.addSuppressed(failed);
        }
        return e;
    }

    /** The sides whose rollout saw another writer replace the release, with what they run now. */
    private static Map<Side, String> superseded(Map<Side, RolloutResult> rollouts) {
        Map<Side, String> superseded = new EnumMap<>(Side.class);
        rollouts.forEach((side, result) -> result.supersededBy().ifPresent(now -> superseded.put(side, now)));
        return superseded;
    }

    private static List<Side> toggledOn(ToggleSpec toggle) {
        return List.of(Side.values()).stream().filter(toggle::on).toList();
    }

    private Map<Side, DeployTarget> open(StageSpec stage, List<Side> sides, Map<Side, DeployTarget> into) {
        for (Side side : sides) {
            into.put(side, targets.open(stage, side, Emit.progress(events, stage.name(), side)));
        }
        return into;
    }

    private static Map<Side, DeployTarget> only(Map<Side, DeployTarget> opened, List<Side> sides) {
        Map<Side, DeployTarget> some = new EnumMap<>(Side.class);
        sides.forEach(s -> some.put(s, opened.get(s)));
        return some;
    }

    /**
     * Refuses, before any side changes, a side whose workload does not exist and that a deploy does not create: that
     * side would fail, and the other side, changed meanwhile, be rolled back for nothing.
     *
     * @throws TargetException naming the side
     */
    static void requirePresent(StageSpec stage, Map<Side, DeployTarget> opened, Map<Side, TargetState> read, List<Side> sides) {
        for (Side side : sides) {
            TargetState state = read.get(side);
            if (opened.get(side).creates() || !state.readable()) {
                continue;
            }
            if (state.health() == TargetState.Health.ABSENT) {
                throw new TargetException("stage " + stage.name() + ": " + opened.get(side).describe() + " does not exist ("
                        + state.detail() + ") and a deploy does not create it; nothing was changed");
            }
            if (state.image().isEmpty()) {
                throw new TargetException("stage " + stage.name() + ": " + opened.get(side).describe() + " runs no container of the"
                        + " name the config gives (" + side.label() + " container:) (" + state.detail() + "); nothing was changed");
            }
        }
    }

    /** Checks every side's own inputs (manifests) before any side changes, so bad input changes nothing. */
    static void preflight(Map<Side, DeployTarget> opened) {
        opened.values().forEach(target -> {
            if (target instanceof Preflight p) {
                p.preflight();
            }
        });
    }

    /**
     * Records the release as the last good one on every side, read back, says what each side records now (a read-back, which
     * the results read) and returns it. A side that cannot record it is a platform
     * fault: the release runs, but a later failure would return to an older release, so a person must know.
     */
    Map<Side, TargetState> markGood(StageSpec stage, Release release, Map<Side, DeployTarget> opened) {
        Map<Side, TargetState> recorded = new EnumMap<>(Side.class);
        for (Map.Entry<Side, DeployTarget> entry : opened.entrySet()) {
            try {
                recorded.put(entry.getKey(), entry.getValue().markGood(release, opened.keySet()));
            } catch (TargetException e) {
                throw new TargetException("stage " + stage.name() + ": " + release.version() + " runs at parity but could not be"
                        + " recorded as the last good release on " + entry.getKey().label() + ": " + e.getMessage()
                        + "; run the deploy again to record it", e);
            }
        }
        Emit.lastGood(events, stage.name(), List.copyOf(opened.keySet()), release.version());
        // What each side records now: the results (the JSON's "running") read the last read-back, not the one before it.
        Emit.readBack(events, stage.name(), describe(opened), recorded);
        return recorded;
    }

    private RolloutResult rollout(StageSpec stage, Side side, DeployTarget target, Release release, TargetState before) {
        Instant started = targets.clock().instant();
        if (abort.requested()) {
            // Said as the rollout's end (FAILED, never started), as a rollback that could not be started is.
            RolloutResult notStarted = new RolloutResult(RolloutResult.Outcome.FAILED, "not started: the run was aborted", Duration.ZERO);
            Emit.rolloutEnded(events, stage.name(), side, notStarted);
            return notStarted;
        }
        events.accept(new Event.RolloutStarted(events.run(), events.now(), Optional.of(stage.name()), Optional.of(side), target.describe(),
                release.image(), release.version(), before == null ? Optional.empty() : before.image()));
        RolloutResult result;
        try {
            result = target.deploy(release).await(stage.timeout(), abort);
        } catch (TargetException e) {
            result = new RolloutResult(RolloutResult.Outcome.FAILED, e.getMessage(), since(started));
        }
        Emit.rolloutEnded(events, stage.name(), side, result);
        return result;
    }

    /** Each target's description, for events that name it. */
    static Map<Side, String> describe(Map<Side, DeployTarget> opened) {
        Map<Side, String> described = new EnumMap<>(Side.class);
        opened.forEach((side, target) -> described.put(side, target.describe()));
        return described;
    }

    /** How long since {@code started}, in the targets' clock (stepped in tests). */
    private Duration since(Instant started) {
        return Duration.between(started, targets.clock().instant());
    }

    /**
     * Rolls one side back to what its target records.
     *
     * @param to the image it returns to, where known, for the journal
     */
    RolloutResult rollback(StageSpec stage, Side side, DeployTarget target, Map<Side, String> errors, Optional<String> to,
                           String reason) {
        Instant started = targets.clock().instant();
        Emit.rollbackStarted(events, stage.name(), side, List.of(side), reason, to);
        RolloutResult result;
        Optional<String> error = Optional.empty();
        try {
            // A rollback is never stopped by an abort (it is the put-back), but after one it is followed for a bounded time.
            result = target.rollback().await(abort.requested() ? Abort.putBack(stage.timeout()) : stage.timeout());
        } catch (TargetException e) {
            synchronized (errors) {
                errors.put(side, e.getMessage());
            }
            error = Optional.of(e.getMessage());
            result = new RolloutResult(RolloutResult.Outcome.FAILED, e.getMessage(), since(started));
        }
        Emit.rollbackEnded(events, stage.name(), side, result, "", error);
        return result;
    }

    private static Optional<String> failure(List<Side> sides, Map<Side, RolloutResult> rollouts, Map<Side, TargetState> after,
                                            Release release) {
        List<String> problems = new ArrayList<>();
        for (Side side : sides) {
            RolloutResult result = rollouts.get(side);
            if (!result.succeeded()) {
                problems.add(side.label() + " " + result.outcome() + ": " + result.reason());
            }
        }
        if (problems.isEmpty()) {
            // Parity: a rollout that "succeeded" but reads back another digest is a failure (a mutable tag, a
            // webhook rewriting images, a controller that reverted the change).
            Map<Side, TargetState> enabled = new EnumMap<>(Side.class);
            sides.forEach(s -> enabled.put(s, after.get(s)));
            Parity.mismatch(enabled, release).ifPresent(m -> problems.add("parity: " + m));
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private StageResult report(StageSpec stage, Release release, List<Side> sides, Map<Side, DeployTarget> opened,
                               Map<Side, RolloutResult> rollouts, Optional<Recovery.Result> recovery,
                               Map<Side, TargetState> after, Optional<String> failure, boolean rollbackOnFailure,
                               boolean ownsStage) {
        return report(stage, release, sides, opened, rollouts, recovery, after, failure, rollbackOnFailure, ownsStage, false);
    }

    /** @param aborted whether the recovery was the put-back after an abort */
    private StageResult report(StageSpec stage, Release release, List<Side> sides, Map<Side, DeployTarget> opened,
                               Map<Side, RolloutResult> rollouts, Optional<Recovery.Result> recovery,
                               Map<Side, TargetState> after, Optional<String> failure, boolean rollbackOnFailure,
                               boolean ownsStage, boolean aborted) {
        Map<Side, RolloutResult> rollbacks = recovery.map(Recovery.Result::rollbacks).orElse(Map.of());
        Map<Side, String> rollbackErrors = recovery.map(Recovery.Result::errors).orElse(Map.of());
        List<SideResult> reports = new ArrayList<>();
        for (Side side : opened.keySet()) {
            boolean deployed = sides.contains(side);
            if (!deployed && !rollbacks.containsKey(side) && recovery.map(r -> !r.stuck().containsKey(side)).orElse(true)) {
                continue; // a side this run did not deploy is reported only if recovery had to act on it
            }
            Optional<RolloutResult> rollout = Optional.ofNullable(rollouts.get(side));
            Duration took = rollout.map(RolloutResult::took).orElse(Duration.ZERO)
                    .plus(Optional.ofNullable(rollbacks.get(side)).map(RolloutResult::took).orElse(Duration.ZERO));
            reports.add(new SideResult(side, opened.get(side).describe(), rollout, Optional.ofNullable(rollbacks.get(side)),
                    Optional.ofNullable(rollbackErrors.get(side)), after.get(side), took));
        }
        Map<Side, TargetState> enabled = new EnumMap<>(Side.class);
        reports.forEach(r -> enabled.put(r.side(), r.after()));
        Parity parity = Parity.of(enabled);
        StageOutcome outcome;
        String reason;
        if (failure.isEmpty()) {
            outcome = StageOutcome.SUCCEEDED;
            reason = "every enabled side runs " + release.version() + " (" + Release.shortDigest(release.digest()) + ")";
        } else if (!rollbackOnFailure) {
            // Another writer's change is not "the failed release still in place": a person must look (exit 4).
            Map<Side, String> theirs = superseded(rollouts);
            outcome = theirs.isEmpty() ? StageOutcome.FAILED : StageOutcome.SUPERSEDED;
            reason = failure.get() + (theirs.isEmpty() ? "; automatic rollback is off, the failed release is still in place"
                    : "; automatic rollback is off: nothing was rolled back, and " + Side.labels(List.copyOf(theirs.keySet()))
                    + " runs what another writer put there");
        } else {
            Recovery.Result result = recovery.orElseThrow();
            outcome = aborted ? PutBack.outcome(result) : result.outcome();
            reason = failure.get() + "; " + result.summary();
        }
        Emit.parity(events, stage.name(), parity);
        StageResult result = new StageResult(stage.name(), Optional.of(release), outcome, reason, parity, reports);
        if (ownsStage) {
            Emit.stageEnded(events, result);
        }
        return result;
    }

    /**
     * Reads every side back at the same time, so that a platform that does not answer costs its timeout once, not once
     * per side; a side that cannot be read is {@link TargetState#unreadable(String)} with the reason.
     */
    static Map<Side, TargetState> readBack(Map<Side, DeployTarget> opened) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, opened.size()), r -> {
            Thread t = new Thread(r, "read-back");
            t.setDaemon(true);
            return t;
        });
        try {
            return parallel(pool, List.copyOf(opened.keySet()), side -> {
                try {
                    return opened.get(side).current();
                } catch (TargetException e) {
                    return TargetState.unreadable(Status.oneLine(e.getMessage()));
                }
            });
        } finally {
            pool.shutdownNow();
        }
    }

    /** Runs one task per side at once and waits for all; a side's unexpected exception is rethrown after all end. */
    static <T> Map<Side, T> parallel(ExecutorService pool, List<Side> sides, SideTask<T> task) {
        Map<Side, Future<T>> futures = new EnumMap<>(Side.class);
        for (Side side : sides) {
            futures.put(side, pool.submit((Callable<T>) () -> task.run(side)));
        }
        Map<Side, T> results = new EnumMap<>(Side.class);
        RuntimeException first = null;
        for (Map.Entry<Side, Future<T>> entry : futures.entrySet()) {
            try {
                results.put(entry.getKey(), entry.getValue().get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + entry.getKey().label(), e);
            } catch (ExecutionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                first = first == null ? cause : first;
            }
        }
        if (first != null) {
            throw first;
        }
        return results;
    }

    /** Work for one side. */
    @FunctionalInterface
    interface SideTask<T> {
        T run(Side side);
    }

    /** A duration as people read it in logs: {@code 1.4s}. */
    public static String seconds(Duration duration) {
        return String.format(java.util.Locale.ROOT, "%.1fs", duration.toMillis() / 1000.0);
    }
}
