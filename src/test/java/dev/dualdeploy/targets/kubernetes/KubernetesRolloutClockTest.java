package dev.dualdeploy.targets.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.testing.Images;
import dev.dualdeploy.time.SteppedClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 9 move 2: a Kubernetes rollout waits for informer events in real time, but its timeout is measured in the
 * injected clock, so a test steps ten minutes instead of waiting them out. The simulator is driven (its controller
 * never runs here), so nothing moves and only the timeout can end the rollout.
 */
class KubernetesRolloutClockTest {

    @Test
    @Timeout(60) // before the fix, the rollout measured System.nanoTime and waited the ten real minutes
    void aRolloutTimesOutWhenTheInjectedClockPassesItsDeadline() throws Exception {
        SteppedClock clock = new SteppedClock(Instant.parse("2026-12-01T10:00:00Z"));
        try (KubernetesSimulator sim = KubernetesSimulator.startDriven(clock)) {
            sim.seedDeployment("prod", "loan-api", "app", Images.release('a', "1.0.0").image(), 3);
            KubernetesSpec spec = new KubernetesSpec(Optional.empty(), "prod", "loan-api", "app", Optional.empty(), Optional.empty());
            CountDownLatch following = new CountDownLatch(1);
            KubernetesTarget target = new KubernetesTarget(sim.client(), spec, message -> {
                if (message.startsWith("updated") || message.startsWith("waiting")) {
                    following.countDown();
                }
            }, clock, clock);
            Rollout rollout = target.deploy(Images.release('b', "1.1.0"));

            CompletableFuture<RolloutResult> result = CompletableFuture.supplyAsync(() -> rollout.await(Duration.ofMinutes(10)));
            assertThat(following.await(30, TimeUnit.SECONDS)).as("the rollout follows the deployment").isTrue();
            clock.sleep(Duration.ofMinutes(9));
            // A minute of the clock short of the deadline, the rollout still follows, however long it is given.
            assertThatThrownBy(() -> result.get(5 * KubernetesRollout.WAKE.toMillis(), TimeUnit.MILLISECONDS))
                    .isInstanceOf(TimeoutException.class);
            clock.sleep(Duration.ofMinutes(1));

            RolloutResult ended = result.get(10, TimeUnit.SECONDS);

            assertThat(ended.outcome()).as(ended.reason()).isEqualTo(RolloutResult.Outcome.TIMED_OUT);
            assertThat(ended.reason()).startsWith("not complete after 600s: ");
            assertThat(ended.took()).as("measured in the injected clock").isEqualTo(Duration.ofMinutes(10));
        }
    }
}
