package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dualdeploy.config.EcsSpec;
import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.ecs.EcsTarget;
import dev.dualdeploy.testing.LocalStageTest;
import dev.dualdeploy.testing.ProgressRecorder;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.time.SteppedClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;

/**
 * Issue 9 ("superseded by …"): two deploys of different releases to one stage at once ended with neither running while
 * one reported success; one side's rollout waited out its timeout without noticing the image had been replaced, and
 * then both sides were rolled back over the other writer's change. Here another writer replaces the release on one side
 * while this run's rollout follows it. That rollout ends at once as FAILED "superseded by …"; the side is left to the
 * other writer (its image still runs there) and the reason says it was not rolled back; the other side, which this
 * run changed, is back on its last good release; the stage is SUPERSEDED, exit 4.
 *
 * <p>The deploy's clock is stepped and never stepped: a rollout that waited for its timeout would wait forever (the
 * test's own timeout fails it), so each side ends by what the platform says, at the injected instant it began. The ECS
 * side polls the real-time simulator with real pauses, as every local-stage test does.
 */
class SupersededTest extends LocalStageTest {

    /** The other writer's release: healthy on both sides, so nothing but the interleaving can fail the deploy. */
    private static final Release THEIRS = LocalEnvironment.sampleRelease("1.1.1");
    private static final Instant START = Instant.parse("2026-12-01T10:00:00Z");

    private final SteppedClock clock = new SteppedClock(START);
    private PlatformTargets stepped;

    @BeforeEach
    void steppedTargets() {
        stepped = new PlatformTargets(clock, Sleeper.SYSTEM);
    }

    @AfterEach
    void closeSteppedTargets() {
        stepped.close();
    }

    /** This run's event sink, which lets the other writer in once, at the first progress line of {@code side} that matches. */
    private EventSink interleaved(Side side, Predicate<String> when, Runnable otherWriter) {
        AtomicBoolean done = new AtomicBoolean();
        return ProgressRecorder.lines(events, e -> {
            if (e.side().equals(Optional.of(side)) && when.test(e.message()) && done.compareAndSet(false, true)) {
                otherWriter.run();
                events.add("[other writer] set " + side.label() + " to " + THEIRS.image());
            }
        });
    }

    /** Another writer's {@code kubectl set image}: the Deployment's container now runs their image. */
    private void kubectlSetImage() {
        KubernetesSpec spec = stage().kubernetes().orElseThrow();
        env.kubernetes().client().apps().deployments().inNamespace(spec.namespace()).withName(spec.deployment()).edit(d -> {
            d.getSpec().getTemplate().getSpec().getContainers().stream().filter(c -> c.getName().equals(spec.container()))
                    .forEach(c -> c.setImage(THEIRS.image()));
            return d;
        });
    }

    /** Another writer's RegisterTaskDefinition and UpdateService, through the real AWS SDK. */
    private void updateServiceElsewhere() {
        EcsSpec spec = (EcsSpec) stage().legacy().orElseThrow();
        try (EcsClient client = EcsTarget.connect(spec)) {
            String registered = client.registerTaskDefinition(r -> r.family(spec.service() + "-hotfix").containerDefinitions(
                    ContainerDefinition.builder().name(spec.container()).image(THEIRS.image()).essential(true).build()))
                    .taskDefinition().taskDefinitionArn();
            client.updateService(r -> r.cluster(spec.cluster()).service(spec.service()).taskDefinition(registered));
        }
    }

    private static boolean rolloutProgress(String message) {
        return message.startsWith("updated ") || message.startsWith("waiting for the deployment controller")
                || message.startsWith("running ");
    }

    private SideResult side(StageResult report, Side side) {
        return report.sides().stream().filter(s -> s.side() == side).findFirst().orElseThrow();
    }

    private TargetState state(Side side) {
        return target(side).current();
    }

