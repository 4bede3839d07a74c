package dev.dualdeploy.targets;

import dev.dualdeploy.time.Abort;
import java.time.Duration;

/** A change in progress on one target. */
public interface Rollout {

    /**
     * Follows the change until it has succeeded, failed or the timeout has passed, reporting progress as it goes.
     * Never throws for platform faults: an unreachable platform ends the rollout as FAILED with the reason.
     */
    RolloutResult await(Duration timeout);

    /**
     * As {@link #await(Duration)}, but stops following (FAILED, the reason starting {@code stopped following}) soon
     * after the abort is requested; the change itself stays written, for the caller to put back. A rollout that cannot
     * be stopped early follows to its end.
     */
    default RolloutResult await(Duration timeout, Abort abort) {
        return await(timeout);
    }

    /** The reason of a rollout that stopped following because the run was aborted. */
    static String stoppedFollowing(Abort abort) {
        return "stopped following: the run was aborted (" + abort.reason().orElse("abort") + ")";
    }
}
