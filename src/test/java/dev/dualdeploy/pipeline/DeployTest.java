package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.MetricsSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.testing.ProgressRecorder;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.time.SteppedClock;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deploy → verify → gate → rollback against the whole local environment, both sides: a gate FAIL returns every
 * side that got the release, and a failed canary is rolled back alone while the other side is never touched. The
 * metrics are scripted per side (the provider's own wire is tested against a real Prometheus and the CloudWatch
 * simulator); what is under test here is what the engine does with the verdict.
 */
class DeployTest {

    private static LocalEnvironment env;
    private static DualDeploySpec config;
    private static PlatformTargets targets;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final EventSink sink = ProgressRecorder.lines(events);

    @BeforeAll
    static void start(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, LocalEnvironment.sampleRelease("0.9.0"), 2);
        config = new ConfigLoader().load(env.config());
        targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM);
    }

    @AfterAll
    static void stop() {
        targets.close();
        env.close();
    }

    /** The stage with a gate: canary or not, an error-rate SLO of 2% that fails on the first bad window. */
    private static StageSpec gated(String name, Optional<Side> canary) {
        StageSpec stage = config.stage(name).orElseThrow();
        GateSpec gate = new GateSpec(canary, Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(20),
                List.of(new CheckSpec.Slo("error_rate", 0.02, 1)),
                Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")),
                        Optional.empty(), Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                        Map.of("error_rate", "error_rate{side=\"{{side}}\"}"))),
                100, 2, GateSpec.OnError.FAIL, GateSpec.OnInconclusive.FAIL);
        return new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(), gate, stage.approval());
    }

    /** Error rates as a side serves them: 10% on a bad side, 0.5% elsewhere. */
    private static MetricsProvider errorRates(Side bad) {
        return (query, window) -> Measurement.of(query, List.of(query.side().equals(bad == null ? "" : bad.label()) ? 0.10 : 0.005));
    }

    private Deploy promotion(MetricsProvider provider) {
        // The gate's time is stepped (a soak takes no wall time); the deploys run in real time.
        SteppedClock stepped = new SteppedClock(Instant.now());
        return new Deploy(targets, sink, stage -> new Gate(LocalEnvironment.SERVICE, stage.name(), stage.gate(), provider,
                stepped, stepped, sink), Clock.systemUTC());
    }

    private static Map<Side, TargetState> read(StageSpec stage) {
        Map<Side, TargetState> states = new EnumMap<>(Side.class);
        for (Side side : Side.values()) {
            states.put(side, targets.open(stage, side, m -> { }).current());
        }
        return states;
    }

    @Test
    void aFailedGateRollsBackBothSides() {
        StageSpec stage = gated("sandbox", Optional.empty());
        Map<Side, TargetState> before = read(stage);
        Release release = LocalEnvironment.sampleRelease("1.2.0");

        StageResult report = promotion(errorRates(Side.KUBERNETES)).run(stage, release, new ToggleSpec(true, true), true, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(report.reason()).startsWith("gate FAIL: slo error_rate [kubernetes]: kubernetes error_rate 10.0% is above the limit")
                .endsWith("rolled back legacy + kubernetes to the last good release");
        assertThat(report.gates()).singleElement().satisfies(g -> {
            assertThat(g.phase()).isEqualTo("gate");
            assertThat(g.judged()).containsExactly(Side.LEGACY, Side.KUBERNETES);
            assertThat(g.windows()).isEqualTo(1);
        });
        assertThat(report.sides()).allSatisfy(s -> {
            assertThat(s.rollout().orElseThrow().succeeded()).isTrue();
            assertThat(s.rollback().orElseThrow().succeeded()).isTrue();
        });
        Map<Side, TargetState> after = read(stage);
        for (Side side : Side.values()) {
            assertThat(after.get(side).digest()).as(side.label()).isEqualTo(before.get(side).digest());
            assertThat(after.get(side).version()).as(side.label()).isEqualTo(before.get(side).version());
        }
        assertThat(report.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);
    }

    @Test
    void aFailedCanaryIsRolledBackAloneAndTheOtherSideIsNeverTouched() {
        StageSpec stage = gated("preprod", Optional.of(Side.KUBERNETES));
        Map<Side, TargetState> before = read(stage);
        int updates = env.ecs().calls("UpdateService");
        int registrations = env.ecs().calls("RegisterTaskDefinition");
        int tagging = env.ecs().calls("TagResource") + env.ecs().calls("UntagResource");

        StageResult report = promotion(errorRates(Side.KUBERNETES)).run(stage, LocalEnvironment.sampleRelease("1.3.0"),
                new ToggleSpec(true, true), true, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(report.reason()).startsWith("gate canary FAIL: slo error_rate [kubernetes]")
                .endsWith("rolled back kubernetes to the last good release; legacy was never changed");
        assertThat(report.gates()).extracting(GateResult::phase).containsExactly("canary");
        assertThat(report.sides()).extracting(SideResult::side).containsExactly(Side.KUBERNETES);
        assertThat(env.ecs().calls("UpdateService")).as("no ECS deploy or rollback").isEqualTo(updates);
        assertThat(env.ecs().calls("RegisterTaskDefinition")).isEqualTo(registrations);
        // Issue 8 item 1: failure recovery reads the other side, on its last good release, and writes nothing to it.
        assertThat(env.ecs().calls("TagResource") + env.ecs().calls("UntagResource")).as("no record written to ECS").isEqualTo(tagging);
        Map<Side, TargetState> after = read(stage);
        assertThat(after.get(Side.LEGACY)).isEqualTo(before.get(Side.LEGACY));
        assertThat(after.get(Side.KUBERNETES).digest()).isEqualTo(before.get(Side.KUBERNETES).digest());
    }

    @Test
    void aGoodCanaryIsFollowedByTheOtherSideAndAShortGateOverBoth() {
        StageSpec stage = gated("beta", Optional.of(Side.KUBERNETES));
        Release release = LocalEnvironment.sampleRelease("1.4.0");

        StageResult report = promotion(errorRates(null)).run(stage, release, new ToggleSpec(true, true), true, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(report.gates()).extracting(GateResult::phase).containsExactly("canary", "follow");
        assertThat(report.gates().get(0).judged()).containsExactly(Side.KUBERNETES);
        assertThat(report.gates().get(1).judged()).containsExactly(Side.LEGACY, Side.KUBERNETES);
        assertThat(report.gates().get(1).plannedWindows()).as("follow_soak 20s of 10s windows").isEqualTo(2);
        assertThat(report.gates()).allSatisfy(g -> assertThat(g.outcome()).isEqualTo(Verdict.Outcome.PASS));
        Map<Side, TargetState> after = read(stage);
        assertThat(after.values()).allSatisfy(s -> assertThat(s.digest()).contains(release.digest()));
        int canaryPassed = indexOf("[beta] gate canary PASS");
        assertThat(indexOf("[beta] deploying 1.4.0")).isLessThan(canaryPassed);
        assertThat(indexOf("[beta/kubernetes] rolling out 1.4.0")).as("the canary goes first").isLessThan(canaryPassed);
        assertThat(indexOf("[beta/legacy] rolling out 1.4.0")).as("the other side follows the canary's pass").isGreaterThan(canaryPassed);
    }

    @Test
    void noGateDeploysWithoutJudging() {
        StageSpec stage = gated("prod", Optional.empty());

        StageResult report = promotion(errorRates(Side.KUBERNETES)).run(stage, LocalEnvironment.sampleRelease("1.5.0"),
                new ToggleSpec(true, true), true, false);

        assertThat(report.outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(report.gates()).isEmpty();
        assertThat(events).contains("[prod] the gate is skipped: --no-gate; the stage is not judged before promotion");
    }

    private int indexOf(String prefix) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
