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
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.testing.LocalStageTest;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 items 1 and 16, second hostile review of {@link Rollback}, {@link LastGood}, {@link Recovery} and
 * {@link dev.dualdeploy.targets.Unanswered}: what a tired operator and a hostile platform do after the first review's
 * cases pass. Each test sets the platforms up as ordinary commands (or a killed run, or a throttling platform) would, and asserts what runs
 * on each side afterwards and what the person is told.
 */
class RollbackHostileReviewTest extends LocalStageTest {

    /**
     * A killed run left legacy on 1.2.0, unjudged (last good 1.0.0, the one before it 0.9.0). Recovery or a rollback
     * then calls the ECS target's rollback, and ECS throttles DescribeTaskDefinition for a moment (it does, per
     * account, exactly when an incident makes everyone describe things; the SDK's one retry is used up). EcsTarget's
     * imageOf takes any failure to describe a task definition for "no image", so the last good release and the running
     * one both read as "nothing", which are equal: the target decides it runs its last good release and goes one
     * further back. It moves its records to 0.9.0 (1.0.0 is forgotten) and switches the service to 0.9.0, past the
     * stage's last good release, although the plan (and the DeployTarget contract) said "return to the last good one".
     */
    @Test
    void anEcsRollbackFromAnUnjudgedReleaseWhoseDescribesAreThrottledDoesNotGoPastTheLastGoodRelease() {
        RolloutResult killed = target(Side.LEGACY).deploy(NEXT).await(Duration.ofSeconds(30)); // then the kill
        assertThat(killed.succeeded()).as(killed.reason()).isTrue();
        assertThat(target(Side.LEGACY).current().lastGoodImage()).contains(GOOD.image());
        int before = env.ecs().calls("DescribeTaskDefinition");
        env.ecs().throttle("DescribeTaskDefinition", 4); // the two describes of the "which release runs" test, each retried once

        String outcome;
        try {
            RolloutResult rollback = target(Side.LEGACY).rollback().await(Duration.ofSeconds(30));
            outcome = rollback.outcome() + ": " + rollback.reason();
        } catch (TargetException refused) {
            outcome = "refused: " + refused.getMessage(); // refusing to guess is acceptable: nothing moved past 1.0.0
        }
        env.ecs().throttle("DescribeTaskDefinition", 0);

        String why = outcome + " (describes: " + (env.ecs().calls("DescribeTaskDefinition") - before) + ")";
        assertThat(runs(Side.LEGACY)).as("legacy must never go past its last good release 1.0.0: " + why)
                .isNotEqualTo(Optional.of(OLDEST.digest()));
        assertThat(target(Side.LEGACY).current().lastGoodImage()).as("the record of 1.0.0 must survive: " + why)
                .contains(GOOD.image());
    }

