package dev.dualdeploy.targets;

import java.time.Duration;

/** A change in progress on one target. */
public interface Rollout {

    /**
     * Follows the change until it has succeeded, failed or the timeout has passed, reporting progress as it goes.
     * Never throws for platform faults: an unreachable platform ends the rollout as FAILED with the reason.
     */
    RolloutResult await(Duration timeout);
}
