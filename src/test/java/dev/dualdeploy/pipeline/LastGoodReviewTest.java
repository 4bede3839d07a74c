package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.cli.ExitCodes;
import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.config.MetricsSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.local.EcsSimulator;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.testing.LocalStageTest;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 1, hostile review of the one-last-good-release rule ({@link LastGood}): sides deployed one at a time,
 * paused and killed gates, and rollbacks that can be made on one side only. Each test sets the platforms up as an
 * operator's ordinary commands (or a killed run) would and asserts what runs on each side, the outcome and the reason.
 */
class LastGoodReviewTest extends LocalStageTest {

    /**
     * The migration flow: a release goes to kubernetes alone first (a toggle), passes, and is recorded there; then a
     * gated canary promotion takes it to legacy, and that run is killed while the canary gate watches legacy. Legacy
     * runs the release, never judged; both sides run it, healthy, and kubernetes records it. The next run must not
     * take that for "an earlier run stopped while recording it": the canary gate fails on legacy, and legacy must go
     * back to the release it last passed, not stay on the failing release under an outcome of ROLLED_BACK.
     */
    @Test
    void anUnjudgedCanaryLeftByAKilledDeployIsNotMarkedGoodBecauseAOneSideDeployRecordedIt() {
        StageResult kubernetesFirst = deploy(NEXT, new ToggleSpec(false, true));
        assertThat(kubernetesFirst.outcome()).as(kubernetesFirst.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        // The killed promotion: the canary (legacy) got the release, then the CLI died while the gate watched it.
        RolloutResult canary = target(Side.LEGACY).deploy(NEXT).await(Duration.ofSeconds(30));
        assertThat(canary.succeeded()).as(canary.reason()).isTrue();

        StageResult rerun = promotion(errorsOn(Side.LEGACY)).run(gated(GateSpec.OnError.FAIL), NEXT, new ToggleSpec(true, true), true, true);

        assertThat(rerun.reason()).startsWith("gate canary FAIL");
        assertThat(runs(Side.LEGACY)).as("legacy, whose canary gate failed, must not keep the release").contains(GOOD.digest());
        assertThat(rerun.outcome()).as(rerun.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(rerun.reason()).doesNotContain("no side needed a rollback");
        assertThat(events).noneMatch(e -> e.contains("an earlier run stopped while recording it"));
    }

    /**
     * The same without any kill: the canary gate could not read its metrics and on_error is pause, so legacy keeps the
     * release "until a person runs the same deploy again or rolls back". The person re-runs the deploy; its canary gate now
     * fails. Legacy must return to the release it ran before, never judged good on it.
     */
    @Test
    void aPausedCanaryIsNotMarkedGoodByTheNextRunOfTheSameDeploy() {
        StageResult kubernetesFirst = deploy(NEXT, new ToggleSpec(false, true));
        assertThat(kubernetesFirst.outcome()).as(kubernetesFirst.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        AtomicBoolean metricsDown = new AtomicBoolean(true);
        MetricsProvider provider = (query, window) -> metricsDown.get() ? Measurement.failed(query, "metrics unreachable")
                : Measurement.of(query, List.of(query.side().equals(Side.LEGACY.label()) ? 0.10 : 0.005));
        StageResult paused = promotion(provider).run(gated(GateSpec.OnError.PAUSE), NEXT, new ToggleSpec(true, true), true, true);
        assertThat(paused.outcome()).as(paused.reason()).isEqualTo(StageOutcome.PAUSED);
        assertThat(runs(Side.LEGACY)).contains(NEXT.digest());
        metricsDown.set(false);

        StageResult rerun = promotion(provider).run(gated(GateSpec.OnError.PAUSE), NEXT, new ToggleSpec(true, true), true, true);

        assertThat(rerun.reason()).startsWith("gate canary FAIL");
        assertThat(runs(Side.LEGACY)).as("legacy, whose canary gate failed, must not keep the release").contains(GOOD.digest());
        assertThat(rerun.outcome()).as(rerun.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
    }

    /**
     * The way on from a pause that the reason names: the same deploy run again keeps the release, judges it again, and,
     * when its gate passes, records it as the last good release on both sides (a later failure returns to it).
     */
    @Test
    void aPausedDeployRunAgainRecordsTheReleaseAsLastGoodWhenItsGatePasses() {
        AtomicBoolean metricsDown = new AtomicBoolean(true);
        MetricsProvider provider = (query, window) -> metricsDown.get() ? Measurement.failed(query, "metrics unreachable")
                : Measurement.of(query, List.of(0.005));
        StageResult paused = promotion(provider).run(gated(GateSpec.OnError.PAUSE), NEXT, new ToggleSpec(true, true), true, true);
        assertThat(paused.outcome()).as(paused.reason()).isEqualTo(StageOutcome.PAUSED);
        assertThat(paused.reason()).endsWith("legacy keep 1.2.0 until a person runs the same deploy again (it keeps the release,"
                + " judges it again, and records it as last good if the gate passes) or rolls back (dualdeploy rollback)");
        assertThat(target(Side.LEGACY).current().lastGoodImage()).contains(GOOD.image());
        metricsDown.set(false);

        StageResult rerun = promotion(provider).run(gated(GateSpec.OnError.PAUSE), NEXT, new ToggleSpec(true, true), true, true);

        assertThat(rerun.outcome()).as(rerun.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        for (Side side : Side.values()) {
            assertThat(runs(side)).as(side.label()).contains(NEXT.digest());
            assertThat(target(side).current().lastGoodImage()).as(side.label()).contains(NEXT.image());
        }
    }

    /**
     * No kill and no pause at all: the release went to kubernetes alone first and passed there; then the gated canary
     * promotion of the same release takes it to legacy. The canary gate passes, the follow "deploy" (kubernetes already
     * runs it) reconciles the records and marks the release good on legacy before the follow gate has judged it; the
     * follow gate fails on legacy, and nothing is rolled back: ROLLED_BACK, "no side needed a rollback".
     */
    @Test
    void aFollowGateFailureAfterAOneSideDeployReturnsLegacyToItsLastGoodRelease() {
        StageResult kubernetesFirst = deploy(NEXT, new ToggleSpec(false, true));
        assertThat(kubernetesFirst.outcome()).as(kubernetesFirst.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        MetricsProvider badInFollow = (query, window) -> Measurement.of(query, List.of(
                query.side().equals(Side.LEGACY.label()) && events.stream().anyMatch(e -> e.contains("gate follow")) ? 0.10 : 0.005));

        StageResult report = promotion(badInFollow).run(gated(GateSpec.OnError.FAIL), NEXT, new ToggleSpec(true, true), true, true);

        assertThat(report.reason()).startsWith("gate follow FAIL");
        assertThat(runs(Side.LEGACY)).as("legacy, whose follow gate failed: " + report.outcome() + ": " + report.reason())
                .contains(GOOD.digest());
        assertThat(report.reason()).doesNotContain("no side needed a rollback");
    }

    /**
     * Ordinary commands: deploy 1.2.0 to both, roll back kubernetes alone (it goes to 1.0.0 with nothing recorded
     * before it), deploy 1.0.0 to both again (legacy now records 1.2.0 as the good release before 1.0.0), then roll
     * back both. The sides ran one release; legacy can go "back" (to 1.2.0, forward in fact) and kubernetes cannot go
     * anywhere. A rollback that can only be made on one side must change nothing and say why, not leave the stage in
     * DRIFT with legacy moved.
     */
    @Test
    void aRollbackFromParityThatOnlyOneSideCanMakeChangesNothing() {
        assertThat(deploy(NEXT, new ToggleSpec(true, true)).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        StageResult kubernetesBack = new Rollback(targets, sink).run(stage(), List.of(Side.KUBERNETES));
        assertThat(kubernetesBack.outcome()).as(kubernetesBack.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        StageResult again = deploy(GOOD, new ToggleSpec(true, true));
        assertThat(again.outcome()).as(again.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(again.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
        assertThat(runs(Side.LEGACY)).as("legacy must not move when kubernetes cannot follow; "
                + rollback.outcome() + ": " + rollback.reason()).contains(GOOD.digest());
        assertThat(rollback.parity().outcome()).as(rollback.reason()).isEqualTo(Parity.Outcome.PARITY);
    }

    /**
     * Sides whose last good records agree but whose records of the release before it differ (kubernetes had a release
     * of its own in between, deployed with a toggle): both run 1.2.0, legacy records 1.0.0 before it, kubernetes 1.1.1.
     * A rollback of both from parity must not split the stage (legacy to 1.0.0, kubernetes to 1.1.1); it should see
     * before changing anything that the sides go to different releases, and refuse or take them to one.
     */
    @Test
    void aRollbackFromParityToDifferentEarlierReleasesDoesNotSplitTheStage() {
        recordDifferentEarlierReleases();

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(rollback.parity().outcome()).as(rollback.outcome() + ": " + rollback.reason()).isEqualTo(Parity.Outcome.PARITY);
    }

    /**
     * The same rollback, with one ECS read answered by a throttling error at the start (ECS throttles under load; the
     * SDK's retry is used up). The rollback's "the sides already differed" rule sees an unknown side as differing, so
     * the split it makes is reported SUCCEEDED (exit 0) with the stage in DRIFT.
     */
    @Test
    void aRollbackThatSplitsTheStageIsNotSucceededBecauseOneReadFailedAtTheStart() {
        recordDifferentEarlierReleases();
        env.ecs().throttle("DescribeServices", 2); // the first read and its one retry

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(rollback.parity().outcome() == Parity.Outcome.DRIFT && rollback.outcome() == StageOutcome.SUCCEEDED)
                .as("a rollback from parity that ends in DRIFT must not be SUCCEEDED: " + rollback.outcome() + ": "
                        + rollback.reason() + " [" + rollback.parity().reason() + "]")
                .isFalse();
    }

    /**
     * A manual rollback killed right after ECS was switched back to 1.0.0 (records moved, service updated, rollout not
     * followed), and 1.0.0 can no longer be pulled on ECS. Run again, the rollback leaves legacy "already there"
     * without following its rollout, so the reason names no pull failure on legacy; the README says a rollback is
     * followed to completion.
     */
    @Test
    void aRollbackRunAgainFollowsTheRolloutOfASideItFindsAlreadySwitched() {
        assertThat(deploy(NEXT, new ToggleSpec(true, true)).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        env.ecs().breakImage(GOOD.digest(), EcsSimulator.Breakage.PULL);
        target(Side.LEGACY).rollback(); // then the kill: the rollout is never followed

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(rollback.outcome()).as(rollback.reason()).isEqualTo(StageOutcome.ROLLBACK_FAILED);
        assertThat(rollback.reason()).as("the reason names legacy's failed rollout").contains("legacy")
                .containsAnyOf("CannotPullContainerError", "circuit breaker");
        assertThat(rollback.reason()).doesNotContain("last good records disagree");
    }

    /**
     * A rollback one release back whose ECS untag (after the record moved) fails, as a kill between the two calls
     * would leave it: legacy records 1.0.0 as both its last good release and the one before it. The rollback is run
     * again (both reach 1.0.0), and then once more, to go one further back. Nothing is recorded before 1.0.0 any more;
     * the third rollback must be refused as any rollback from the oldest record is (ROLLBACK_FAILED), not report
     * "rolled back legacy" with exit 0 when nothing changed.
     */
    @Test
    void aRollbackAfterAnInterruptedUntagDoesNotReportAChangeItDidNotMake() {
        assertThat(deploy(NEXT, new ToggleSpec(true, true)).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        env.ecs().throttle("UntagResource", 1_000); // the kill: ECS's record moved, the untag and the switch never came
        StageResult interrupted = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));
        assertThat(interrupted.outcome()).as(interrupted.reason()).isEqualTo(StageOutcome.ROLLBACK_FAILED);
        env.ecs().throttle("UntagResource", 0);
        StageResult again = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));
        assertThat(again.outcome()).as(again.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());

        StageResult further = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
        assertThat(further.outcome()).as("nothing was rolled back: " + further.reason()).isEqualTo(StageOutcome.ROLLBACK_FAILED);
        assertThat(further.reason()).contains("no good release before it is recorded");
    }

    /**
     * Someone deleted the Deployment (no manifests are configured to create it). A deploy of both sides changes legacy,
     * fails on kubernetes, returns legacy and reports ROLLED_BACK (exit 1: "every enabled side is back on its last good
     * release, as read back") although the read-back shows kubernetes absent and the stage in DRIFT. A side that is
     * gone needs a person (exit 4); better, it is found before legacy is changed at all.
     */
    @Test
    void aDeployToAStageWhoseDeploymentWasDeletedIsNotReportedRolledBack() {
        KubernetesSpec kubernetes = stage().kubernetes().orElseThrow();
        env.kubernetes().client().apps().deployments().inNamespace(kubernetes.namespace()).withName(kubernetes.deployment()).delete();

        StageResult report;
        try {
            report = deploy(NEXT, new ToggleSpec(true, true));
        } catch (TargetException refused) {
            report = null; // refused before any side changed: exit 4, which is what is asked
        }

        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        if (report != null) {
            assertThat(report.outcome()).as(report.reason() + " [" + report.parity().reason() + "]").isNotEqualTo(StageOutcome.ROLLED_BACK);
            assertThat(ExitCodes.of(report.outcome())).isEqualTo(4);
        }
    }

    /**
     * The tired operator's reflex: a canary promotion was killed after legacy (the canary) got the release, and the
     * operator runs {@code dualdeploy rollback --stage prod} (both sides). The README: "a rollback after a failed or
     * interrupted one returns to the last good release". Legacy returns to 1.0.0; kubernetes, which the killed run
     * never touched and which runs the last good release, is taken one further back to 0.9.0, and because the sides
     * "already differed" the split stage is reported SUCCEEDED (exit 0).
     */
    @Test
    void aRollbackAfterAKilledCanaryReturnsTheStageToItsLastGoodReleaseNotPastIt() {
        RolloutResult canary = target(Side.LEGACY).deploy(NEXT).await(Duration.ofSeconds(30)); // then the kill
        assertThat(canary.succeeded()).as(canary.reason()).isTrue();

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).as("kubernetes, untouched, must not be taken past the last good release: "
                + rollback.outcome() + ": " + rollback.reason()).contains(GOOD.digest());
        assertThat(rollback.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);
    }

    /**
     * The same without a kill: a canary gate that cannot read its metrics with on_error pause leaves legacy on the
     * release, and the PAUSED reason tells the person to run "dualdeploy rollback". Doing exactly that takes kubernetes,
     * which the promotion never changed, one release past the last good one, and reports SUCCEEDED.
     */
    @Test
    void theRollbackAPausedCanaryAsksForReturnsTheStageToItsLastGoodReleaseNotPastIt() {
        MetricsProvider down = (query, window) -> Measurement.failed(query, "metrics unreachable");
        StageResult paused = promotion(down).run(gated(GateSpec.OnError.PAUSE), NEXT, new ToggleSpec(true, true), true, true);
        assertThat(paused.outcome()).as(paused.reason()).isEqualTo(StageOutcome.PAUSED);
        assertThat(paused.reason()).contains("rolls back (dualdeploy rollback)");

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).as("kubernetes, never changed, must stay on the last good release: "
                + rollback.outcome() + ": " + rollback.reason()).contains(GOOD.digest());
    }

    /**
     * A manual rollback killed after ECS's record moved (both sides still run 1.2.0; legacy records 1.0.0), and the
     * next deploy cannot complete the record because ECS refuses TagResource (throttled, or a role without
     * ecs:TagResource). LastGood logs that and the deploy goes ahead anyway; a failure then returns each side to its
     * own record and splits the stage (legacy 1.0.0, kubernetes 1.2.0). Knowing the records disagree and could not be
     * settled, the deploy should change nothing (exit 4, both sides still on 1.2.0).
     */
    @Test
    void aDeployThatCannotSettleDisagreeingRecordsChangesNothing() {
        Release crashes = LocalEnvironment.sampleRelease("1.1.0");
        env.kubernetes().breakImage(crashes.digest(), KubernetesSimulator.Breakage.CRASH);
        assertThat(deploy(NEXT, new ToggleSpec(true, true)).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        env.ecs().throttle("UpdateService", 1_000); // the kill: ECS's record moved, the service was never switched
        try {
            target(Side.LEGACY).rollback();
        } catch (TargetException expected) {
            // as a kill
        }
        env.ecs().throttle("UpdateService", 0);
        env.ecs().throttle("TagResource", 1_000);

        StageResult report;
        try {
            report = deploy(crashes, new ToggleSpec(true, true));
        } catch (TargetException refused) {
            report = null; // refusing before any change (exit 4) is what is asked
        }

        assertThat(runs(Side.LEGACY)).as(report == null ? "refused" : report.outcome() + ": " + report.reason()).contains(NEXT.digest());
        assertThat(runs(Side.KUBERNETES)).contains(NEXT.digest());
    }

    /**
     * A rollback of both sides when kubernetes cannot be rolled back at all (its Deployment was deleted, so it has no
     * record, which the read before the rollback shows): legacy is still taken one release back, and the stage ends
     * split. What each side can do is known before anything changes; a rollback that cannot be made on every side it
     * was asked for should change nothing and say why.
     */
    @Test
    void aRollbackOfBothSidesWhenOneCannotMoveChangesNothing() {
        KubernetesSpec kubernetes = stage().kubernetes().orElseThrow();
        env.kubernetes().client().apps().deployments().inNamespace(kubernetes.namespace()).withName(kubernetes.deployment()).delete();

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(rollback.outcome()).isEqualTo(StageOutcome.ROLLBACK_FAILED);
        assertThat(runs(Side.LEGACY)).as("legacy must not move when kubernetes cannot: " + rollback.reason()).contains(GOOD.digest());
    }

    /** Both sides run 1.2.0 and record it; legacy records 1.0.0 before it, kubernetes 1.1.1. */
    private void recordDifferentEarlierReleases() {
        Release between = LocalEnvironment.sampleRelease("1.1.1");
        assertThat(deploy(NEXT, new ToggleSpec(true, true)).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(deploy(between, new ToggleSpec(false, true)).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(deploy(NEXT, new ToggleSpec(false, true)).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(target(Side.KUBERNETES).current().previousGoodImage()).contains(between.image());
        assertThat(target(Side.LEGACY).current().previousGoodImage()).contains(GOOD.image());
    }

    /** A canary gate on an error-rate SLO that fails on the first bad window. */
    private StageSpec gated(GateSpec.OnError onError) {
        StageSpec stage = stage();
        GateSpec gate = new GateSpec(Optional.of(Side.LEGACY), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(20),
                List.of(new CheckSpec.Slo("error_rate", 0.02, 1)),
                Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")),
                        Optional.empty(), Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                        Map.of("error_rate", "error_rate{side=\"{{side}}\"}"))),
                100, 1, onError, GateSpec.OnInconclusive.FAIL);
        return new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(), gate, stage.approval());
    }

    private static MetricsProvider errorsOn(Side bad) {
        return (query, window) -> Measurement.of(query, List.of(query.side().equals(bad.label()) ? 0.10 : 0.005));
    }

}
