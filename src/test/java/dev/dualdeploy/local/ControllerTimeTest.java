package dev.dualdeploy.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.time.SteppedClock;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local environment's controllers in time: progress deadlines as Kubernetes counts them, and idle when idle. */
class ControllerTimeTest {

    private static final Duration DUE = Duration.ofMillis(400);

    /** Issue 8 item 27: the deadline counts from the last progress, so a rollback to an old ReplicaSet is a fresh rollout. */
    @Test
    void aRollbackToAReplicaSetCreatedFifteenMinutesAgoSucceeds() {
        SteppedClock clock = new SteppedClock(Instant.now());
        try (KubernetesSimulator sim = KubernetesSimulator.startDriven(clock)) {
            KubernetesClient client = sim.client();
            sim.seedDeployment("rollback", "web", "app", "registry.example.com/web:1", 1);
            settle(sim, clock);
            assertThat(progressing(client, "rollback").getReason()).isEqualTo("NewReplicaSetAvailable");
            setImage(client, "rollback", "registry.example.com/web:2");
            settle(sim, clock);
            assertThat(progressing(client, "rollback").getReason()).isEqualTo("NewReplicaSetAvailable");

            clock.sleep(Duration.ofMinutes(15));
            setImage(client, "rollback", "registry.example.com/web:1");
            passesAtThisInstant(sim);

            assertThat(progressing(client, "rollback").getReason()).as("at once after the rollback").isEqualTo("ReplicaSetUpdated");
            settle(sim, clock);
            DeploymentCondition done = progressing(client, "rollback");
            assertThat(done.getReason()).isEqualTo("NewReplicaSetAvailable");
            assertThat(done.getMessage()).contains("web-");
            assertThat(client.apps().deployments().inNamespace("rollback").withName("web").get().getStatus().getReadyReplicas())
                    .isEqualTo(1);
        }
    }

    /** Issue 8 item 27: a rollout that makes no progress for longer than progressDeadlineSeconds fails, and not before. */
    @Test
    void aDeployWithoutProgressForLongerThanTheDeadlineFails() {
        SteppedClock clock = new SteppedClock(Instant.now());
        try (KubernetesSimulator sim = KubernetesSimulator.startDriven(clock)) {
            KubernetesClient client = sim.client();
            sim.seedDeployment("stuck", "web", "app", "registry.example.com/web:1", 1);
            settle(sim, clock);
            sim.breakImage("web:broken", KubernetesSimulator.Breakage.PULL);
            setImage(client, "stuck", "registry.example.com/web:broken");
            settle(sim, clock);
            assertThat(progressing(client, "stuck").getReason()).isEqualTo("ReplicaSetUpdated");

            clock.sleep(Duration.ofSeconds(590));
            passesAtThisInstant(sim);
            assertThat(progressing(client, "stuck").getReason()).as("before the deadline").isEqualTo("ReplicaSetUpdated");
            clock.sleep(Duration.ofSeconds(15));
            passesAtThisInstant(sim);

            DeploymentCondition failed = progressing(client, "stuck");
            assertThat(failed.getReason()).isEqualTo("ProgressDeadlineExceeded");
            assertThat(failed.getStatus()).isEqualTo("False");
        }
    }

    /**
     * Issue 8 item 26: an idle local environment does nothing. Once every rollout has settled, neither controller
     * runs a pass, and the environment's threads use next to no CPU.
     */
    @Test
    void anIdleLocalEnvironmentRunsNoControllerPasses(@TempDir Path dir) {
        try (LocalEnvironment env = LocalEnvironment.start(dir, "0.9.0", 2, 0)) {
            AtomicLong last = new AtomicLong(-1);
            // Settled: no pass for a while (the controllers wake every 20-50 ms while anything moves).
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                long now = env.kubernetes().passes() + env.ecs().passes();
                return last.getAndSet(now) == now;
            });
            long kubernetes = env.kubernetes().passes();
            long ecs = env.ecs().passes();
            long cpu = cpuOfThreads();

            Awaitility.await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> true);

            assertThat(env.kubernetes().passes()).as("Kubernetes controller passes while idle").isEqualTo(kubernetes);
            assertThat(env.ecs().passes()).as("ECS scheduler passes while idle").isEqualTo(ecs);
            // A generous bound: the fixed-rate loops this replaces used hundreds of milliseconds per second.
            assertThat(Duration.ofNanos(cpuOfThreads() - cpu)).as("CPU of the environment's threads over 2 s idle")
                    .isLessThan(Duration.ofMillis(200));
        }
    }

    private static long cpuOfThreads() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        return Arrays.stream(threads.getThreadInfo(threads.getAllThreadIds())).filter(t -> t != null)
                .filter(t -> t.getThreadName().startsWith("k8s-sim") || t.getThreadName().startsWith("ecs-sim")
                        || t.getThreadName().startsWith("registry-sim") || t.getThreadName().startsWith("vert.x"))
                .mapToLong(t -> Math.max(0, threads.getThreadCpuTime(t.getThreadId()))).sum();
    }

    /** Runs passes, stepping the clock past every start delay, until nothing is due but a progress deadline. */
    private static void settle(KubernetesSimulator sim, SteppedClock clock) {
        for (int i = 0; i < 20 && sim.reconcile().filter(d -> d.compareTo(Duration.ofMinutes(1)) < 0).isPresent(); i++) {
            clock.sleep(DUE);
        }
    }

    /** A few passes without time moving: what one pass writes (a pod) the next one builds on (its status). */
    private static void passesAtThisInstant(KubernetesSimulator sim) {
        for (int i = 0; i < 3; i++) {
            sim.reconcile();
        }
    }

    private static void setImage(KubernetesClient client, String namespace, String image) {
        client.apps().deployments().inNamespace(namespace).withName("web").edit(d -> {
            d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(image);
            return d;
        });
    }

    private static DeploymentCondition progressing(KubernetesClient client, String namespace) {
        Deployment deployment = client.apps().deployments().inNamespace(namespace).withName("web").get();
        return deployment.getStatus().getConditions().stream().filter(c -> "Progressing".equals(c.getType())).findFirst().orElseThrow();
    }
}