    /**
     * A canary promotion was killed after legacy got 1.2.0; kubernetes, untouched, runs the last good release 1.0.0.
     * The stage's kubernetes side applies manifests, and the workspace the operator runs the rollback from holds
     * manifests that do not (any longer) contain the Deployment (a renamed file, the branch of the failed release).
     * A rollback never applies manifests, but the "already on it" health check of the staying side goes through
     * DeployTarget#deploy, which reads them first and throws a ConfigException. Rollouts.parallel rethrows it after
     * legacy was rolled back: the CLI prints "bad input" with exit 2 ("nothing changed") and no report, although
     * legacy was changed.
     */
    @Test
    void aRollbackDoesNotReadManifestsToCheckTheHealthOfTheSideThatStays(@TempDir Path manifests) throws Exception {
        Files.writeString(manifests.resolve("configmap.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: { name: app-settings, namespace: prod }
                data: { level: info }
                """);
        StageSpec plain = stage();
        KubernetesSpec k = plain.kubernetes().orElseThrow();
        StageSpec withManifests = new StageSpec(plain.name(), plain.toggle(), plain.legacy(), Optional.of(new KubernetesSpec(
                k.context(), k.namespace(), k.deployment(), k.container(), Optional.of(manifests), k.kubeconfig())),
                plain.timeout(), plain.gate(), plain.approval());
        RolloutResult killed = target(Side.LEGACY).deploy(NEXT).await(Duration.ofSeconds(30)); // the killed canary
        assertThat(killed.succeeded()).as(killed.reason()).isTrue();

        StageResult rollback;
        try {
            rollback = new Rollback(targets, sink).run(withManifests, List.of(Side.LEGACY, Side.KUBERNETES));
        } catch (RuntimeException e) {
            throw new AssertionError("the rollback threw " + e.getClass().getSimpleName() + " (" + e.getMessage()
                    + ") after changing legacy, which now runs " + runs(Side.LEGACY).orElse("nothing")
                    + "; the CLI says exit " + (e instanceof dev.dualdeploy.config.ConfigException ? "2, nothing changed" : "70"), e);
        }

        assertThat(rollback.outcome()).as(rollback.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
    }

    /**
     * The PAUSED reason told the person to "run the gate again (dualdeploy gate) or roll back". They ran the gate; it
     * passed; nothing recorded 1.2.0 as the last good release (gate changes nothing), so the next failure returned both
     * sides to 1.0.0, two releases back, skipping the release the gate passed. The reason now names the way on that
     * records the release: the same deploy again. Following it, the next failure returns to 1.2.0.
     */
    @Test
    void aReleaseWhosePausedGateAPersonRanAgainAndPassedIsWhatTheNextFailureReturnsTo() {
        AtomicBoolean metricsDown = new AtomicBoolean(true);
        MetricsProvider provider = (query, window) -> metricsDown.get() ? Measurement.failed(query, "metrics unreachable")
                : Measurement.of(query, List.of(0.005));
        StageSpec gated = gated(Optional.empty());
        StageResult paused = promotion(provider).run(gated, NEXT, new ToggleSpec(true, true), true, true);
        assertThat(paused.outcome()).as(paused.reason()).isEqualTo(StageOutcome.PAUSED);
        assertThat(paused.reason()).contains("until a person runs the same deploy again").doesNotContain("(dualdeploy gate)");
        metricsDown.set(false);
        // What the reason says: the same deploy again, which keeps the release, judges it and records it.
        StageResult again = promotion(provider).run(gated, NEXT, new ToggleSpec(true, true), true, true);
        assertThat(again.outcome()).as(again.reason()).isEqualTo(StageOutcome.SUCCEEDED);

        Release crashes = LocalEnvironment.sampleRelease("1.1.1");
        env.kubernetes().breakImage(crashes.digest(), KubernetesSimulator.Breakage.CRASH);
        StageResult failed = deploy(crashes, new ToggleSpec(true, true));

        assertThat(failed.outcome()).as(failed.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(runs(Side.KUBERNETES)).as("the release the gate passed, not two back: " + failed.reason()).contains(NEXT.digest());
        assertThat(runs(Side.LEGACY)).as(failed.reason()).contains(NEXT.digest());
    }

    /**
     * 1.2.0 passed on both sides and is recorded on both "having passed on legacy+kubernetes". Then it misbehaves on
     * legacy only and the operator runs {@code rollback --side legacy}: legacy goes back to 1.0.0 and its record moves
     * there. Kubernetes keeps its record, which still claims that 1.2.0 passed on legacy. Later 1.2.0 goes to legacy
     * again and is never judged there (a killed legacy-only deploy, or a paused gate). The next deploy of both sides
     * sees both run 1.2.0 and "completes" legacy's record from kubernetes' stale claim ("a run stopped between
     * recording the sides", which is false), so 1.2.0, rolled back on legacy by a person and never judged there since,
     * becomes legacy's last good release: when the next release fails, legacy is returned to 1.2.0, not to 1.0.0. The
     * first review's fix (records say on which sides they passed) is defeated by a one-side rollback, which leaves the
     * other side's claim about this side in place.
     */
    @Test
    void aReleaseRolledBackOnOneSideIsNotRecordedGoodThereAgainFromTheOtherSidesStaleClaim() {
        assertThat(deploy(NEXT, new ToggleSpec(true, true)).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        StageResult legacyBack = new Rollback(targets, sink).run(stage(), List.of(Side.LEGACY));
        assertThat(legacyBack.outcome()).as(legacyBack.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        RolloutResult unjudged = target(Side.LEGACY).deploy(NEXT).await(Duration.ofSeconds(30)); // killed before its gate
        assertThat(unjudged.succeeded()).as(unjudged.reason()).isTrue();
        Release crashes = LocalEnvironment.sampleRelease("1.1.1");
        env.kubernetes().breakImage(crashes.digest(), KubernetesSimulator.Breakage.CRASH);

        StageResult failed = deploy(crashes, new ToggleSpec(true, true));

        assertThat(runs(Side.LEGACY)).as("legacy's last good release is 1.0.0: 1.2.0 was rolled back there and never judged"
                + " since; " + failed.outcome() + ": " + failed.reason() + "; events: " + events).contains(GOOD.digest());
        assertThat(events).noneMatch(e -> e.contains("a run stopped between recording the sides"));
    }

    /**
     * A tired operator's typo: the stage's kubernetes {@code container:} names no container of the Deployment. Like a
     * missing workload (which requirePresent now refuses before any change), this side cannot be deployed at all, and
     * that is known from the first read (the side reads back with no image). Instead legacy is switched to 1.2.0 and
     * rolled back, and the outcome is ROLLBACK_FAILED: "kubernetes FAILED ...; could not return kubernetes ... to the
     * last good release: needs a person", about a side that was never changed, after two changes to prod for a config
     * typo. It should be refused before any side changes, naming the container key.
     */
    @Test
    void aKubernetesContainerNameThatIsNotInTheDeploymentIsRefusedBeforeLegacyChanges() {
        StageSpec plain = stage();
        KubernetesSpec k = plain.kubernetes().orElseThrow();
        StageSpec typo = new StageSpec(plain.name(), plain.toggle(), plain.legacy(), Optional.of(new KubernetesSpec(
                k.context(), k.namespace(), k.deployment(), "ap", k.manifests(), k.kubeconfig())),
                plain.timeout(), plain.gate(), plain.approval());
        int updates = env.ecs().calls("UpdateService");

        StageResult report;
        try {
            report = new Rollouts(targets, sink).run(typo, NEXT, new ToggleSpec(true, true), true);
        } catch (TargetException refused) {
            report = null; // refused before any change (exit 4): what is asked
        }

        String what = report == null ? "refused" : report.outcome() + " (exit " + ExitCodes.of(report.outcome()) + "): " + report.reason();
        assertThat(env.ecs().calls("UpdateService") - updates).as("legacy must not be changed for a kubernetes config typo: " + what)
                .isZero();
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
    }

    /** The stage with a gate of one error-rate SLO (canary: the side given), metrics read through the provider. */
    private StageSpec gated(Optional<Side> canary) {
        StageSpec stage = stage();
        GateSpec gate = new GateSpec(canary, Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(20),
                List.of(new CheckSpec.Slo("error_rate", 0.02, 1)),
                Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")),
                        Optional.empty(), Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                        Map.of("error_rate", "error_rate{side=\"{{side}}\"}"))),
                100, 1, GateSpec.OnError.PAUSE, GateSpec.OnInconclusive.FAIL);
        return new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(), gate, stage.approval());
    }

}
