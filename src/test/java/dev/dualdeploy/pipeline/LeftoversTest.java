package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.MetricsSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.testing.LocalStageTest;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Issue 9 (kill -9): a DIFFERENT release deployed after an interrupted run first returns the sides that run left on a
 * release that never passed to the release it started from (the stage's last good release), and only then deploys;
 * the SAME release is finished where it is. What each side went through is read from what its platform was told to
 * run, not from the engine's words.
 */
class LeftoversTest extends LocalStageTest {

    private static final Release OTHER = LocalEnvironment.sampleRelease("1.1.1");
    private static final Release CRASHES_ON_KUBERNETES = LocalEnvironment.sampleRelease("1.1.0");

    /** The releases the side was told to run, from the moment the test began changing things. */
    private List<String> served(Side side, int from) {
        List<String> all = env.traffic().served(STAGE, side);
        return all.subList(from, all.size());
    }

    @Test
    void aDifferentReleaseAfterARunKilledMidRolloutFirstReturnsTheSideItLeftToTheLastGoodRelease() {
        int k = env.traffic().served(STAGE, Side.KUBERNETES).size();
        int l = env.traffic().served(STAGE, Side.LEGACY).size();
        // The killed run: kubernetes was set to 1.2.0 and followed to the end, then the CLI died before legacy changed.
        RolloutResult half = target(Side.KUBERNETES).deploy(NEXT).await(Duration.ofSeconds(30));
        assertThat(half.succeeded()).as(half.reason()).isTrue();

        StageResult report = deploy(OTHER, BOTH);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(runs(Side.LEGACY)).contains(OTHER.digest());
        assertThat(runs(Side.KUBERNETES)).contains(OTHER.digest());
        assertThat(served(Side.KUBERNETES, k)).containsExactly(NEXT.digest(), GOOD.digest(), OTHER.digest());
        assertThat(served(Side.LEGACY, l)).containsExactly(OTHER.digest());
        assertThat(events).anyMatch(e -> e.equals("[prod] kubernetes runs 1.2.0, which never passed here (left by an interrupted"
                + " or failed run): returning kubernetes to the last good release before deploying 1.1.1"));
    }

    @Test
    void theSameReleaseAfterAKilledRunIsFinishedWhereItIsNotUndone() {
        int k = env.traffic().served(STAGE, Side.KUBERNETES).size();
        assertThat(target(Side.KUBERNETES).deploy(NEXT).await(Duration.ofSeconds(30)).succeeded()).isTrue();

        StageResult report = deploy(NEXT, BOTH);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(served(Side.KUBERNETES, k)).containsExactly(NEXT.digest());
        assertThat(events).noneMatch(e -> e.contains("never passed here"));
    }

    @Test
    void aGatedDeployOfAnotherReleaseAfterAKilledRollbackReturnsTheFailedSideBeforeItsBaselineIsTaken() {
        env.kubernetes().breakImage(CRASHES_ON_KUBERNETES.digest(), KubernetesSimulator.Breakage.CRASH);
        int k = env.traffic().served(STAGE, Side.KUBERNETES).size();
        // The killed run: kubernetes got the crashing release, it failed, and the CLI died before its rollback began.
        assertThat(target(Side.KUBERNETES).deploy(CRASHES_ON_KUBERNETES).await(Duration.ofSeconds(30)).succeeded()).isFalse();

        StageResult report = promotion((query, window) -> Measurement.of(query, List.of(0.001))).run(gated(), OTHER, BOTH, true, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(served(Side.KUBERNETES, k)).containsExactly(CRASHES_ON_KUBERNETES.digest(), GOOD.digest(), OTHER.digest());
        assertThat(runs(Side.LEGACY)).contains(OTHER.digest());
        assertThat(runs(Side.KUBERNETES)).contains(OTHER.digest());
        assertThat(report.gates()).singleElement().satisfies(g -> assertThat(g.decision()).isEqualTo(GateResult.Decision.PASS));
    }

    /**
     * Review (kill -9, HIGH): a run killed while kubernetes crashed on a release, then the same release again with
     * kubernetes toggled off, recorded it good on legacy and exited 0 with kubernetes left crashing on it. A side
     * toggled off that runs a release that never passed there is named, and nothing is deployed until a person
     * returns it (or toggles it on, so that the deploy returns it).
     */
    @Test
    void aToggledOffSideLeftOnAReleaseThatNeverPassedStopsTheDeployBeforeAnythingChanges() {
        env.kubernetes().breakImage(CRASHES_ON_KUBERNETES.digest(), KubernetesSimulator.Breakage.CRASH);
        assertThat(target(Side.KUBERNETES).deploy(CRASHES_ON_KUBERNETES).await(Duration.ofSeconds(30)).succeeded()).isFalse();
        int l = env.traffic().served(STAGE, Side.LEGACY).size();

        for (Release release : List.of(CRASHES_ON_KUBERNETES, OTHER)) {
            assertThatThrownBy(() -> promotion((query, window) -> Measurement.of(query, List.of(0.001)))
                    .run(gated(), release, new ToggleSpec(true, false), true, true))
                    .isInstanceOf(TargetException.class)
                    .hasMessage("stage prod: kubernetes is toggled off but runs 1.1.0, which never passed here (left by an"
                            + " interrupted or failed run); " + release.version() + " was not deployed: return it first with"
                            + " 'dualdeploy rollback --stage prod --side kubernetes', or deploy with kubernetes toggled on"
                            + " (the deploy returns it first)");
        }

        assertThat(served(Side.LEGACY, l)).as("legacy was not touched").isEmpty();
        assertThat(runs(Side.KUBERNETES)).contains(CRASHES_ON_KUBERNETES.digest());
    }

    @Test
    void aToggledOffSideOnItsLastGoodReleaseDoesNotStopTheDeploy() {
        StageResult report = promotion((query, window) -> Measurement.of(query, List.of(0.001)))
                .run(gated(), NEXT, new ToggleSpec(true, false), true, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(runs(Side.LEGACY)).contains(NEXT.digest());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
    }

    /** The stage with a gate on an error-rate SLO. */
    private StageSpec gated() {
        StageSpec stage = stage();
        GateSpec gate = new GateSpec(Optional.empty(), Duration.ofSeconds(20), Duration.ofSeconds(10), Duration.ofSeconds(20),
                List.of(new CheckSpec.Slo("error_rate", 0.02, 1)),
                Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")),
                        Optional.empty(), Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                        Map.of("error_rate", "error_rate{side=\"{{side}}\"}"))),
                100, 2, GateSpec.OnError.FAIL, GateSpec.OnInconclusive.FAIL);
        return new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(), gate, stage.approval());
    }
}
