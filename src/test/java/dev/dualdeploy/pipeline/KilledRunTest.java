package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.GateSpec;
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
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.testing.LocalStageTest;
import dev.dualdeploy.time.SteppedClock;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 1: a re-run after an interrupted deploy must return every enabled side that does not run the stage's
 * last good release to it, whichever run put it there. Each test leaves the platforms exactly as a run killed at a
 * chosen point would (a side's change written but not followed, or one side's rollback done and the other's not),
 * then runs the engine again, and asserts the digest that runs on each side afterwards, the outcome, the parity and
 * the reason. Each test has its own local environment, so no test depends on another's leftovers.
 */
class KilledRunTest extends LocalStageTest {

    private static final Release CRASHES_ON_KUBERNETES = LocalEnvironment.sampleRelease("1.1.0");
    private static final Release UNPULLABLE_ON_ECS = LocalEnvironment.sampleRelease("1.1.1");

    @BeforeEach
    void breakReleases() {
        env.kubernetes().breakImage(CRASHES_ON_KUBERNETES.digest(), KubernetesSimulator.Breakage.CRASH);
        env.ecs().breakImage(UNPULLABLE_ON_ECS.digest(), EcsSimulator.Breakage.PULL);
    }

    private StageResult deploy(Release release) {
        return deploy(release, BOTH);
    }

    private void assertBackOnGood(StageResult report) {
        assertThat(runs(Side.LEGACY)).as("legacy runs the last good release").contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).as("kubernetes runs the last good release").contains(GOOD.digest());
        assertThat(report.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);
        assertThat(report.sides()).allSatisfy(s -> assertThat(s.after().digest()).as(s.side().label()).contains(GOOD.digest()));
    }

    /**
     * Found by the hostile review: a run killed while marking a release good on one side and not the other leaves the
     * sides' last good records disagreeing, and recovery put each side on its own record (the stage in DRIFT). The
     * stage has one last good release: the next run completes the interrupted record before it changes anything, so
     * a failure returns both sides to the release that passed, and a rollback takes both one good release back.
     */
    @Test
    void killedBetweenMarkingTheTwoSidesGoodTheNextRunCompletesTheRecordAndRecoversToOneRelease() {
        Release next = LocalEnvironment.sampleRelease("1.2.0");
        for (Side side : Side.values()) {
            RolloutResult result = target(side).deploy(next).await(Duration.ofMinutes(1));
            assertThat(result.succeeded()).as(result.reason()).isTrue();
        }
        target(Side.LEGACY).markGood(next, Set.of(Side.LEGACY, Side.KUBERNETES)); // the killed run: kubernetes was never marked

        StageResult failed = deploy(CRASHES_ON_KUBERNETES);

        assertThat(events).anyMatch(e -> e.contains("legacy records it as the last good release, having passed on legacy + kubernetes,"
                + " but kubernetes does not"));
        assertThat(runs(Side.LEGACY)).contains(next.digest());
        assertThat(runs(Side.KUBERNETES)).contains(next.digest());
        assertThat(failed.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);
        assertThat(failed.outcome()).as(failed.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(failed.reason()).endsWith("; rolled back legacy + kubernetes to the last good release");

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertBackOnGood(rollback);
        assertThat(rollback.outcome()).as(rollback.reason()).isEqualTo(StageOutcome.SUCCEEDED);
    }

    /**
     * Found by the hostile review: a manual rollback one release back moves ECS's record before it switches the
     * service (so a kill in between never sends a later rollback forward again); killed right there, legacy records
     * the older release while both sides still run the newer one. The next run settles the records from what runs:
     * a failure returns both sides to the release they ran, and the rollback, run again, takes both back.
     */
    @Test
    void killedManualRollbackAfterLegacysRecordMovedAndBeforeItSwitchedLeavesOneLastGoodRelease() {
        Release newer = LocalEnvironment.sampleRelease("1.2.0");
        assertThat(deploy(newer).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        env.ecs().throttle("UpdateService", 1_000); // the kill: ECS's record moved, the service was never switched
        assertThatThrownBy(() -> target(Side.LEGACY).rollback()).isInstanceOf(TargetException.class);
        env.ecs().throttle("UpdateService", 0);
        assertThat(target(Side.LEGACY).current().lastGoodImage()).contains(GOOD.image());
        assertThat(runs(Side.LEGACY)).contains(newer.digest());

        StageResult failed = deploy(CRASHES_ON_KUBERNETES);

        assertThat(runs(Side.LEGACY)).contains(newer.digest());
        assertThat(runs(Side.KUBERNETES)).contains(newer.digest());
        assertThat(failed.outcome()).as(failed.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(failed.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertBackOnGood(rollback);
        assertThat(rollback.outcome()).as(rollback.reason()).isEqualTo(StageOutcome.SUCCEEDED);
    }

    /**
     * A manual rollback killed after legacy had switched back and before kubernetes began: legacy runs the older
     * release with nothing recorded before it. Run again, the rollback takes kubernetes back and leaves legacy, which
     * already runs where kubernetes goes, instead of failing on it.
     */
    @Test
    void aManualRollbackRunAgainAfterOneSideSwitchedTakesTheOtherSideToTheSameRelease() {
        Release newer = LocalEnvironment.sampleRelease("1.2.0");
        assertThat(deploy(newer).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(target(Side.LEGACY).rollback().await(Duration.ofSeconds(30)).succeeded()).isTrue(); // then the kill

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertBackOnGood(rollback);
        assertThat(rollback.outcome()).as(rollback.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(rollback.reason()).startsWith("rolled back kubernetes to 1.0.0 (").endsWith(" (legacy already ran it)");
    }

    /**
     * Sides deployed one at a time (a toggle) run different releases on purpose: kubernetes got 1.2.0 alone. A rollback
     * of both undoes the stage's last release: kubernetes goes back to 1.0.0, which legacy runs and keeps (one good
     * release further back on legacy would split the stage again).
     */
    @Test
    void aRollbackOfSidesDeployedOneAtATimeTakesThemToOneRelease() {
        Release newer = LocalEnvironment.sampleRelease("1.2.0");
        StageResult kubernetesOnly = new Rollouts(targets, sink).run(stage(), newer, new ToggleSpec(false, true), true);
        assertThat(kubernetesOnly.outcome()).as(kubernetesOnly.reason()).isEqualTo(StageOutcome.SUCCEEDED);

        StageResult rollback = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY, Side.KUBERNETES));

        assertBackOnGood(rollback);
        assertThat(rollback.outcome()).as(rollback.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(rollback.reason()).startsWith("rolled back kubernetes to 1.0.0 (").endsWith(" (legacy already ran it)");
    }

    @Test
    void killedRightAfterKubernetesWasSetToACrashingReleaseTheRerunReturnsItToTheLastGoodRelease() {
        // The killed run: "[prod/kubernetes] set app to …" was written, then the CLI died (nothing followed it).
        target(Side.KUBERNETES).deploy(CRASHES_ON_KUBERNETES);

        StageResult rerun = deploy(CRASHES_ON_KUBERNETES);

        assertBackOnGood(rerun);
        assertThat(rerun.outcome()).as(rerun.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(rerun.reason()).startsWith("kubernetes FAILED: ").contains("CrashLoopBackOff")
                .endsWith("; rolled back legacy + kubernetes to the last good release");
    }

    @Test
    void killedBetweenTheTwoSidesRollbacksTheRerunReturnsTheOtherSideToo() {
        // The killed run: both sides got the release, kubernetes crashed, its rollback completed, and the CLI died
        // before legacy's rollback started: ECS still runs the failed release.
        RolloutResult legacy = target(Side.LEGACY).deploy(CRASHES_ON_KUBERNETES).await(Duration.ofSeconds(30));
        assertThat(legacy.succeeded()).as(legacy.reason()).isTrue();
        DeployTarget kubernetes = target(Side.KUBERNETES);
        assertThat(kubernetes.deploy(CRASHES_ON_KUBERNETES).await(Duration.ofSeconds(30)).succeeded()).isFalse();
        assertThat(kubernetes.rollback().await(Duration.ofSeconds(30)).succeeded()).isTrue();
        assertThat(runs(Side.LEGACY)).contains(CRASHES_ON_KUBERNETES.digest());

        StageResult rerun = deploy(CRASHES_ON_KUBERNETES);

        assertBackOnGood(rerun);
        assertThat(rerun.outcome()).as(rerun.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(rerun.reason()).startsWith("kubernetes FAILED: ").contains("CrashLoopBackOff")
                .endsWith("; rolled back legacy + kubernetes to the last good release");
    }

    @Test
    void killedAfterEcsSwitchedToAnUnpullableImageTheRerunReturnsBothSides() {
        // The killed run: both sides were switched to the release and nothing was followed; ECS cannot pull it.
        target(Side.KUBERNETES).deploy(UNPULLABLE_ON_ECS);
        target(Side.LEGACY).deploy(UNPULLABLE_ON_ECS);

        StageResult rerun = deploy(UNPULLABLE_ON_ECS);

        assertBackOnGood(rerun);
        assertThat(rerun.outcome()).as(rerun.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        // Whether the task's CannotPullContainerError or the circuit breaker it trips is seen first depends on timing.
        assertThat(rerun.reason()).startsWith("legacy FAILED: ").containsAnyOf("CannotPullContainerError", "circuit breaker")
                .endsWith("; rolled back legacy + kubernetes to the last good release")
                .doesNotContain("no side changed");
    }

    @Test
    void aFixReleaseAfterAKilledRunRollsBackToTheLastGoodReleaseNotTheFailedOne() {
        target(Side.KUBERNETES).deploy(CRASHES_ON_KUBERNETES);
        Release fix = LocalEnvironment.sampleRelease("1.1.2");
        env.ecs().breakImage(fix.digest(), EcsSimulator.Breakage.CRASH);

        StageResult report = deploy(fix);

        assertBackOnGood(report);
        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(report.reason()).startsWith("legacy FAILED: ").contains("EssentialContainerExited")
                .endsWith("; rolled back legacy + kubernetes to the last good release");
    }

    @Test
    void aManualRollbackAfterARecoveredFailureGoesOneGoodReleaseBack() {
        Release newer = LocalEnvironment.sampleRelease("2.0.0");
        assertThat(deploy(newer).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(deploy(CRASHES_ON_KUBERNETES).outcome()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(runs(Side.KUBERNETES)).contains(newer.digest());

        StageResult back = new Rollback(targets, sink).run(stage(), List.of(Side.values()));

        assertBackOnGood(back);
        assertThat(back.outcome()).as(back.reason()).isEqualTo(StageOutcome.SUCCEEDED);
    }

    @Test
    void aFailedCanaryAfterAKilledRunAlsoReturnsTheOtherSideItLeftOnTheFailedRelease() {
        Release release = LocalEnvironment.sampleRelease("1.2.0");
        // The killed run got as far as kubernetes (not the canary here): it runs the release, never judged.
        assertThat(target(Side.KUBERNETES).deploy(release).await(Duration.ofSeconds(30)).succeeded()).isTrue();

        StageResult report = canaryDeploy(Side.LEGACY).run(gated(Side.LEGACY), release, new ToggleSpec(true, true), true, true);

        assertBackOnGood(report);
        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(report.reason()).startsWith("gate canary FAIL: slo error_rate [legacy]")
                .endsWith("; rolled back legacy + kubernetes to the last good release");
    }

    /** The stage with a canary gate on an error-rate SLO that fails on the first bad window. */
    private StageSpec gated(Side canary) {
        StageSpec stage = stage();
        GateSpec gate = new GateSpec(Optional.of(canary), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(20),
                List.of(new CheckSpec.Slo("error_rate", 0.02, 1)),
                Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")),
                        Optional.empty(), Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                        Map.of("error_rate", "error_rate{side=\"{{side}}\"}"))),
                100, 2, GateSpec.OnError.FAIL, GateSpec.OnInconclusive.FAIL);
        return new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(), gate, stage.approval());
    }

    /** A promotion whose gate sees 10% errors on the bad side; the gate's time is stepped, the deploys real. */
    private Deploy canaryDeploy(Side bad) {
        MetricsProvider provider = (query, window) -> Measurement.of(query, List.of(query.side().equals(bad.label()) ? 0.10 : 0.005));
        SteppedClock stepped = new SteppedClock(Instant.now());
        return new Deploy(targets, sink, stage -> new Gate(LocalEnvironment.SERVICE, stage.name(), stage.gate(), provider,
                stepped, stepped, sink), Clock.systemUTC());
    }
}
