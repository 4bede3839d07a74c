package dev.dualdeploy.pipeline;

/** How a stage's deploy (and its gate) ended. The CLI's exit code for each is {@code cli/ExitCodes}' business alone. */
public enum StageOutcome {
    /** Every enabled side runs the release (parity). */
    SUCCEEDED,
    /** The release failed; every enabled side is back on its last good release, as read back. */
    ROLLED_BACK,
    /** The release failed and automatic rollback was turned off; the failed release is still in place. */
    FAILED,
    /** The release failed and at least one side could not be returned to its last good release: needs a person. */
    ROLLBACK_FAILED,
    /**
     * Another writer replaced the release on a side during the stage (a Deployment's image, an ECS service's task
     * definition): that side is left as the other writer set it, not rolled back, and the reason names what it runs;
     * the other sides this run changed are back on their last good release. Needs a person.
     */
    SUPERSEDED,
    /**
     * The gate could not judge the release (its metrics could not be read) and its on_error is pause: the release
     * stays in place, and a person decides whether to run the gate again or roll back.
     */
    PAUSED,
    /**
     * The run was aborted (SIGTERM, SIGINT) in this stage: nothing new started, and every enabled side is back on its
     * last good release, as read back. A put-back that failed or timed out is {@link #ROLLBACK_FAILED} instead.
     */
    ABORTED,
    /** No side is enabled for this stage; nothing was done. */
    SKIPPED
}
