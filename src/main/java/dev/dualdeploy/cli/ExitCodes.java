package dev.dualdeploy.cli;

import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageResult;

/** The CLI's exit codes; the README and {@code --help} list the same. */
public final class ExitCodes {

    /** The command did what was asked: the release runs on every enabled side, or the status is at parity. */
    public static final int OK = 0;
    /**
     * The release failed (its rollout, parity or gate) and every enabled side of the stage is back on its last good
     * release (or, with --no-rollback, left as failed); for {@code gate}, the gate FAILED.
     */
    public static final int FAILED = 1;
    /** Bad input: the config, a flag or an image reference; nothing was changed. */
    public static final int BAD_INPUT = 2;
    /** {@code status --check} found DRIFT: the enabled sides of a stage run different digests. */
    public static final int DRIFT = 3;
    /**
     * A platform could not be read or changed, a rollback failed, another writer replaced the release on a side during
     * the deploy (SUPERSEDED: that side is left to it), or a gate could not read its metrics and its on_error is pause:
     * a person must look. Also a run that did its work but could not write its {@code --junit} report.
     */
    public static final int NEEDS_ATTENTION = 4;
    /**
     * LEASED: another run holds the stage's lease (and still did after {@code --wait-lock}); the message names the holder
     * and since when. Nothing was changed.
     */
    public static final int LEASED = 5;
    /**
     * The run was aborted (SIGTERM, SIGINT: a Jenkins abort) during {@code deploy}, {@code rollback} or {@code gate}: nothing new
     * started, and what the stage had changed was put back, read back on every side. A put-back that failed or timed
     * out is {@link #NEEDS_ATTENTION}.
     */
    public static final int ABORTED = 6;
    /** A bug in dualdeploy; rerun with --stacktrace and report it. */
    public static final int INTERNAL = 70;

    static final String HELP = "%nExit codes:%n"
            + "  0   succeeded (deploy: every enabled side runs the release; status: parity)%n"
            + "  1   the release failed, rolled back to the last good release (gate: FAIL)%n"
            + "  2   bad input (config, flags, image reference); nothing was changed%n"
            + "  3   status --check found DRIFT between the sides of a stage%n"
            + "  4   needs a person: a platform failed, a rollback failed, another writer superseded a side, a gate paused,"
            + " or the --junit report could not be written%n"
            + "  5   the stage is leased by another run (named, with since when); nothing was changed%n"
            + "  6   aborted (SIGTERM/SIGINT): what the stage changed was put back (a failed put-back is 4)%n"
            + "  70  internal error (rerun with --stacktrace and report it)%n";

    private ExitCodes() {
    }

    /**
     * The exit code that says how a stage ended: {@link #OK} when it succeeded or was skipped, {@link #FAILED} when the
     * release failed (rolled back, or left failed with --no-rollback), {@link #NEEDS_ATTENTION} when a rollback failed,
     * another writer superseded a side, or the gate paused, {@link #ABORTED} when an aborted run put the stage back. The engine carries no exit codes: this mapping is the only one.
     */
    public static int of(StageOutcome outcome) {
        return switch (outcome) {
            case SUCCEEDED, SKIPPED -> OK;
            case ROLLED_BACK, FAILED -> FAILED;
            case ROLLBACK_FAILED, SUPERSEDED, PAUSED -> NEEDS_ATTENTION;
            case ABORTED -> ABORTED;
        };
    }

    /**
     * The exit code of a {@code deploy} or {@code rollback}: its outcome's, but {@link #NEEDS_ATTENTION} whenever a side
     * could not be read at the end (parity UNREADABLE), even with {@code --no-rollback}: nobody knows what runs there.
     */
    static int of(StageResult report) {
        int code = of(report.outcome());
        return report.parity().outcome() == Parity.Outcome.UNREADABLE ? Math.max(code, NEEDS_ATTENTION) : code;
    }
}
