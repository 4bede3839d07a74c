package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetState;
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
 * on its last good release is read and never written.
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
     */
    record Result(Map<Side, RolloutResult> rollbacks, Map<Side, String> errors, Map<Side, TargetState> after,
                  List<Side> rolledBack, Map<Side, String> stuck, Optional<String> drift) {

        boolean recovered() {
            return stuck.isEmpty() && drift.isEmpty();
        }

        /** One clause for the stage's reason, such as {@code rolled back kubernetes to the last good release}. */
        String summary() {
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
            String apart = after.size() > 1 && Parity.of(after).status() == Parity.Status.DRIFT
                    ? " (the sides run different last good releases, as they were deployed one at a time)" : "";
            return (rolledBack.isEmpty() ? "no side needed a rollback: every side runs its last good release"
                    : "rolled back " + Side.labels(rolledBack) + " to the last good release") + apart;
        }
    }

    private Recovery() {
    }

    /**
     * Recovers the sides.
     *
     * @param opened the enabled sides of the stage and their targets
     * @param before what each side ran when this run began; a side without a last good record is left as it is, and
     *               counts as recovered only if it still runs what it ran before
     */
    static Result run(StageSpec stage, Map<Side, DeployTarget> opened, Map<Side, TargetState> before, Deploy deploy,
                      ExecutorService pool, Reporter reporter) {
        Map<Side, String> unreadable = new EnumMap<>(Side.class);
        Map<Side, TargetState> now = read(opened, unreadable);
        List<Side> rollBack = opened.keySet().stream().filter(s -> !unreadable.containsKey(s))
                .filter(s -> now.get(s).lastGoodImage().isPresent() && !now.get(s).onLastGood()).toList();
        if (!rollBack.isEmpty()) {
            reporter.event(stage.name(), null, "returning " + Side.labels(rollBack) + " to the last good release");
        }
        Map<Side, String> errors = new EnumMap<>(Side.class);
        Map<Side, RolloutResult> rollbacks = new EnumMap<>(Side.class);
        rollbacks.putAll(Deploy.parallel(pool, rollBack, side -> deploy.rollback(stage, side, opened.get(side), errors)));
        // Without a rollback, what was read above is the result, unreadable sides included: they must stay flagged.
        Map<Side, TargetState> after = now;
        if (!rollBack.isEmpty()) {
            unreadable.clear();
            after = read(opened, unreadable);
        }
        Map<Side, String> stuck = new LinkedHashMap<>();
        for (Side side : opened.keySet()) {
            TargetState state = after.get(side);
            RolloutResult rollback = rollbacks.get(side);
            if (unreadable.containsKey(side)) {
                stuck.put(side, "cannot be read: " + unreadable.get(side));
            } else if (errors.containsKey(side)) {
                stuck.put(side, errors.get(side));
            } else if (rollback != null && !rollback.succeeded()) {
                stuck.put(side, "rollback " + rollback.status() + ": " + rollback.reason());
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
        Optional<String> drift = Optional.empty();
        Parity parity = Parity.of(after);
        if (stuck.isEmpty() && opened.size() > 1 && parity.status() == Parity.Status.DRIFT
                && (contradicted(after) || unmarked(after) && before.keySet().containsAll(opened.keySet())
                && Parity.of(before).status() == Parity.Status.PARITY)) {
            drift = Optional.of(parity.reason());
        }
        return new Result(rollbacks, errors, after, rollBack, stuck, drift);
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
        Map<Side, TargetState> states = Deploy.readBack(opened);
        states.forEach((side, state) -> {
            if (!state.readable()) {
                unreadable.put(side, state.detail());
            }
        });
        return states;
    }
}
