package dev.dualdeploy.target;

import dev.dualdeploy.release.Release;

/**
 * Where the service runs on one side of one stage: an ECS service or a Kubernetes Deployment. The platform is the
 * source of truth; a target keeps no state of its own between calls.
 */
public interface DeployTarget {

    /** Reads what runs now from the platform (idempotent); a target with nothing deployed reports health ABSENT. */
    TargetState current();

    /**
     * Starts putting the release on this target and returns a rollout to follow; the previous release is recorded on
     * the platform so that {@link #rollback()} can return to it. Deploying the release that already runs records
     * nothing and yields a rollout that checks health only.
     *
     * @throws TargetException if the change could not be written (nothing to follow)
     */
    Rollout deploy(Release release);

    /**
     * Starts returning to the release recorded as previous by the last deploy.
     *
     * @throws TargetException if no previous release is recorded, or the change could not be written
     */
    Rollout rollback();

    /** A short description for logs, such as {@code kubernetes loan/loan-api}. */
    String describe();
}
