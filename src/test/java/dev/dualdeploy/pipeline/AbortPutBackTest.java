package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dualdeploy.cli.ExitCodes;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.testing.LocalStageTest;
import dev.dualdeploy.time.Abort;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The engine's side of an abort on a real local stage (both sides on 1.0.0, recorded last good): a put-back that
 * cannot be made is ROLLBACK_FAILED (exit 4), never ABORTED; an abort before anything started changes nothing, in a
 * deploy and in a rollback; a rollback aborted while under way is finished (it is the way back) and ends ABORTED. The signal path and the put-back that succeeds are {@code cli/AbortTest}'s.
 */
class AbortPutBackTest extends LocalStageTest {

    @Test
    void aPutBackThatFailsIsRollbackFailedNotAborted() throws Exception {
        env.breakRelease(NEXT.digest(), LocalEnvironment.Breakage.STALL, EnumSet.of(Side.KUBERNETES));
        events.clear(); // the setup's deploy of 1.0.0 reported progress too
        Abort abort = Abort.create();
        CompletableFuture<StageResult> run = CompletableFuture.supplyAsync(() -> new Rollouts(targets, sink, abort)
                .run(stage(), NEXT, BOTH, true));
        await().atMost(Duration.ofMinutes(1)).until(() -> events.stream().anyMatch(e -> e.startsWith("[prod/kubernetes] updated ")));
        // The release to put back cannot be pulled any more: the Kubernetes put-back fails.
        env.breakRelease(GOOD.digest(), LocalEnvironment.Breakage.PULL, EnumSet.of(Side.KUBERNETES));
        abort.request("SIGTERM");

        StageResult report = run.get(2, TimeUnit.MINUTES);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ROLLBACK_FAILED);
        assertThat(ExitCodes.of(report.outcome())).isEqualTo(ExitCodes.NEEDS_ATTENTION);
        assertThat(report.reason()).startsWith("aborted (SIGTERM) during the rollout of 1.2.0; could not return kubernetes (");
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(events).noneMatch(e -> e.startsWith("[prod] put back: "));
    }

    /** Review item 10: an abort before any rollout says where it found the run (not "during the rollout of"). */
    @Test
    void aDeployAbortedBeforeItsRolloutsChangesNothingAndSaysWhereItWas() {
        Abort abort = Abort.create();
        abort.request("SIGINT");
        List<Event> journaled = new CopyOnWriteArrayList<>();

        StageResult report = new Rollouts(targets, recording(journaled), abort).run(stage(), NEXT, BOTH, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ABORTED);
        assertThat(report.reason()).isEqualTo("aborted (SIGINT) during the preflight reads: nothing was changed");
        assertThat(events).contains("[prod] ABORTED: aborted (SIGINT) during the preflight reads: nothing was changed")
                .noneMatch(e -> e.contains("not started"));
        assertThat(journaled).noneMatch(e -> e instanceof Event.StageStarted || e instanceof Event.RolloutStarted)
                .anyMatch(Event.Aborted.class::isInstance);
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
    }

    /** Review item 10: a rollback aborted in its preparation journals the stage's end, and starts no rollback. */
    @Test
    void aRollbackAbortedBeforeItStartsChangesNothingAndEndsTheStage() {
        Abort abort = Abort.create();
        abort.request("SIGTERM");
        List<Event> journaled = new CopyOnWriteArrayList<>();

        StageResult report = new Rollback(targets, recording(journaled), abort).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(report.outcome()).isEqualTo(StageOutcome.ABORTED);
        assertThat(report.reason()).isEqualTo("aborted (SIGTERM) during the rollback's preparation: nothing was changed");
        assertThat(journaled).noneMatch(Event.RollbackStarted.class::isInstance);
        assertThat(journaled).filteredOn(Event.StageEnded.class::isInstance).singleElement()
                .satisfies(e -> assertThat(((Event.StageEnded) e).outcome()).isEqualTo("ABORTED"));
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
    }

    /** The test's sink, keeping every event in {@code journaled} too. */
    private EventSink recording(List<Event> journaled) {
        return EventSink.of(sink.run(), sink.clock(), event -> {
            journaled.add(event);
            sink.accept(event);
        });
    }

    @Test
    void aRollbackAbortedWhileUnderWayIsFinishedAndEndsAborted() {
        Abort abort = Abort.create();
        // The abort arrives once the rollback moves a side: it is finished, and the stage says aborted.
        AtomicBoolean started = new AtomicBoolean();
        EventSink abortingSink = EventSink.of(sink.run(), sink.clock(), event -> {
            sink.accept(event);
            started.compareAndSet(false, event instanceof Event.RollbackStarted);
            if (started.get() && event.side().isPresent()) {
                abort.request("SIGTERM");
            }
        });

        StageResult report = new Rollback(targets, abortingSink, abort).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ABORTED);
        assertThat(ExitCodes.of(report.outcome())).isEqualTo(ExitCodes.ABORTED);
        assertThat(events).anyMatch(e -> e.startsWith("[prod] ABORTED: rolled back legacy + kubernetes to "));
        assertThat(runs(Side.LEGACY)).contains(OLDEST.digest());
        assertThat(runs(Side.KUBERNETES)).contains(OLDEST.digest());
    }
}
