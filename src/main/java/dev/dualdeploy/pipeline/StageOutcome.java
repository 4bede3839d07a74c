package dev.dualdeploy.pipeline;

/** How a stage's deploy (and its gate) ended, and the CLI exit code that says so. */
public enum StageOutcome {
    /** Every enabled side runs the release (parity). */
    SUCCEEDED(0),
    /** The release failed; every enabled side is back on its last good release, as read back. */
    ROLLED_BACK(1),
    /** The release failed and automatic rollback was turned off; the failed release is still in place. */
    FAILED(1),
    /** The release failed and at least one side could not be returned to its last good release: needs a person. */
    ROLLBACK_FAILED(4),
    /**
     * The gate could not judge the release (its metrics could not be read) and its on_error is pause: the release
     * stays in place, and a person decides whether to run the gate again or roll back.
     */
    PAUSED(4),
    /** No side is enabled for this stage; nothing was done. */
    SKIPPED(0);

    private final int exitCode;

    StageOutcome(int exitCode) {
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