    @Test
    @Timeout(90) // before the fix, the kubernetes rollout waited for a timeout the stepped clock never reaches
    void aDeploymentWhoseImageAnotherWriterReplacesIsSupersededAndLeftToThem() {
        long wall = System.nanoTime();
        StageResult report = new Rollouts(stepped, interleaved(Side.KUBERNETES, SupersededTest::rolloutProgress,
                this::kubectlSetImage)).run(stage(), NEXT, BOTH, true);
        Duration took = Duration.ofNanos(System.nanoTime() - wall);

        String what = report.outcome() + ": " + report.reason() + "\n" + String.join("\n", events);
        RolloutResult kubernetes = side(report, Side.KUBERNETES).rollout().orElseThrow();
        assertThat(kubernetes.outcome()).as(what).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(kubernetes.reason()).as(what).startsWith("superseded by " + Release.shortImage(THEIRS.image()) + ": ");
        assertThat(kubernetes.supersededBy()).contains(THEIRS.image());
        assertThat(kubernetes.took()).as("ended by the platform's word, not by the clock").isEqualTo(Duration.ZERO);
        assertThat(report.outcome()).as(what).isEqualTo(StageOutcome.SUPERSEDED);
        assertThat(report.reason()).as(what).contains("rolled back legacy to the last good release")
                .contains("kubernetes was not rolled back: superseded by " + Release.shortImage(THEIRS.image()));
        assertThat(side(report, Side.KUBERNETES).rollback()).as("no rollback over the other writer's change").isEmpty();
        // The other writer's image still runs on kubernetes; legacy, which this run changed, is back on 1.0.0.
        assertThat(state(Side.KUBERNETES).image()).contains(THEIRS.image());
        await().atMost(Duration.ofSeconds(10)).until(() -> state(Side.KUBERNETES).digest().filter(THEIRS.digest()::equals).isPresent());
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(report.parity().outcome()).isEqualTo(Parity.Outcome.DRIFT);
        System.out.println("superseded on kubernetes, stage ended in " + took.toMillis() + " ms wall time (stage timeout "
                + stage().timeout().toSeconds() + "s, never reached by the stepped clock)");
    }

    @Test
    @Timeout(90)
    void anEcsServiceWhoseTaskDefinitionAnotherUpdateServiceReplacesIsSupersededAndLeftToThem() {
        long wall = System.nanoTime();
        StageResult report = new Rollouts(stepped, interleaved(Side.LEGACY, SupersededTest::rolloutProgress,
                this::updateServiceElsewhere)).run(stage(), NEXT, BOTH, true);
        Duration took = Duration.ofNanos(System.nanoTime() - wall);

        String what = report.outcome() + ": " + report.reason() + "\n" + String.join("\n", events);
        RolloutResult legacy = side(report, Side.LEGACY).rollout().orElseThrow();
        assertThat(legacy.outcome()).as(what).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(legacy.reason()).as(what).startsWith("superseded by " + Release.shortImage(THEIRS.image())
                + " (task definition loan-api-hotfix:1, app=" + THEIRS.image() + "): another writer updated the service");
        assertThat(legacy.supersededBy()).contains(THEIRS.image());
        assertThat(legacy.took()).isEqualTo(Duration.ZERO);
        assertThat(report.outcome()).as(what).isEqualTo(StageOutcome.SUPERSEDED);
        assertThat(report.reason()).as(what).contains("rolled back kubernetes to the last good release")
                .contains("legacy was not rolled back: superseded by " + Release.shortImage(THEIRS.image()));
        assertThat(side(report, Side.LEGACY).rollback()).isEmpty();
        assertThat(state(Side.LEGACY).image()).contains(THEIRS.image());
        await().atMost(Duration.ofSeconds(10)).until(() -> state(Side.LEGACY).digest().filter(THEIRS.digest()::equals).isPresent());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
        System.out.println("superseded on ecs, stage ended in " + took.toMillis() + " ms wall time");
    }

