package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.text.Text;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

/**
 * After a failed release, returns every enabled side of a stage that does not run its last good release to it,
 * whichever run put it there (this one, or an earlier run that was killed), and reads the result back. A side already
 * on its last good release is read and never written. A side another writer changed during this run (superseded: it
 * runs neither this run's release nor what it ran when the run began, or its rollout saw the release replaced) is not
 * rolled back: the change is the other writer's, and putting the last good release back over it would undo their
 * deploy unseen; the result says so, and the stage needs a person.
 */
final class Recovery {

    /**
     * How the recovery ended.
     *
     * @param rollbacks how each rollback that was started ended
     * @param errors why a rollback could not be started, per side
     * @param after what runs on each side afterwards, as read back
     * @param rolledBack the sides that were rolled back
     * @param stuck why a side is not on its last good release afterwards; empty when every side is
     * @param superseded the sides left to another writer, not rolled back, with what they run
     */
    record Result(Map<Side, RolloutResult> rollbacks, Map<Side, String> errors, Map<Side, TargetState> after,
                  List<Side> rolledBack, Map<Side, String> stuck, Optional<String> drift, Map<Side, String> superseded) {

        boolean recovered() {
            return stuck.isEmpty() && drift.isEmpty() && superseded.isEmpty();
        }

        /** ROLLED_BACK, ROLLBACK_FAILED (a side stuck: it wins, being worse), or SUPERSEDED. */
        StageOutcome outcome() {
            if (!stuck.isEmpty() || drift.isPresent()) {
                return StageOutcome.ROLLBACK_FAILED;
            }
            return superseded.isEmpty() ? StageOutcome.ROLLED_BACK : StageOutcome.SUPERSEDED;
        }

        /** One clause for the stage's reason, naming each side left to another writer and what it runs. */
        private String leftToOthers() {
            List<String> each = new ArrayList<>();
            superseded.forEach((side, image) -> each.add(side.label() + " was not rolled back: superseded by "
                    + Release.shortImage(image) + " (" + Text.foreign(image) + "), another writer's change, which is theirs now"));
            return String.join("; ", each) + "; a person must look";
        }

        /** One clause for the stage's reason, such as {@code rolled back kubernetes to the last good release}. */
        String summary() {
            if (superseded.isEmpty()) {
                return ours();
            }
            boolean acted = !rolledBack.isEmpty() || !stuck.isEmpty() || drift.isPresent();
            return (acted ? ours() + "; " : "") + leftToOthers();
        }

        private String ours() {
            if (stuck.isEmpty() && drift.isPresent()) {
                return "every side is back on its own last good release, but they differ (" + drift.get() + "), though the"
                        + " records say they should not: the sides' last good records disagree; needs a person (dualdeploy status"
                        + " --output json shows each side's records)";
            }
            if (!stuck.isEmpty()) {
                List<String> why = new ArrayList<>();
                stuck.forEach((side, reason) -> why.add(side.label() + " (" + reason + ")"));
                return "could not return " + String.join(" + ", why) + " to the last good release: needs a person";
            }
            Map<Side, TargetState> ours = new EnumMap<>(Side.class);
            ours.putAll(after);
            ours.keySet().removeAll(superseded.keySet());
            String apart = ours.size() > 1 && Parity.of(ours).outcome() == Parity.Outcome.DRIFT
                    ? " (the sides run different last good releases, as they were deployed one at a time)" : "";
            return (rolledBack.isEmpty() ? "no side needed a rollback: every side runs its last good release"
                    : "rolled back " + Side.labels(rolledBack) + " to the last good release") + apart;
        }
    }

    private Recovery() {
    }

    /** Recovers the sides, knowing nothing of what this run wrote: no side is taken for another writer's. */
    static Result run(StageSpec stage, Map<Side, DeployTarget> opened, Map<Side, TargetState> before, Rollouts rollouts,
                      ExecutorService pool, EventSink events) {
        return run(stage, opened, before, Optional.empty(), Map.of(), rollouts, pool, events, "recovering");
    }

