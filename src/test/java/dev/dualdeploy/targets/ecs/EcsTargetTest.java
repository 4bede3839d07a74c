package dev.dualdeploy.targets.ecs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.local.EcsSimulator;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.testing.EcsFixture;
import dev.dualdeploy.testing.Images;
import dev.dualdeploy.time.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.CPUArchitecture;
import software.amazon.awssdk.services.ecs.model.Compatibility;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.IpcMode;
import software.amazon.awssdk.services.ecs.model.NetworkMode;
import software.amazon.awssdk.services.ecs.model.OSFamily;
import software.amazon.awssdk.services.ecs.model.PidMode;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionField;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionPlacementConstraintType;

class EcsTargetTest {

    private static final AtomicInteger SERVICES = new AtomicInteger();
    private static EcsSimulator sim;
    private static EcsClient client;

    private final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        sim = EcsSimulator.start(EcsFixture.REGION);
        client = EcsFixture.client(sim);
    }

    @AfterAll
    static void stop() {
        client.close();
        sim.close();
    }

    private EcsTarget seeded(Release running, boolean circuitBreaker) {
        String service = "svc" + SERVICES.incrementAndGet();
        EcsFixture.seed(client, "cluster", service, running.image(), 2, circuitBreaker);
        return healthy(service);
    }

    private EcsTarget healthy(String service) {
        EcsTarget target = new EcsTarget(client, EcsFixture.spec(sim, "cluster", service), events::add, Sleeper.SYSTEM, Clock.systemUTC());
        await().atMost(Duration.ofSeconds(10)).until(() -> target.current().health() == TargetState.Health.HEALTHY);
        return target;
    }

    @Test
    void deploysAndReadsBackTheDigestTheTasksRun() {
        EcsTarget target = seeded(Images.release('a', "1.0.0"), true);

        RolloutResult result = target.deploy(Images.release('b', "1.1.0")).await(Duration.ofSeconds(30));

        assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        TargetState state = target.current();
        assertThat(state.digest()).contains(Images.digest('b'));
        assertThat(state.version()).contains("1.1.0");
        assertThat(state.lastGoodImage()).as("what ran before the first change is recorded as last good")
                .contains(Images.release('a', "").image());
        assertThat(state.health()).isEqualTo(TargetState.Health.HEALTHY);
        assertThat(state.detail()).contains("2/2 running").endsWith(":2");
        assertThat(events).anyMatch(e -> e.startsWith("registered svc")).anyMatch(e -> e.startsWith("running 2/2"));
    }

    @Test
    void everyRegistrableTaskDefinitionFieldSurvivesADeploy() {
        String service = "full" + SERVICES.incrementAndGet();
        RegisterTaskDefinitionRequest original = RegisterTaskDefinitionRequest.builder()
                .family(service)
                .taskRoleArn("arn:aws:iam::000000000000:role/loan-api-task")
                .executionRoleArn("arn:aws:iam::000000000000:role/loan-api-exec")
                .networkMode(NetworkMode.AWSVPC)
                .containerDefinitions(
                        c -> c.name("app").image(Images.release('a', "").image()).essential(true).cpu(256).memory(512)
                                .portMappings(p -> p.containerPort(8080).name("http"))
                                .environment(e -> e.name("SPRING_PROFILES_ACTIVE").value("prod"))
                                .secrets(s -> s.name("DB_PASSWORD").valueFrom("arn:aws:ssm:eu-west-1:000000000000:parameter/db"))
                                .logConfiguration(l -> l.logDriver("awslogs").options(java.util.Map.of("awslogs-group", "/loan-api")))
                                .healthCheck(h -> h.command("CMD-SHELL", "curl -f http://localhost:8080/health").interval(10).retries(3))
                                .mountPoints(m -> m.sourceVolume("data").containerPath("/data").readOnly(false))
                                .dependsOn(d -> d.containerName("envoy").condition("HEALTHY")),
                        c -> c.name("envoy").image("registry.example.com/envoy:1.30").essential(true).memory(128))
                .volumes(v -> v.name("data").efsVolumeConfiguration(e -> e.fileSystemId("fs-1234").rootDirectory("/")))
                .placementConstraints(p -> p.type(TaskDefinitionPlacementConstraintType.MEMBER_OF)
                        .expression("attribute:ecs.availability-zone in [eu-west-1a, eu-west-1b]"))
                .requiresCompatibilities(Compatibility.FARGATE, Compatibility.EC2)
                .cpu("1024")
                .memory("2048")
                .tags(t -> t.key("team").value("loans"), t -> t.key("cost-centre").value("42"))
                .pidMode(PidMode.TASK)
                .ipcMode(IpcMode.NONE)
                .proxyConfiguration(p -> p.containerName("envoy").type("APPMESH")
                        .properties(k -> k.name("AppPorts").value("8080"), k -> k.name("ProxyIngressPort").value("15000")))
                .ephemeralStorage(e -> e.sizeInGiB(40))
                .runtimePlatform(r -> r.cpuArchitecture(CPUArchitecture.ARM64).operatingSystemFamily(OSFamily.LINUX))
                .enableFaultInjection(true)
                .build();
        EcsFixture.seed(client, "cluster", service, original, 1, true);
        EcsTarget target = healthy(service);
        DescribeTaskDefinitionResponse before = client.describeTaskDefinition(r -> r.taskDefinition(service).include(TaskDefinitionField.TAGS));

        assertThat(target.deploy(Images.release('b', "2.0.0")).await(Duration.ofSeconds(30)).succeeded()).isTrue();

        DescribeTaskDefinitionResponse after = client.describeTaskDefinition(r -> r.taskDefinition(service).include(TaskDefinitionField.TAGS));
        TaskDefinition b = before.taskDefinition();
        TaskDefinition a = after.taskDefinition();
        assertThat(a.revision()).isEqualTo(b.revision() + 1);
        assertThat(a.family()).isEqualTo(b.family());
        assertThat(a.taskRoleArn()).isEqualTo(b.taskRoleArn());
        assertThat(a.executionRoleArn()).isEqualTo(b.executionRoleArn());
        assertThat(a.networkMode()).isEqualTo(b.networkMode());
        assertThat(a.volumes()).isEqualTo(b.volumes()).isNotEmpty();
        assertThat(a.placementConstraints()).isEqualTo(b.placementConstraints()).isNotEmpty();
        assertThat(a.requiresCompatibilities()).isEqualTo(b.requiresCompatibilities()).hasSize(2);
        assertThat(a.cpu()).isEqualTo("1024");
        assertThat(a.memory()).isEqualTo("2048");
        assertThat(a.pidMode()).isEqualTo(b.pidMode()).isNotNull();
        assertThat(a.ipcMode()).isEqualTo(b.ipcMode()).isNotNull();
        assertThat(a.proxyConfiguration()).isEqualTo(b.proxyConfiguration()).isNotNull();
        assertThat(a.ephemeralStorage()).isEqualTo(b.ephemeralStorage()).isNotNull();
        assertThat(a.runtimePlatform()).isEqualTo(b.runtimePlatform()).isNotNull();
        assertThat(a.enableFaultInjection()).isTrue();
        assertThat(a.containerDefinitions()).hasSize(2);
        assertThat(a.containerDefinitions().get(0))
                .isEqualTo(b.containerDefinitions().get(0).toBuilder().image(Images.release('b', "").image()).build());
        assertThat(a.containerDefinitions().get(1)).isEqualTo(b.containerDefinitions().get(1));
        assertThat(after.tags()).extracting(t -> t.key() + "=" + t.value())
                .contains("team=loans", "cost-centre=42", EcsTarget.TAG_VERSION + "=2.0.0",
                        EcsTarget.TAG_DIGEST + "=" + Images.digest('b'));
        // Nothing registrable may be dropped silently: this fails when the SDK gains a field that withImage does not copy.
        TaskDefinition normalisedBefore = b.toBuilder().taskDefinitionArn(null).revision(null).registeredAt(null)
                .containerDefinitions(List.of()).build();
        TaskDefinition normalisedAfter = a.toBuilder().taskDefinitionArn(null).revision(null).registeredAt(null)
                .containerDefinitions(List.of()).build();
        assertThat(normalisedAfter).isEqualTo(normalisedBefore);
    }

    @Test
    void cannotPullContainerErrorFailsFastAndRollsBack() {
        EcsTarget target = seeded(Images.release('0', "0.9.0"), true);
        assertThat(target.deploy(Images.release('a', "1.0.0")).await(Duration.ofSeconds(30)).succeeded()).isTrue();
        assertThat(target.markGood(Images.release('a', "1.0.0"), Set.of(Side.LEGACY, Side.KUBERNETES)).lastGoodImage()).contains(Images.release('a', "").image());
        sim.breakImage(Images.digest('c'), EcsSimulator.Breakage.PULL);

        RolloutResult result = target.deploy(Images.release('c', "1.2.0")).await(Duration.ofSeconds(60));
        Instant verdict = Instant.now();

        assertThat(result.outcome()).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(result.reason()).contains("TaskFailedToStart").contains("CannotPullContainerError");
        Instant reported = sim.failureReportedAt(Images.digest('c')).orElseThrow();
        assertThat(Duration.between(reported, verdict)).isLessThan(Duration.ofSeconds(5));
        System.out.println("fail-fast latency (CannotPullContainerError, 50 ms poll): " + Duration.between(reported, verdict).toMillis() + " ms");

        RolloutResult back = target.rollback().await(Duration.ofSeconds(30));
        assertThat(back.outcome()).as(back.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        TargetState state = target.current();
        assertThat(state.digest()).contains(Images.digest('a'));
        assertThat(state.version()).contains("1.0.0");
        assertThat(state.health()).isEqualTo(TargetState.Health.HEALTHY);
        // Issue 8 item 1: on the last good release, a (manual) rollback goes one good release back, and then no further.
        RolloutResult oneBack = target.rollback().await(Duration.ofSeconds(30));
        assertThat(oneBack.outcome()).as(oneBack.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        assertThat(target.current().digest()).contains(Images.digest('0'));
        assertThat(target.current().lastGoodImage()).contains(Images.release('0', "").image());
        assertThatThrownBy(target::rollback).isInstanceOf(TargetException.class)
                .hasMessageContaining("no good release before it is recorded");
    }

    @Test
    void essentialContainerExitFailsFast() {
        EcsTarget target = seeded(Images.release('a', "1.0.0"), true);
        sim.breakImage(Images.digest('d'), EcsSimulator.Breakage.CRASH);

        RolloutResult result = target.deploy(Images.release('d', "1.3.0")).await(Duration.ofSeconds(60));

        assertThat(result.outcome()).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(result.reason()).contains("EssentialContainerExited").contains("container app exit 1");
    }

    @Test
    void circuitBreakerFailedEndsTheRolloutWhenItComesFirst() {
        EcsTarget target = seeded(Images.release('a', "1.0.0"), true);
        sim.breakImage(Images.digest('e'), EcsSimulator.Breakage.UNHEALTHY);

        RolloutResult result = target.deploy(Images.release('e', "1.4.0")).await(Duration.ofSeconds(60));

        assertThat(result.outcome()).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(result.reason()).startsWith("deployment circuit breaker: ECS deployment circuit breaker: tasks failed to start.");
        assertThat(target.current().health()).isEqualTo(TargetState.Health.DEGRADED);
    }

    @Test
    void throttlingIsRetriedBySdk() {
        EcsTarget target = seeded(Images.release('a', "1.0.0"), true);
        int before = sim.calls("RegisterTaskDefinition");
        sim.throttle("RegisterTaskDefinition", 2);
        sim.throttle("UpdateService", 1);

        RolloutResult result = target.deploy(Images.release('f', "1.5.0")).await(Duration.ofSeconds(30));

        assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        assertThat(sim.calls("RegisterTaskDefinition") - before).isEqualTo(3);
        assertThat(target.current().digest()).contains(Images.digest('f'));
    }

    @Test
    void persistentThrottlingIsAClearError() {
        EcsTarget target = seeded(Images.release('a', "1.0.0"), true);
        sim.throttle("RegisterTaskDefinition", 10);
        try {
            assertThatThrownBy(() -> target.deploy(Images.release('f', "1.5.0")))
                    .isInstanceOf(TargetException.class)
                    .hasMessageContaining("cannot register task definition").hasMessageContaining("Rate exceeded");
        } finally {
            sim.throttle("RegisterTaskDefinition", 0);
        }
    }

    @Test
    void rollbackWithoutAPreviousReleaseIsRefused() {
        EcsTarget target = seeded(Images.release('a', "1.0.0"), true);
        assertThatThrownBy(target::rollback).isInstanceOf(TargetException.class).hasMessageContaining("no last good release is recorded");
    }
}
