package dev.dualdeploy.target;

import dev.dualdeploy.release.Release;

/**
 * Where the service runs on one side of one stage: an ECS service or a Kubernetes Deployment. The platform is the
 * source of truth; a target keeps no state of its own between calls. Each target records on its platform the stage's
 * last good release and the good one before it, which is what failure recovery and {@link #rollback()} return to.
 */
public interface DeployTarget {

    /** Reads what runs now from the platform (idempotent); a target with nothing deployed reports health ABSENT. */
    TargetState current();

    /**
     * Starts putting the release on this target and returns a rollout to follow (not idempotent: each call writes);
     * if no last good release is recorded yet, the release running before the change is recorded as last good, as it
     * was serving traffic. Deploying the release that already runs writes nothing and checks health only.
     *
     * @throws TargetException if the change could not be written (nothing to follow)
     */
    Rollout deploy(Release release);

    /**
     * Records the release, which must run on this target, as the last good one and the one before as previous good,
     * and returns the state read back (idempotent: marking the last good release again writes nothing).
     *
     * @throws TargetException if the target does not run the release, or the record could not be written or read back
     */
    TargetState markGood(Release release);

    /**
     * Starts returning to the last good release; if that already runs, to the previous good one, which then becomes
     * the last good (not idempotent: a second call on the last good release goes one more release back).
     *
     * @throws TargetException if there is no release to return to, or the change could not be written
     */
    Rollout rollback();

    /** A short description for logs, such as {@code kubernetes loan/loan-api}. */
    String describe();
}
