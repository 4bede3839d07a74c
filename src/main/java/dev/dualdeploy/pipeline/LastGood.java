package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.target.DeployTarget;
import dev.dualdeploy.target.TargetException;
import dev.dualdeploy.target.TargetState;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps a stage to one last good release across its sides. Each side records the stage's last good release on its own
 * platform (there is no transaction spanning ECS and Kubernetes), so a run killed while recording a release, or while
 * a rollback moved one side's record, leaves the sides' records disagreeing, and failure recovery would then return
 * each side to a different release. Before a command changes a stage, the records are checked across its sides; when
 * every side runs one release, healthy, and some side already records it as last good, the recording was interrupted
 * after the stage had passed (a side's record names a release only once it ran at parity and passed the gate on every
 * side, or once a rollback put it back there), and it is completed on the other sides.
 */
final class LastGood {

    private LastGood() {
    }

    /**
     * Completes an interrupted record, as described above; anything else is left as it is.
     *
     * @param states what each opened side runs now, as read back
     * @return the states, with the records of the completed sides read back
     */
    static Map<Side, TargetState> reconcile(StageSpec stage, Map<Side, DeployTarget> opened, Map<Side, TargetState> states,
                                            Reporter reporter) {
        Optional<String> image = commonHealthyImage(opened, states);
        if (image.isEmpty()) {
            return states;
        }
        List<Side> recorded = opened.keySet().stream().filter(s -> states.get(s).lastGoodImage().equals(image)).toList();
        List<Side> behind = opened.keySet().stream().filter(s -> !recorded.contains(s)).toList();
        Optional<Release> pinned = release(image.get(), states.get(recorded.isEmpty() ? behind.get(0) : recorded.get(0)));
        if (recorded.isEmpty() || behind.isEmpty() || pinned.isEmpty()) {
            return states; // agreeing records, or a release no run recorded (only pinned releases are ever marked good)
        }
        Release release = pinned.get();
        reporter.event(stage.name(), null, "every side runs " + release.version() + ", recorded as the last good release on "
                + Side.labels(recorded) + " but not on " + Side.labels(behind) + " (an earlier run stopped while recording"
                + " it); completing the record");
        Map<Side, TargetState> reconciled = new EnumMap<>(Side.class);
        reconciled.putAll(states);
        for (Side side : behind) {
            try {
                reconciled.put(side, opened.get(side).markGood(release));
            } catch (TargetException e) {
                // Not fatal here: the records stay as they were, and a recovery that ends with the sides apart says so.
                reporter.event(stage.name(), side, "could not complete the last good record: " + e.getMessage());
            }
        }
        return reconciled;
    }

    /** The release whose {@link Release#image()} is exactly {@code image}, labelled as the side records it; else empty. */
    private static Optional<Release> release(String image, TargetState state) {
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

    /** The one image every opened side runs, healthy, pinned by digest; empty otherwise, or with fewer than two sides. */
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
