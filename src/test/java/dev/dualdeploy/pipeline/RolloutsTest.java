package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.cli.ExitCodes;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.local.EcsSimulator;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.time.Sleeper;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine against the whole local environment: both sides, the toggle, parity and stage-wide rollback. */
class RolloutsTest {

    private static LocalEnvironment env;
    private static DualDeploySpec config;
    private static PlatformTargets targets;

    /** One progress event with the time it was reported. */
    record Event(String stage, Side side, Instant at, String message) {
    }

    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final EventSink sink = EventSink.of(RunIds.next(Clock.systemUTC()), Clock.systemUTC(),
            e -> events.add(new Event(e.stage().orElse(null), e.side().orElse(null), Instant.now(), e.message())));

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

    private static StageSpec stage(String name) {
        return config.stage(name).orElseThrow();
    }

    private Map<Side, TargetState> read(StageSpec stage) {
        Map<Side, TargetState> states = new EnumMap<>(Side.class);
        for (Side side : Side.values()) {
            states.put(side, targets.open(stage, side, m -> { }).current());
        }
        return states;
    }

    private StageResult deploy(String stage, Release release, ToggleSpec toggle) {
        return new Rollouts(targets, sink).run(stage(stage), release, toggle, true);
    }

    @Test
    void everyToggleCombinationTouchesExactlyTheEnabledSides() {
        Map<String, ToggleSpec> combinations = Map.of("sandbox", new ToggleSpec(true, true), "preprod", new ToggleSpec(true, false),
                "beta", new ToggleSpec(false, true), "prod", new ToggleSpec(false, false));
        Release release = LocalEnvironment.sampleRelease("2.0.0");
        for (Map.Entry<String, ToggleSpec> entry : combinations.entrySet()) {
            StageSpec stage = stage(entry.getKey());
            ToggleSpec toggle = entry.getValue();
            Map<Side, TargetState> before = read(stage);

            StageResult report = deploy(entry.getKey(), release, toggle);

            Map<Side, TargetState> after = read(stage);
            for (Side side : Side.values()) {
                String at = entry.getKey() + "/" + side.label();
                if (toggle.on(side)) {
                    assertThat(after.get(side).digest()).as(at).contains(release.digest());
                } else {
                    assertThat(after.get(side).digest()).as(at + " must not be touched").isEqualTo(before.get(side).digest());
                    assertThat(after.get(side).image()).as(at).isEqualTo(before.get(side).image());
                }
            }
            assertThat(report.sides()).extracting(SideResult::side)
                    .containsExactlyElementsOf(List.of(Side.values()).stream().filter(toggle::on).toList());
            if (toggle.legacy() || toggle.kubernetes()) {
                assertThat(report.outcome()).as(entry.getKey()).isEqualTo(StageOutcome.SUCCEEDED);
                assertThat(report.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);
            } else {
                assertThat(report.outcome()).isEqualTo(StageOutcome.SKIPPED);
                assertThat(report.reason()).isEqualTo("no side is enabled");
            }
        }
    }

