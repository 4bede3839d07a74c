package dev.dualdeploy.targets;

import dev.dualdeploy.text.Text;
import java.time.Duration;
import java.util.Optional;

/**
 * How a rollout ended.
 *
 * @param outcome SUCCEEDED, FAILED or TIMED_OUT
 * @param reason what a person needs to know, such as the pod, container and kubelet message; never empty
 * @param took how long the rollout was followed
 * @param supersededBy what runs on the target now, when the rollout FAILED because another writer replaced the release
 *                     underneath it (the Deployment's image or digest record, the ECS service's task definition): that
 *                     change is the other writer's, and failure recovery must not silently put it back; empty otherwise
 */
public record RolloutResult(Outcome outcome, String reason, Duration took, Optional<String> supersededBy) {

    /** The end state of a rollout. */
    public enum Outcome { SUCCEEDED, FAILED, TIMED_OUT }

    /** A rollout that was not superseded. */
    public RolloutResult(Outcome outcome, String reason, Duration took) {
        this(outcome, reason, took, Optional.empty());
    }

    /**
     * A rollout that ended at once because another writer replaced the release it was following.
     *
     * @param now what runs on the target now (an image, or a digest record), as the other writer set it; kept
     *            {@link Text#foreign escaped and capped}, because another writer chose it
     * @param reason starting {@code superseded by …}, naming what now runs in its short form
     */
    public static RolloutResult superseded(String now, String reason, Duration took) {
        return new RolloutResult(Outcome.FAILED, reason, took, Optional.of(Text.foreign(now)));
    }

    public boolean succeeded() {
        return outcome == Outcome.SUCCEEDED;
    }
}
