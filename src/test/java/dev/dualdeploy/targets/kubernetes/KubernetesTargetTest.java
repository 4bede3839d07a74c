package dev.dualdeploy.targets.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.testing.Images;
import dev.dualdeploy.time.Sleeper;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubernetesTargetTest {

    private static final AtomicInteger NAMESPACES = new AtomicInteger();
    private static KubernetesSimulator sim;

    private final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        sim = KubernetesSimulator.start();
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    private KubernetesTarget seeded(String namespace, Release running) {
        sim.seedDeployment(namespace, "loan-api", "app", running.image(), 3);
        KubernetesTarget target = target(namespace, Optional.empty());
        await().atMost(Duration.ofSeconds(10)).until(() -> target.current().health() == TargetState.Health.HEALTHY);
        return target;
    }

    private KubernetesTarget target(String namespace, Optional<Path> manifests) {
        KubernetesSpec spec = new KubernetesSpec(Optional.empty(), namespace, "loan-api", "app", manifests, Optional.empty());
        return new KubernetesTarget(sim.client(), spec, events::add, Sleeper.SYSTEM, Clock.systemUTC());
    }

    private static String namespace() {
        return "ns" + NAMESPACES.incrementAndGet();
    }

    @Test
    void deploysAndReadsBackTheDigestThePodsRun() {
        String ns = namespace();
        KubernetesTarget target = seeded(ns, Images.release('a', "1.0.0"));

        RolloutResult result = target.deploy(Images.release('b', "1.1.0")).await(Duration.ofSeconds(30));

        assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        TargetState state = target.current();
        assertThat(state.digest()).contains(Images.digest('b'));
        assertThat(state.version()).contains("1.1.0");
        assertThat(state.lastGoodImage()).as("what ran before the first change is recorded as last good")
                .contains(Images.release('a', "x").image());
        assertThat(state.health()).isEqualTo(TargetState.Health.HEALTHY);
        Deployment deployment = sim.client().apps().deployments().inNamespace(ns).withName("loan-api").get();
        assertThat(deployment.getMetadata().getAnnotations())
                .containsEntry(KubernetesTarget.DIGEST, Images.digest('b'))
                .doesNotContainKey(KubernetesTarget.LAST_GOOD_VERSION)
                .hasEntrySatisfying(KubernetesTarget.CHANGE_CAUSE, cause -> assertThat(cause).contains("1.1.0"));
        assertThat(sim.client().pods().inNamespace(ns).list().getItems())
                .hasSize(3)
                .allSatisfy(p -> assertThat(p.getStatus().getContainerStatuses().get(0).getImageID()).endsWith(Images.digest('b')));
        assertThat(events).anyMatch(e -> e.startsWith("updated 3/3, ready 3/3"));
    }

    @Test
    void imagePullBackOffFailsFastAndRollsBack() {
        String ns = namespace();
        KubernetesTarget target = seeded(ns, Images.release('0', "0.9.0"));
        assertThat(target.deploy(Images.release('a', "1.0.0")).await(Duration.ofSeconds(30)).succeeded()).isTrue();
        assertThat(target.markGood(Images.release('a', "1.0.0"), Set.of(Side.LEGACY, Side.KUBERNETES)).lastGoodImage()).contains(Images.release('a', "").image());
        sim.breakImage(Images.digest('c'), KubernetesSimulator.Breakage.PULL);

        RolloutResult result = target.deploy(Images.release('c', "1.2.0")).await(Duration.ofSeconds(60));
        Instant verdict = Instant.now();

        assertThat(result.outcome()).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(result.reason()).containsPattern("pod loan-api-\\w+-\\w+ container app: (ErrImagePull|ImagePullBackOff)");
        Instant reported = firstFailureIn(ns);
        assertThat(Duration.between(reported, verdict)).isLessThan(Duration.ofSeconds(5));
        System.out.println("fail-fast latency (ImagePullBackOff): " + Duration.between(reported, verdict).toMillis() + " ms");

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
    void crashLoopBackOffFailsFast() {
        String ns = namespace();
        KubernetesTarget target = seeded(ns, Images.release('a', "1.0.0"));
        sim.breakImage(Images.digest('d'), KubernetesSimulator.Breakage.CRASH);

        RolloutResult result = target.deploy(Images.release('d', "1.3.0")).await(Duration.ofSeconds(60));
        Instant verdict = Instant.now();

        assertThat(result.outcome()).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(result.reason()).contains("CrashLoopBackOff").contains("back-off 10s restarting failed container=app");
        assertThat(Duration.between(firstFailureIn(ns), verdict)).isLessThan(Duration.ofSeconds(5));
        System.out.println("fail-fast latency (CrashLoopBackOff): " + Duration.between(firstFailureIn(ns), verdict).toMillis() + " ms");

        RolloutResult back = target.rollback().await(Duration.ofSeconds(30));
        assertThat(back.outcome()).as(back.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        assertThat(target.current().digest()).contains(Images.digest('a'));
        assertThat(target.current().health()).isEqualTo(TargetState.Health.HEALTHY);
    }

    /**
     * Issue 8 item 16, found by the hostile review: after a deploy killed before its rollout saw the crash loop,
     * {@code status} showed the side PROGRESSING (the Deployment's Progressing condition holds until its deadline).
     * {@link KubernetesTarget#current()} applies the rollout's fail-fast rule: DEGRADED, saying which pod and why.
     */
    @Test
    void aCrashLoopNoRolloutFollowedIsReadAsDegradedWithTheReason() {
        String ns = namespace();
        KubernetesTarget target = seeded(ns, Images.release('a', "1.0.0"));
        sim.breakImage(Images.digest('e'), KubernetesSimulator.Breakage.CRASH);

        target.deploy(Images.release('e', "1.4.0")); // the run dies here: nobody awaits the rollout

        await().atMost(Duration.ofSeconds(30)).until(() -> sim.client().pods().inNamespace(ns).list().getItems().stream()
                .flatMap(p -> Optional.ofNullable(p.getStatus().getContainerStatuses()).orElse(List.of()).stream())
                .anyMatch(c -> c.getState().getWaiting() != null && "CrashLoopBackOff".equals(c.getState().getWaiting().getReason())));
        TargetState state = target.current();
        assertThat(state.health()).isEqualTo(TargetState.Health.DEGRADED);
        assertThat(state.detail()).contains("failing: pod ").contains("container app: CrashLoopBackOff");
    }

    @Test
    void appliesEveryDocumentOfMultiDocumentManifests(@TempDir Path dir) throws IOException {
        String ns = namespace();
        sim.client().namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata().withName(ns).endMetadata().build()).create();
        Files.writeString(dir.resolve("app.yaml"), """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: loan-api
                spec:
                  replicas: 2
                  selector:
                    matchLabels: {app: loan-api}
                  template:
                    metadata:
                      labels: {app: loan-api}
                    spec:
                      containers:
                        - name: app
                          image: placeholder
                          envFrom: [{configMapRef: {name: loan-api}}]
                        - name: sidecar
                          image: registry.example.com/proxy:1.0
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: loan-api
                spec:
                  selector: {app: loan-api}
                  ports: [{name: http, port: 80, targetPort: 8080}]
                ---
                apiVersion: autoscaling/v2
                kind: HorizontalPodAutoscaler
                metadata:
                  name: loan-api
                spec:
                  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: loan-api}
                  minReplicas: 2
                  maxReplicas: 6
                """);
        Files.writeString(dir.resolve("config.yml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: loan-api
                data:
                  LOG_LEVEL: info
                """);
        KubernetesTarget target = target(ns, Optional.of(dir));

        RolloutResult first = target.deploy(Images.release('a', "1.0.0")).await(Duration.ofSeconds(30));
        assertThat(first.outcome()).as(first.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        Files.writeString(dir.resolve("config.yml"), Files.readString(dir.resolve("config.yml")).replace("info", "debug"));
        RolloutResult second = target.deploy(Images.release('b', "1.1.0")).await(Duration.ofSeconds(30));

        assertThat(second.outcome()).as(second.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        var client = sim.client();
        assertThat(client.configMaps().inNamespace(ns).withName("loan-api").get().getData()).containsEntry("LOG_LEVEL", "debug");
        assertThat(client.services().inNamespace(ns).withName("loan-api").get().getSpec().getPorts()).hasSize(1);
        assertThat(client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(ns).withName("loan-api").get()
                .getSpec().getMaxReplicas()).isEqualTo(6);
        Deployment deployment = client.apps().deployments().inNamespace(ns).withName("loan-api").get();
        assertThat(deployment.getSpec().getTemplate().getSpec().getContainers())
                .extracting(c -> c.getName() + "=" + c.getImage())
                .containsExactly("app=" + Images.release('b', "").image(), "sidecar=registry.example.com/proxy:1.0");
        assertThat(deployment.getMetadata().getAnnotations())
                .containsEntry(KubernetesTarget.LAST_GOOD_IMAGE, Images.release('a', "").image())
                .containsEntry(KubernetesTarget.LAST_GOOD_VERSION, "1.0.0");
        assertThat(target.current().digest()).contains(Images.digest('b'));
    }

    /**
     * Issue 8 item 28. The count was set by another writer (as an autoscaler does), so the field manager dualdeploy
     * never owned {@code spec.replicas}; the simulator models that field's ownership (see
     * {@code ApplyingCrudDispatcher}). Replicas staying at the autoscaler's 5 shows the manifests' 2 was not applied.
     */
    @Test
    void withAnAutoscalerTheManifestsReplicasAreLeftToIt(@TempDir Path dir) throws IOException {
        String ns = namespace();
        KubernetesTarget target = scaledByHand(ns, dir, true);

        RolloutResult result = target.deploy(Images.release('b', "1.1.0")).await(Duration.ofSeconds(30));

        assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        Deployment deployment = sim.client().apps().deployments().inNamespace(ns).withName("loan-api").get();
        assertThat(deployment.getSpec().getReplicas()).as("the autoscaler's count").isEqualTo(5);
        assertThat(target.current().digest()).contains(Images.digest('b'));
        assertThat(target.current().detail()).isEqualTo("5/5 ready");
        assertThat(events).contains("HorizontalPodAutoscaler loan-api scales loan-api: leaving replicas to it (kept at 5 under"
                + " field manager dualdeploy-replicas-handover; not applying replicas: 2 from " + dir.resolve("app.yaml") + ")");
    }

    /**
     * Issue 8 item 28, the sole-owner case: dualdeploy applied replicas before an autoscaler existed and the
     * autoscaler never changed the count, so the field manager dualdeploy alone owns {@code spec.replicas}. The
     * simulator models that field's ownership as a real API server does (see {@code ApplyingCrudDispatcher}): an apply
     * that leaves out a field its manager alone owns removes it, and the Deployment falls to 1 replica. With the
     * handover the count stays; without it this reads 1 (KubernetesSimulatorTest shows the drop itself).
     */
    @Test
    void aCountOnlyDualdeployOwnedIsHandedToTheAutoscalerWithoutADrop(@TempDir Path dir) throws IOException {
        String ns = namespace();
        seeded(ns, Images.release('a', "1.0.0"));
        writeManifest(dir, 2);
        KubernetesTarget target = target(ns, Optional.of(dir));
        assertThat(target.deploy(Images.release('b', "1.1.0")).await(Duration.ofSeconds(30)).succeeded()).isTrue();
        createAutoscaler(ns);

        RolloutResult result = target.deploy(Images.release('c', "1.2.0")).await(Duration.ofSeconds(30));

        assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        assertThat(sim.client().apps().deployments().inNamespace(ns).withName("loan-api").get().getSpec().getReplicas())
                .as("the count before the autoscaler took over").isEqualTo(2);
        assertThat(target.current().digest()).contains(Images.digest('c'));
        assertThat(target.current().detail()).isEqualTo("2/2 ready");
        assertThat(events).contains("HorizontalPodAutoscaler loan-api scales loan-api: leaving replicas to it (kept at 2 under"
                + " field manager dualdeploy-replicas-handover; not applying replicas: 2 from " + dir.resolve("app.yaml") + ")");

        // Idempotent: the next release hands over again and the count still stays.
        assertThat(target.deploy(Images.release('d', "1.3.0")).await(Duration.ofSeconds(30)).succeeded()).isTrue();
        assertThat(sim.client().apps().deployments().inNamespace(ns).withName("loan-api").get().getSpec().getReplicas()).isEqualTo(2);
    }

    /** Issue 8 item 28, the control: without an autoscaler the manifest's count applies. */
    @Test
    void withoutAnAutoscalerTheManifestsReplicasApply(@TempDir Path dir) throws IOException {
        String ns = namespace();
        KubernetesTarget target = scaledByHand(ns, dir, false);

        RolloutResult result = target.deploy(Images.release('b', "1.1.0")).await(Duration.ofSeconds(30));

        assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
        assertThat(sim.client().apps().deployments().inNamespace(ns).withName("loan-api").get().getSpec().getReplicas()).isEqualTo(2);
        assertThat(target.current().digest()).contains(Images.digest('b'));
        assertThat(events).noneMatch(e -> e.contains("leaving replicas"));
    }

    /** A Deployment scaled to 5 (as an autoscaler would), optionally with an HPA, and manifests that say 2. */
    private KubernetesTarget scaledByHand(String ns, Path dir, boolean autoscaler) throws IOException {
        seeded(ns, Images.release('a', "1.0.0"));
        if (autoscaler) {
            createAutoscaler(ns);
        }
        sim.client().apps().deployments().inNamespace(ns).withName("loan-api").edit(d -> {
            d.getSpec().setReplicas(5);
            return d;
        });
        KubernetesTarget target = target(ns, Optional.of(dir));
        await().atMost(Duration.ofSeconds(10)).until(() -> target.current().detail().equals("5/5 ready"));
        writeManifest(dir, 2);
        return target;
    }

    private void createAutoscaler(String ns) {
        sim.client().autoscaling().v2().horizontalPodAutoscalers().inNamespace(ns).resource(
                new io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder()
                        .withNewMetadata().withName("loan-api").endMetadata()
                        .withNewSpec().withNewScaleTargetRef().withApiVersion("apps/v1").withKind("Deployment")
                        .withName("loan-api").endScaleTargetRef().withMinReplicas(2).withMaxReplicas(10).endSpec()
                        .build()).create();
    }

    private static void writeManifest(Path dir, int replicas) throws IOException {
        Files.writeString(dir.resolve("app.yaml"), """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: loan-api
                spec:
                  replicas: %d
                  selector:
                    matchLabels: {app: loan-api}
                  template:
                    metadata:
                      labels: {app: loan-api}
                    spec:
                      containers:
                        - name: app
                          image: placeholder
                """.formatted(replicas));
    }

    @Test
    void writeConflictsWithOtherWritersAreRetried() throws InterruptedException {
        String ns = namespace();
        KubernetesTarget target = seeded(ns, Images.release('a', "1.0.0"));
        // Another writer (as the deployment controller is) changes the object every few milliseconds, so reads go
        // stale quickly; without the retry a deploy fails with 409.
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger writes = new AtomicInteger();
        Thread other = new Thread(() -> {
            while (writing.get()) {
                try {
                    sim.client().apps().deployments().inNamespace(ns).withName("loan-api").edit(d -> {
                        d.getMetadata().getAnnotations().put("other-writer", Integer.toString(writes.incrementAndGet()));
                        return d;
                    });
                } catch (KubernetesClientException conflict) {
                    // The other writer loses races too; it just writes again.
                }
                Sleeper.SYSTEM.sleep(Duration.ofMillis(1));
            }
        });
        other.start();
        try {
            for (char release : new char[] {'b', 'c', 'd', 'e', 'f', '1', '2', '3'}) {
                RolloutResult result = target.deploy(Images.release(release, "1." + release)).await(Duration.ofSeconds(30));
                assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.SUCCEEDED);
            }
        } finally {
            writing.set(false);
            other.join();
        }
        assertThat(writes.get()).as("the other writer really wrote during the deploys").isGreaterThan(20);
        assertThat(target.current().digest()).contains(Images.digest('3'));
    }

    @Test
    void rollbackWithoutAPreviousReleaseIsRefused() {
        String ns = namespace();
        KubernetesTarget target = seeded(ns, Images.release('a', "1.0.0"));
        assertThatThrownBy(target::rollback).isInstanceOf(TargetException.class)
                .hasMessageContaining("no last good release is recorded");
    }

    private static Instant firstFailureIn(String namespace) {
        return sim.firstFailureIn(namespace).orElseThrow();
    }
}
