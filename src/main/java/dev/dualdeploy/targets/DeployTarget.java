package dev.dualdeploy.targets;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.release.Release;
import java.util.Set;

/**
 * Where the service runs on one side of one stage: an ECS service or a Kubernetes Deployment. The platform is the
 * source of truth; a target keeps no state of its own between calls. Each target records on its platform the stage's
 * last good release and the good one before it, which is what failure recovery and {@link #rollback()} return to.
 */
public interface DeployTarget {

    /** Reads what runs now from the platform (idempotent); a target with nothing deployed reports health ABSENT. */
    TargetState current();

    /**
     * Starts putting the release on this target (not idempotent; the release already running writes nothing and only
     * checks health); a side without a last good record first records what ran before as last good.
     *
     * @throws TargetException if the change could not be written (nothing to follow)
     */
    Rollout deploy(Release release);

    /**
     * Records the running release as last good and the former last good as previous good, read back (idempotent).
     *
     * @param passedOn the sides on which the release passed (every enabled side of the stage in that run); kept with
     *                 the record, so that a record found on one side only is completed on another only if it passed there
     * @throws TargetException if the target does not run the release, or the record could not be written or read back
     */
    TargetState markGood(Release release, Set<Side> passedOn);

    /**
     * Starts returning to the last good release, or from it to the previous good one (not idempotent on the last good).
     *
     * @throws TargetException if no release to return to is recorded (empty), or the change could not be written
     */
    Rollout rollback();

    /** Whether a deploy creates the workload when it does not exist (a Kubernetes side with manifests). */
    default boolean creates() {
        return false;
    }

    /** A short description for logs, such as {@code kubernetes loan/loan-api}. */
    String describe();
}