    /**
     * Recovers the sides.
     *
     * @param opened the enabled sides of the stage and their targets
     * @param before what each side ran when this run began; a side without a last good record is left as it is, and
     *               counts as recovered only if it still runs what it ran before
     * @param ours the image this run put on the stage; a side found running neither it nor what it ran when the run
     *             began was changed by another writer meanwhile, and is left to it
     * @param superseded the sides whose rollout saw another writer replace the release, with what they run now
     * @param why what failed, for the rollback events
     */
    static Result run(StageSpec stage, Map<Side, DeployTarget> opened, Map<Side, TargetState> before, Optional<String> ours,
                      Map<Side, String> superseded, Rollouts rollouts, ExecutorService pool, EventSink events, String why) {
        Map<Side, String> unreadable = new EnumMap<>(Side.class);
        Map<Side, TargetState> now = read(opened, unreadable);
        Map<Side, String> theirs = theirs(opened, before, now, unreadable, ours, superseded);
        theirs.forEach((side, image) -> Emit.notice(events, stage.name(), side, "not rolled back: superseded by "
                + Release.shortImage(image) + " (" + Text.foreign(image) + "), which another writer put there during this run"));
        List<Side> rollBack = opened.keySet().stream().filter(s -> !unreadable.containsKey(s) && !theirs.containsKey(s))
                .filter(s -> now.get(s).lastGoodImage().isPresent() && !now.get(s).onLastGood()).toList();
        if (!rollBack.isEmpty()) {
            Emit.rollbackStarted(events, stage.name(), null, rollBack, why, Optional.empty());
        }
        Map<Side, String> errors = new EnumMap<>(Side.class);
        Map<Side, RolloutResult> rollbacks = new EnumMap<>(Side.class);
        rollbacks.putAll(Rollouts.parallel(pool, rollBack, side -> rollouts.rollback(stage, side, opened.get(side), errors,
                now.get(side).lastGoodImage(), "")));
        // Without a rollback, what was read above is the result, unreadable sides included: they must stay flagged.
        Map<Side, TargetState> after = now;
        if (!rollBack.isEmpty()) {
            unreadable.clear();
            after = read(opened, unreadable);
        }
        // What recovery leaves is said as read back either way: it is what the stage's result reports on each side.
        Emit.readBack(events, stage.name(), Rollouts.describe(opened), after);
        Map<Side, String> stuck = new LinkedHashMap<>();
        for (Side side : opened.keySet()) {
            TargetState state = after.get(side);
            RolloutResult rollback = rollbacks.get(side);
            if (theirs.containsKey(side)) {
                continue; // left to the other writer on purpose: said in the result, not stuck
            }
            if (unreadable.containsKey(side)) {
                stuck.put(side, "cannot be read: " + unreadable.get(side));
            } else if (errors.containsKey(side)) {
                stuck.put(side, errors.get(side));
            } else if (rollback != null && !rollback.succeeded()) {
                stuck.put(side, "rollback " + rollback.outcome() + ": " + rollback.reason());
            } else if (state.lastGoodImage().isPresent() && !state.onLastGood()) {
                stuck.put(side, "runs " + state.image().orElse("nothing") + ", not its last good release " + state.lastGoodImage().get());
            } else if (state.lastGoodImage().isEmpty() && before.containsKey(side)
                    && !Objects.equals(state.image(), before.get(side).image())) {
                stuck.put(side, "no last good release is recorded to return to");
            }
        }
        // Each side returns to its own record. Sides deployed one at a time (a toggle) record different releases on
        // purpose, and each record says on which sides its release passed. A record that says its release passed on a
        // side that records another (or, for records that do not say, sides that ran one release when this run began)
        // leaves every side "on its last good release" with the stage in DRIFT: no recovery a person may be told
        // succeeded.
        // A side left to another writer differs from the others by their doing, not by the records: it is left out.
        Map<Side, TargetState> judged = new EnumMap<>(Side.class);
        judged.putAll(after);
        judged.keySet().removeAll(theirs.keySet());
        Map<Side, TargetState> judgedBefore = new EnumMap<>(Side.class);
        judgedBefore.putAll(before);
        judgedBefore.keySet().removeAll(theirs.keySet());
        Optional<String> drift = Optional.empty();
        Parity parity = Parity.of(judged);
        if (stuck.isEmpty() && judged.size() > 1 && parity.outcome() == Parity.Outcome.DRIFT
                && (contradicted(judged) || unmarked(judged) && judgedBefore.keySet().containsAll(judged.keySet())
                && Parity.of(judgedBefore).outcome() == Parity.Outcome.PARITY)) {
            drift = Optional.of(parity.reason());
        }
        return new Result(rollbacks, errors, after, rollBack, stuck, drift, theirs);
    }

