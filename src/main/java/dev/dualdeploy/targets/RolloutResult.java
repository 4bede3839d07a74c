package dev.dualdeploy.targets;

import java.time.Duration;

/**
 * How a rollout ended.
 *
 * @param status SUCCEEDED, FAILED or TIMED_OUT
 * @param reason what a person needs to know, such as the pod, container and kubelet message; never empty
 * @param took how long the rollout was followed
 */
public record RolloutResult(Status status, String reason, Duration took) {

    /** The end state of a rollout. */
    public enum Status { SUCCEEDED, FAILED, TIMED_OUT }

    public boolean succeeded() {
        return status == Status.SUCCEEDED;
    }
}
