package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps a stage to one last good release across its sides. Each side records the stage's last good release on its own
 * platform, with the sides on which it passed (there is no transaction spanning ECS and Kubernetes), so a run killed
 * while recording a release, or a rollback killed after one side's record moved, leaves the records disagreeing, and
 * failure recovery would then return each side to a different release. Before a command changes a stage, the records
 * are checked across its sides: when every side runs one release, healthy, and a side records it as last good having
 * passed on the sides that do not record it, the record is completed on them. A release recorded by a deploy of one
 * side alone (a toggle) names that side only, so it is never taken as having passed on the other.
 */
final class LastGood {

    private LastGood() {
    }

    /**
     * Completes an interrupted record, as described above; anything else is left as it is.
     *
     * @param states what each opened side runs now, as read back
     * @return the states, with the records of the completed sides read back
     * @throws TargetException if a record needed completing and could not be written: the records would send the sides
     *         to different releases on a failure, so nothing may change until they agree
     */
    static Map<Side, TargetState> reconcile(StageSpec stage, Map<Side, DeployTarget> opened, Map<Side, TargetState> states,
                                            EventSink events) {
        Optional<String> image = commonHealthyImage(opened, states);
        if (image.isEmpty()) {
            return states;
        }
        List<Side> behind = opened.keySet().stream().filter(s -> !states.get(s).lastGoodImage().equals(image)).toList();
        Optional<Side> recorded = opened.keySet().stream().filter(s -> states.get(s).lastGoodImage().equals(image))
                .filter(s -> states.get(s).lastGoodSides().containsAll(behind)).findFirst();
        if (behind.isEmpty() || recorded.isEmpty()) {
            return states; // the records agree, or no record says the release passed on the sides that lack it
        }
        List<Side> rolledBack = behind.stream().filter(s -> states.get(s).rolledBackFrom().equals(image)).toList();
        if (!rolledBack.isEmpty()) {
            // The side was rolled back from this release since the other side's record was made: that record's claim
            // for it is stale, and the release now runs there unjudged.
            Emit.notice(events, stage.name(), null, "every side runs " + states.get(recorded.get()).version().orElse(image.get()) + ", but "
                    + Side.labels(rolledBack) + " was rolled back from it since " + recorded.get().label()
                    + " recorded it: not recorded as last good there until it passes again");
            return states;
        }
        Optional<Release> pinned = release(image.get(), states.get(recorded.get()));
        if (pinned.isEmpty()) {
            return states; // only releases pinned by digest are ever recorded as passed
        }
        Release release = pinned.get();
        Set<Side> passedOn = states.get(recorded.get()).lastGoodSides();
        Emit.notice(events, stage.name(), null, "every side runs " + release.version() + "; " + recorded.get().label()
                + " records it as the last good release, having passed on " + Side.labels(passedOn) + ", but "
                + Side.labels(behind) + " does not (a run stopped between recording the sides); completing the record");
        Map<Side, TargetState> reconciled = new EnumMap<>(Side.class);
        reconciled.putAll(states);
        for (Side side : behind) {
            try {
                reconciled.put(side, opened.get(side).markGood(release, passedOn));
            } catch (TargetException e) {
                throw new TargetException("stage " + stage.name() + ": the sides' last good records disagree (" + recorded.get().label()
                        + " records " + release.version() + ", " + side.label() + " does not) and the record could not be completed on "
                        + side.label() + ": " + e.getMessage() + "; nothing was changed: run again once the record can be written", e);
            }
        }
        Emit.lastGood(events, stage.name(), behind, release.version());
        return reconciled;
    }

    /** The release whose {@link Release#image()} is exactly {@code image}, labelled as the side records it; else empty. */
    static Optional<Release> release(String image, TargetState state) {
        try {
            ImageRef ref = ImageRef.parse(image);
            if (ref.tag().isPresent() || ref.digest().isEmpty()) {
                return Optional.empty();
            }
            Release release = new Release(ref.repository(), ref.digest().get(), state.version().orElse(null));
            return Optional.of(release).filter(r -> r.image().equals(image));
        } catch (IllegalArgumentException notARelease) {
            return Optional.empty();
        }
    }

    /** The one image every opened side runs, healthy; empty otherwise, or with fewer than two sides. */
    private static Optional<String> commonHealthyImage(Map<Side, DeployTarget> opened, Map<Side, TargetState> states) {
        if (opened.size() < 2 || !states.keySet().containsAll(opened.keySet())) {
            return Optional.empty();
        }
        Optional<String> image = Optional.empty();
        for (Side side : opened.keySet()) {
            TargetState state = states.get(side);
            if (state.health() != TargetState.Health.HEALTHY || state.image().isEmpty()
                    || (image.isPresent() && !image.equals(state.image()))) {
                return Optional.empty();
            }
            image = state.image();
        }
        return image;
    }
}