    /**
     * Before a release goes out, returns every side that does not run its last good release to it, and reads the sides
     * back. Such a side was left by an interrupted run (killed mid-rollout, mid-gate or mid-rollback), a paused gate or
     * {@code --no-rollback}: it runs a release that never passed. A different release is not deployed over it: were it
     * to fail, the stage would have to find its way back past a release nobody judged, and a gate's baseline would be
     * that release; so the stage first goes back to where the interrupted run started. A side already running this
     * release keeps it (the same release is finished, not undone) unless {@code judgedAgainstABaseline}: a gate that
     * compares the release with the traffic before the deploy, or with the other side, would then compare the release
     * with itself and pass whatever it does (a run killed after its gate failed would record the failed release as
     * good), so that side, too, goes back and the release is deployed again. A side that cannot be read, or has no last
     * good record, is left to the deploy as it is.
     *
     * @param judgedAgainstABaseline whether the stage's gate has a check with a baseline (compare, sequential)
     * @return the states of the opened sides, read back after the returns (the input when none was needed)
     * @throws TargetException if a side could not be returned: nothing else was changed
     */
    static Map<Side, TargetState> returnLeftovers(StageSpec stage, Map<Side, DeployTarget> opened, Map<Side, TargetState> states,
                                                  Release release, boolean judgedAgainstABaseline, Rollouts rollouts,
                                                  ExecutorService pool, EventSink events) {
        List<Side> left = opened.keySet().stream().filter(side -> {
            TargetState state = states.get(side);
            return state != null && state.readable() && state.lastGoodImage().isPresent() && !state.onLastGood()
                    && state.image().isPresent() && (judgedAgainstABaseline || !state.digest().equals(Optional.of(release.digest())));
        }).toList();
        if (left.isEmpty()) {
            return states;
        }
        List<String> each = new ArrayList<>();
        left.forEach(side -> each.add(side.label() + " runs " + states.get(side).version().orElse(Release.shortImage(states.get(side).image().get()))
                + ", which never passed here"));
        boolean same = left.stream().anyMatch(side -> states.get(side).digest().equals(Optional.of(release.digest())));
        Emit.notice(events, stage.name(), null, String.join("; ", each) + " (left by an interrupted or failed run): returning "
                + Side.labels(left) + " to the last good release before deploying " + release.version()
                + (same ? " (the gate judges it against a baseline, which must not be the release itself)" : ""));
        Map<Side, String> errors = new EnumMap<>(Side.class);
        Map<Side, RolloutResult> rollbacks = Rollouts.parallel(pool, left, side -> rollouts.rollback(stage, side, opened.get(side), errors,
                states.get(side).lastGoodImage(), "left by an interrupted or failed run"));
        List<String> failed = new ArrayList<>();
        rollbacks.forEach((side, result) -> {
            if (!result.succeeded()) {
                failed.add(side.label() + " (" + errors.getOrDefault(side, "rollback " + result.outcome() + ": " + result.reason()) + ")");
            }
        });
        if (!failed.isEmpty()) {
            throw new TargetException("stage " + stage.name() + ": could not return " + String.join(" + ", failed)
                    + " to the last good release before deploying " + release.version() + "; " + release.version()
                    + " was not deployed: needs a person");
        }
        Map<Side, String> unreadable = new EnumMap<>(Side.class);
        return read(opened, unreadable);
    }

    /**
     * The sides another writer changed during this run, with what they run: those whose rollout saw the release
     * replaced, and those found running neither this run's release nor what they ran when it began (a change after
     * the rollout ended, such as between the deploy and a failed gate). A side on its last good release needs no
     * rollback whoever put it there, and a side not read at the start cannot be told apart from an earlier run's.
     */
    private static Map<Side, String> theirs(Map<Side, DeployTarget> opened, Map<Side, TargetState> before,
                                            Map<Side, TargetState> now, Map<Side, String> unreadable, Optional<String> ours,
                                            Map<Side, String> superseded) {
        Map<Side, String> theirs = new EnumMap<>(Side.class);
        for (Side side : opened.keySet()) {
            if (superseded.containsKey(side)) {
                // What the side runs, as read; but when it still runs this run's image (another writer changed only the
                // digest record), what they set is what the rollout saw, and this run's release is not named as theirs.
                theirs.put(side, now.get(side).image().filter(i -> !unreadable.containsKey(side) && !ours.equals(Optional.of(i)))
                        .orElse(superseded.get(side)));
                continue;
            }
            TargetState state = now.get(side);
            TargetState was = before.get(side);
            if (ours.isEmpty() || unreadable.containsKey(side) || was == null || !was.readable() || state.onLastGood()) {
                continue;
            }
            Optional<String> image = state.image();
            if (image.isPresent() && !image.equals(ours) && !image.equals(was.image())) {
                theirs.put(side, image.get());
            }
        }
        return theirs;
    }

    /**
     * Whether two sides record different releases, each saying it passed on both: one of the two records is stale (a
     * run stopped between recording the sides). A release recorded by a deploy of one side alone names that side only.
     */
    private static boolean contradicted(Map<Side, TargetState> states) {
        return states.entrySet().stream().anyMatch(a -> states.entrySet().stream().anyMatch(b -> a.getKey() != b.getKey()
                && a.getValue().lastGoodSides().contains(b.getKey()) && b.getValue().lastGoodSides().contains(a.getKey())
                && !a.getValue().lastGoodImage().equals(b.getValue().lastGoodImage())));
    }

    /** Whether no side's record says on which sides its release passed (records made before they did). */
    private static boolean unmarked(Map<Side, TargetState> states) {
        return states.values().stream().allMatch(state -> state.lastGoodSides().isEmpty());
    }

    private static Map<Side, TargetState> read(Map<Side, DeployTarget> opened, Map<Side, String> unreadable) {
        Map<Side, TargetState> states = Rollouts.readBack(opened);
        states.forEach((side, state) -> {
            if (!state.readable()) {
                unreadable.put(side, state.detail());
            }
        });
        return states;
    }
}
