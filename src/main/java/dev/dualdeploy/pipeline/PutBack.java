package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.time.Abort;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

/**
 * What a run does in a stage when it is aborted (SIGTERM, SIGINT): nothing new starts, and every enabled side of the
 * stage that does not run its last good release is put back on it, as after a failed release ({@link Recovery}): the
 * sides this run changed (which ran their last good release when the stage began), and any an earlier interrupted run
 * left. Each side's put-back is followed for at most {@link Abort#putBack}; a further signal does not stop it.
 */
final class PutBack {

    private PutBack() {
    }

    /** The head of the stage's reason: {@code aborted (SIGTERM) during the gate}. */
    static String what(Abort abort, String during) {
        return "aborted (" + abort.reason().orElse("abort") + ") during " + during;
    }

    /**
     * Puts the sides back and says what runs on each afterwards.
     *
     * @param during what the abort stopped, such as {@code the rollout of 1.2.0}
     * @param ours the image this run put on the stage (see {@link Recovery#run})
     */
    static Recovery.Result run(StageSpec stage, String during, Map<Side, DeployTarget> opened, Map<Side, TargetState> before,
                               Optional<String> ours, Map<Side, String> superseded, Rollouts rollouts, ExecutorService pool,
                               EventSink events, Abort abort) {
        aborted(stage, what(abort, during) + ": nothing new starts; putting back every side not on its last good release"
                + " (each followed for at most " + Durations.format(Abort.putBack(stage.timeout())) + ")", events, abort);
        Recovery.Result result = Recovery.run(stage, opened, before, ours, superseded, rollouts, pool, events, what(abort, during));
        if (result.recovered()) {
            List<String> each = new ArrayList<>();
            result.after().forEach((side, state) -> each.add(side.label() + " runs " + state.version().map(v -> v + " ").orElse("")
                    + "(" + state.image().map(Release::shortImage).orElse("nothing") + ")"
                    + (result.rolledBack().contains(side) ? ", put back" : ", unchanged")));
            Emit.notice(events, stage.name(), null, "put back: " + String.join("; ", each));
        }
        return result;
    }

    /**
     * Says that the run was aborted before it changed anything in the stage, and returns the stage's reason.
     *
     * @param during what the abort stopped, such as {@code the rollback's preparation}
     */
    static String nothingChanged(StageSpec stage, String during, EventSink events, Abort abort) {
        String reason = what(abort, during) + ": nothing was changed";
        aborted(stage, StageOutcome.ABORTED + ": " + reason, events, abort);
        return reason;
    }

    /**
     * The run was aborted before any rollout of its release began (during the preflight reads, the return of what an
     * earlier run left, or the wait before deploying): says where it really was, ends the stage, and
     * returns the stage's ABORTED result. Nothing is put back: this run changed nothing that is not on the stage's last
     * good release.
     *
     * @param during where the abort found the run, such as {@code the preflight reads}
     * @param done what the stage was left with, such as {@code nothing was changed}
     * @param states what each side runs, as last read
     */
    static StageResult beforeRollout(StageSpec stage, Optional<Release> release, String during, String done,
                                     Map<Side, DeployTarget> opened, Map<Side, TargetState> states, EventSink events,
                                     Abort abort) {
        String reason = what(abort, during) + ": " + done;
        aborted(stage, StageOutcome.ABORTED + ": " + reason, events, abort);
        List<SideResult> sides = new ArrayList<>();
        states.forEach((side, state) -> sides.add(new SideResult(side, opened.get(side).describe(), Optional.empty(), Optional.empty(),
                Optional.empty(), state, Duration.ZERO)));
        Parity parity = Parity.of(states);
        StageResult result = new StageResult(stage.name(), release, StageOutcome.ABORTED, reason, parity, sides);
        // The stage ends in the events, also when its start was not journaled yet: the results (the JSON) are read from them.
        // What the sides run, as read before: the results read the stage's last read-back.
        Emit.readBack(events, stage.name(), Rollouts.describe(opened), states);
        Emit.parity(events, stage.name(), parity);
        Emit.stageEnded(events, result);
        return result;
    }

    /** Says that a rollback under way when the run was aborted was followed to its end: it is the way back. */
    static void rollbackFinished(StageSpec stage, EventSink events, Abort abort) {
        aborted(stage, what(abort, "the rollback") + ": the rollback under way was followed to its end (it is the way back"
                + " to a good release), not undone", events, abort);
    }

    /**
     * The one place the engine says it was aborted: the journal's {@code aborted} event (its reason is the signal),
     * then what the abort does now, as a notice.
     */
    private static void aborted(StageSpec stage, String message, EventSink events, Abort abort) {
        events.accept(new Event.Aborted(events.run(), events.now(), Optional.of(stage.name()), Optional.empty(),
                abort.reason().orElse("abort")));
        Emit.notice(events, stage.name(), null, message);
    }

    /** ABORTED when every side is back on its last good release; otherwise the recovery's own (a person must look). */
    static StageOutcome outcome(Recovery.Result result) {
        return result.recovered() ? StageOutcome.ABORTED : result.outcome();
    }
}
