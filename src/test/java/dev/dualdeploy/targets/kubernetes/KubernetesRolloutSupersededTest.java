package dev.dualdeploy.targets.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.testing.Images;
import dev.dualdeploy.time.SteppedClock;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 9: a rollout whose Deployment another writer changes underneath it (the container's image, or only the
 * {@value KubernetesTarget#DIGEST} record a deploy writes with it) ends at once as FAILED "superseded by …". The
 * simulator is driven and its controller never runs, and the clock is stepped and never stepped: nothing but the
 * other writer's change can end the rollout, and before the fix it waited for a timeout that never came.
 */
class KubernetesRolloutSupersededTest {

    private static final Release OURS = Images.release('b', "1.1.0");
    private static final Release THEIRS = Images.release('c', "1.1.1");

    private final SteppedClock clock = new SteppedClock(Instant.parse("2026-12-01T10:00:00Z"));
    private KubernetesSimulator sim;

    @BeforeEach
    void start() {
        sim = KubernetesSimulator.startDriven(clock);
        sim.seedDeployment("prod", "loan-api", "app", Images.release('a', "1.0.0").image(), 3);
    }

    @AfterEach
    void stop() {
        sim.close();
    }

    /** Deploys our release and, once the rollout follows it, lets the other writer edit the Deployment. */
    private RolloutResult deployWhile(UnaryOperator<Deployment> otherWriter) throws Exception {
        KubernetesSpec spec = new KubernetesSpec(Optional.empty(), "prod", "loan-api", "app", Optional.empty(), Optional.empty());
        CountDownLatch following = new CountDownLatch(1);
        KubernetesTarget target = new KubernetesTarget(sim.client(), spec, message -> {
            if (message.startsWith("updated") || message.startsWith("waiting")) {
                following.countDown();
            }
        }, clock, clock);
        Rollout rollout = target.deploy(OURS);
        CompletableFuture<RolloutResult> result = CompletableFuture.supplyAsync(() -> rollout.await(Duration.ofMinutes(10)));
        assertThat(following.await(30, TimeUnit.SECONDS)).as("the rollout follows the deployment").isTrue();
        sim.client().apps().deployments().inNamespace("prod").withName("loan-api").edit(otherWriter);
        return result.get(30, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(60)
    void anotherWritersImageEndsTheRolloutAtOnce() throws Exception {
        RolloutResult result = deployWhile(d -> {
            d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(THEIRS.image());
            return d;
        });

        assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(result.reason()).startsWith("superseded by " + Release.shortDigest(THEIRS.digest()) + ": another writer set app to "
                + THEIRS.image() + " during the rollout of " + OURS.image());
        assertThat(result.supersededBy()).contains(THEIRS.image());
        assertThat(result.took()).as("no time passed on the injected clock").isEqualTo(Duration.ZERO);
    }

    @Test
    @Timeout(60)
    void anotherWritersDigestRecordEndsTheRolloutAtOnce() throws Exception {
        RolloutResult result = deployWhile(d -> {
            Map<String, String> annotations = new HashMap<>(d.getMetadata().getAnnotations());
            annotations.put(KubernetesTarget.DIGEST, THEIRS.digest());
            d.getMetadata().setAnnotations(annotations);
            return d;
        });

        assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.FAILED);
        assertThat(result.reason()).startsWith("superseded by " + Release.shortDigest(THEIRS.digest()) + ": another writer changed "
                + KubernetesTarget.DIGEST + " from " + OURS.digest() + " to " + THEIRS.digest());
        assertThat(result.supersededBy()).contains(THEIRS.digest());
    }
}