    @Test
    void theSidesAreDeployedInParallel() {
        Release release = LocalEnvironment.sampleRelease("2.1.0");

        StageResult report = deploy("sandbox", release, new ToggleSpec(true, true));

        assertThat(report.outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        Instant legacyStart = first(Side.LEGACY);
        Instant kubernetesStart = first(Side.KUBERNETES);
        Instant legacyEnd = end(Side.LEGACY);
        Instant kubernetesEnd = end(Side.KUBERNETES);
        assertThat(legacyStart).as("legacy started before kubernetes finished").isBefore(kubernetesEnd);
        assertThat(kubernetesStart).as("kubernetes started before legacy finished").isBefore(legacyEnd);
    }

    @Test
    void sidesRunningDifferentDigestsAreDrift() {
        StageSpec beta = stage("beta");
        deploy("beta", LocalEnvironment.sampleRelease("2.2.0"), new ToggleSpec(true, true));
        Release kubernetesOnly = LocalEnvironment.sampleRelease("2.3.0");

        StageResult report = deploy("beta", kubernetesOnly, new ToggleSpec(false, true));

        assertThat(report.outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        Status.StageStatus status = new Status(targets).read(List.of(beta)).get(0);
        assertThat(status.parity().outcome()).isEqualTo(Parity.Outcome.DRIFT);
        assertThat(status.parity().reason()).isEqualTo("sides differ: legacy "
                + Release.shortDigest(LocalEnvironment.sampleRelease("2.2.0").digest()) + ", kubernetes "
                + Release.shortDigest(kubernetesOnly.digest()));
    }

    @Test
    void aFailureOnOneSideRollsBackBothSides() {
        Release good = LocalEnvironment.sampleRelease("3.0.0");
        Release bad = LocalEnvironment.sampleRelease("3.1.0");
        deployed("preprod", good);
        env.ecs().breakImage(bad.digest(), EcsSimulator.Breakage.CRASH);

        StageResult report = deploy("preprod", bad, new ToggleSpec(true, true));

        assertThat(report.outcome()).isEqualTo(StageOutcome.ROLLED_BACK);
        assertThat(ExitCodes.of(report.outcome())).isEqualTo(1);
        assertThat(report.reason()).startsWith("legacy FAILED: task ").contains("EssentialContainerExited")
                .endsWith("; rolled back legacy + kubernetes to the last good release");
        SideResult kubernetes = side(report, Side.KUBERNETES);
        assertThat(kubernetes.rollout().orElseThrow().outcome()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        assertThat(kubernetes.rollback().orElseThrow().outcome()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        assertThat(side(report, Side.LEGACY).rollback().orElseThrow().outcome()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        assertThat(read(stage("preprod")).values()).allSatisfy(s -> assertThat(s.digest()).contains(good.digest()));
        assertThat(report.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);
    }

    @Test
    void withoutRollbackTheFailedReleaseStaysAndSaysSo() {
        Release good = LocalEnvironment.sampleRelease("4.0.0");
        Release bad = LocalEnvironment.sampleRelease("4.1.0");
        deployed("prod", good);
        env.kubernetes().breakImage(bad.digest(), KubernetesSimulator.Breakage.PULL);

        StageResult report = new Rollouts(targets, sink).run(stage("prod"), bad, new ToggleSpec(true, true), false);

        assertThat(report.outcome()).isEqualTo(StageOutcome.FAILED);
        assertThat(report.reason()).contains("kubernetes FAILED").contains("automatic rollback is off");
        assertThat(report.sides()).allSatisfy(s -> assertThat(s.rollback()).isEmpty());
        assertThat(read(stage("prod")).get(Side.KUBERNETES).image()).contains(bad.image());
        // Put prod back for the other tests.
        assertThat(new Rollback(targets, sink).run(stage("prod"), List.of(Side.values())).outcome()).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(read(stage("prod")).values()).allSatisfy(s -> assertThat(s.digest()).contains(good.digest()));
    }

    @Test
    void aRollbackThatCannotCompleteNeedsAPerson() {
        Release previous = LocalEnvironment.sampleRelease("5.0.0");
        Release bad = LocalEnvironment.sampleRelease("5.1.0");
        deployed("sandbox", previous);
        // The registry lost the previous image too: the rollback's tasks cannot start either.
        env.ecs().breakImage(bad.digest(), EcsSimulator.Breakage.PULL);
        env.ecs().breakImage(previous.digest(), EcsSimulator.Breakage.PULL);

        StageResult report = deploy("sandbox", bad, new ToggleSpec(true, true));

        assertThat(report.outcome()).isEqualTo(StageOutcome.ROLLBACK_FAILED);
        assertThat(ExitCodes.of(report.outcome())).isEqualTo(4);
        assertThat(report.reason()).contains("could not return legacy (rollback FAILED: ").endsWith(") to the last good release: needs a person");
        assertThat(side(report, Side.LEGACY).rollback().orElseThrow().outcome()).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(side(report, Side.KUBERNETES).after().digest()).contains(previous.digest());
    }

    private void deployed(String stage, Release release) {
        StageResult report = deploy(stage, release, new ToggleSpec(true, true));
        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.SUCCEEDED);
    }

    private static SideResult side(StageResult report, Side side) {
        return report.sides().stream().filter(s -> s.side() == side).findFirst().orElseThrow();
    }

    private Instant first(Side side) {
        return events.stream().filter(e -> e.side() == side).map(Event::at).min(Instant::compareTo).orElseThrow();
    }

    private Instant end(Side side) {
        return events.stream().filter(e -> e.side() == side && e.message().startsWith("SUCCEEDED")).map(Event::at)
                .findFirst().orElseThrow();
    }
}