    @Test
    @Timeout(90)
    void withoutRollbackASupersededDeployStillNeedsAPerson() {
        StageResult report = new Rollouts(stepped, interleaved(Side.KUBERNETES, SupersededTest::rolloutProgress,
                this::kubectlSetImage)).run(stage(), NEXT, BOTH, false);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.SUPERSEDED);
        assertThat(report.reason()).contains("automatic rollback is off: nothing was rolled back, and kubernetes runs what"
                + " another writer put there");
        assertThat(state(Side.KUBERNETES).image()).contains(THEIRS.image());
        assertThat(runs(Side.LEGACY)).as("rollback is off: legacy keeps this run's release").contains(NEXT.digest());
    }

    /** A hostile other writer: an image of 100 kB that carries a forged log line, an escape sequence and a bidi override. */
    private static final String FORGED = "evil:1\n[prod/kubernetes] rolled back, all is well\u001b[2J\u202e" + "x".repeat(100_000);

    @Test
    @Timeout(90)
    void whatAnotherWriterSetIsQuotedEscapedAndCappedInEveryReasonAndLine() {
        KubernetesSpec spec = stage().kubernetes().orElseThrow();
        StageResult report = new Rollouts(stepped, interleaved(Side.KUBERNETES, SupersededTest::rolloutProgress,
                () -> env.kubernetes().client().apps().deployments().inNamespace(spec.namespace()).withName(spec.deployment())
                        .edit(d -> {
                            d.getSpec().getTemplate().getSpec().getContainers().stream()
                                    .filter(c -> c.getName().equals(spec.container())).forEach(c -> c.setImage(FORGED));
                            return d;
                        }))).run(stage(), NEXT, BOTH, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.SUPERSEDED);
        RolloutResult kubernetes = side(report, Side.KUBERNETES).rollout().orElseThrow();
        for (String text : java.util.List.of(report.reason(), kubernetes.reason(), kubernetes.supersededBy().orElseThrow(),
                String.join("", events))) {
            assertThat(text).as("no raw control or format character").doesNotContain("\n[prod", "\u001b", "\u202e");
            assertThat(text.chars().filter(c -> c < 0x20 || c == 0x202e).count()).isZero();
        }
        assertThat(report.reason()).contains("\\n[prod/kubernetes] rolled back").hasSizeLessThan(4_000);
        assertThat(kubernetes.reason()).hasSizeLessThan(4_000);
        assertThat(events).allSatisfy(line -> assertThat(line).hasSizeLessThan(4_000));
    }

    @Test
    @Timeout(90)
    void anEcsTaskDefinitionReRegisteredWithTheSameImageIsFollowedNotSuperseded() {
        EcsSpec spec = (EcsSpec) stage().legacy().orElseThrow();
        StageResult report = new Rollouts(stepped, interleaved(Side.LEGACY, SupersededTest::rolloutProgress, () -> {
            try (EcsClient client = EcsTarget.connect(spec)) {
                String registered = client.registerTaskDefinition(r -> r.family(spec.service()).containerDefinitions(
                        ContainerDefinition.builder().name(spec.container()).image(NEXT.image()).essential(true)
                                .environment(e -> e.name("LOG_LEVEL").value("debug")).build()))
                        .taskDefinition().taskDefinitionArn();
                client.updateService(r -> r.cluster(spec.cluster()).service(spec.service()).taskDefinition(registered));
            }
        })).run(stage(), NEXT, BOTH, true);

        String what = report.outcome() + ": " + report.reason() + "\n" + String.join("\n", events);
        assertThat(report.outcome()).as(what).isEqualTo(StageOutcome.SUCCEEDED);
        assertThat(side(report, Side.LEGACY).rollout().orElseThrow().supersededBy()).isEmpty();
        assertThat(events).as(what).anySatisfy(line -> assertThat(line).contains("which runs the same image; following its deployment"));
        assertThat(runs(Side.LEGACY)).contains(NEXT.digest());
        assertThat(runs(Side.KUBERNETES)).contains(NEXT.digest());
        assertThat(report.parity().outcome()).isEqualTo(Parity.Outcome.PARITY);
    }
}
