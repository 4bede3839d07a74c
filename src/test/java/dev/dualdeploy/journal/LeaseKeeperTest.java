package dev.dualdeploy.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.kubernetes.KubernetesLease;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.time.SteppedClock;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The keeper of a stage lease on the fabric8 mock API server: the renewal thread's cadence on a stepped clock (each
 * of its sleeps waits for the test to step it), a lease lost to another writer or to silence, and --wait-lock.
 */
class LeaseKeeperTest {

    private static final AtomicInteger NAMESPACES = new AtomicInteger();
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final String RUN = "20261201T100000.000Z-0000000000000001";
    private static final ResourceDefinitionContext LEASES = new ResourceDefinitionContext.Builder().withGroup("coordination.k8s.io")
            .withVersion("v1").withPlural("leases").withKind("Lease").withNamespaced(true).build();
    private static KubernetesSimulator sim;

    private final SteppedClock clock = new SteppedClock(T0);
    private final Steps steps = new Steps();
    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final List<String> said = new CopyOnWriteArrayList<>();
    private final String ns = "keeper" + NAMESPACES.incrementAndGet();
    private LeaseKeeper keeper;

    @BeforeAll
    static void start() {
        sim = KubernetesSimulator.start();
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    @AfterEach
    void closeKeeper() {
        if (keeper != null) {
            keeper.close();
        }
    }

    /**
     * The renewal thread's sleeper: each sleep is announced and waits for {@link #step}, then moves the clock on. The
     * test thread's own sleeps (a --wait-lock's polls) move the clock at once.
     */
    private final class Steps implements Sleeper {
        private final Thread test = Thread.currentThread();
        final BlockingQueue<Duration> asked = new LinkedBlockingQueue<>();
        private final Semaphore permits = new Semaphore(0);
        final List<Duration> polls = new CopyOnWriteArrayList<>();

        @Override
        public void sleep(Duration duration) {
            if (Thread.currentThread() == test) {
                polls.add(duration);
                clock.sleep(duration);
                return;
            }
            asked.add(duration);
            try {
                permits.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            clock.sleep(duration);
        }

        /** Lets the renewal thread's pending sleep end, and waits until it has renewed and sleeps again. */
        Duration step() throws InterruptedException {
            permits.release();
            Duration next = asked.poll(30, TimeUnit.SECONDS);
            assertThat(next).as("the renewal thread sleeps again").isNotNull();
            return next;
        }
    }

    private KubernetesLease lease(String holder) {
        return new KubernetesLease(sim.client(), ns, "dualdeploy-loan-api-prod", holder, TTL, clock);
    }

    private LeaseKeeper keeper(StageLease lease) {
        return new LeaseKeeper(lease, RUN, "prod", clock, steps, events::add, said::add);
    }

    private MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> leases() {
        return sim.client().genericKubernetesResources(LEASES);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> spec() {
        return (Map<String, Object>) leases().inNamespace(ns).withName("dualdeploy-loan-api-prod").get().getAdditionalProperties().get("spec");
    }

    @Test
    void renewsEveryThirdOfItsDurationAndReleasesOnClose() throws Exception {
        keeper = keeper(lease("run-a"));

        keeper.acquire(Duration.ZERO);
        assertThat(steps.asked.poll(30, TimeUnit.SECONDS)).isEqualTo(Duration.ofSeconds(20));
        for (String renewed : List.of("10:00:20", "10:00:40", "10:01:00")) {
            assertThat(steps.step()).isEqualTo(Duration.ofSeconds(20));
            assertThat(spec()).containsEntry("renewTime", "2026-12-01T" + renewed + ".000000Z");
        }
        assertThat(keeper.lost()).isEmpty();
        keeper.close();

        assertThat(spec()).doesNotContainKey("holderIdentity");
        assertThat(events).hasSize(2);
        assertThat(events.get(0)).isEqualTo(new Event.LockAcquired(RUN, T0, Optional.of("prod"), Optional.empty(),
                "dualdeploy-loan-api-prod", "run-a", TTL));
        assertThat(events.get(1)).isInstanceOfSatisfying(Event.LockLost.class, lost -> {
            assertThat(lost.reason()).isEqualTo("released");
            assertThat(lost.at()).isEqualTo(T0.plusSeconds(60));
        });
    }

    @Test
    void aLeaseTakenOverIsLostAndNotReleasedOverTheNewHolder() throws Exception {
        keeper = keeper(lease("run-a"));
        keeper.acquire(Duration.ZERO);
        steps.asked.poll(30, TimeUnit.SECONDS);
        GenericKubernetesResource current = leases().inNamespace(ns).withName("dualdeploy-loan-api-prod").get();
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) current.getAdditionalProperties().get("spec");
        spec.put("holderIdentity", "run-b");
        leases().inNamespace(ns).resource(current).update();

        steps.permits.release();
        await().atMost(Duration.ofSeconds(30)).until(() -> keeper.lost().isPresent());
        keeper.close();

        assertThat(keeper.lost().orElseThrow()).contains("dualdeploy-loan-api-prod").contains("run-b")
                .contains("no new work is started");
        assertThat(events).hasSize(2).last().isInstanceOfSatisfying(Event.LockLost.class, lost -> {
            assertThat(lost.reason()).startsWith("taken over");
            assertThat(lost.holder()).contains("run-b");
        });
        assertThat(spec()).containsEntry("holderIdentity", "run-b");
        assertThat(said).anyMatch(line -> line.contains("was lost"));
    }

    @Test
    void aRenewalThatFailsIsRetriedUntilTheLeaseWouldHaveExpired() throws Exception {
        KubernetesLease real = lease("run-a");
        AtomicInteger failing = new AtomicInteger();
        StageLease flaky = new StageLease() {
            @Override
            public String name() {
                return real.name();
            }

            @Override
            public Holding take() {
                return real.take();
            }

            @Override
            public void renew() {
                if (failing.get() > 0) {
                    throw new TargetException("no answer from https://k8s.example.com within 10s");
                }
                real.renew();
            }

            @Override
            public Released release() {
                return real.release();
            }
        };
        keeper = keeper(flaky);
        keeper.acquire(Duration.ZERO);
        steps.asked.poll(30, TimeUnit.SECONDS);
        steps.step(); // renewed at T0+20s
        failing.set(1);

        steps.step(); // T0+40s: 20s since the last renewal
        steps.step(); // T0+60s: 40s
        assertThat(keeper.lost()).as("a lease is not lost while it has not expired").isEmpty();
        assertThat(said).hasSize(2).allMatch(line -> line.startsWith("could not renew lease dualdeploy-loan-api-prod (no answer from")
                && line.endsWith("it is held until 2026-12-01T10:01:20Z, retrying"));
        steps.permits.release(); // T0+80s: 60s without a renewal
        await().atMost(Duration.ofSeconds(30)).until(() -> keeper.lost().isPresent());

        assertThat(keeper.lost().orElseThrow()).contains("not renewed for 1m").contains("no answer from");
    }

    @Test
    void waitLockPollsEveryTwoSecondsSaysSoEveryThirtyAndTakesTheLeaseWhenItExpires() {
        lease("run-a jenkins-loan-api-41").take();
        keeper = keeper(lease("run-b"));

        keeper.acquire(Duration.ofMinutes(2));

        assertThat(keeper.holding().orElseThrow().since()).as("taken over once expired: 60s after run-a's last renewal")
                .isEqualTo(T0.plusSeconds(62));
        assertThat(steps.polls).hasSize(31).containsOnly(Duration.ofSeconds(2));
        assertThat(said).containsExactly(
                "waiting for the lease on prod, held by run-a jenkins-loan-api-41 since 2026-12-01T10:00:00Z (waited 0s of 2m)",
                "waiting for the lease on prod, held by run-a jenkins-loan-api-41 since 2026-12-01T10:00:00Z (waited 30s of 2m)",
                "waiting for the lease on prod, held by run-a jenkins-loan-api-41 since 2026-12-01T10:00:00Z (waited 1m of 2m)");
        assertThat(events.get(0)).isInstanceOf(Event.LockAcquired.class);
    }

    @Test
    void aWaitThatEndsFirstNamesTheHolderAndHowLongItWaited() {
        lease("run-a").take();
        keeper = keeper(lease("run-b"));

        assertThatThrownBy(() -> keeper.acquire(Duration.ofSeconds(31))).isInstanceOfSatisfying(LeaseHeldException.class, held ->
                assertThat(held.getMessage()).isEqualTo("lease dualdeploy-loan-api-prod is held by run-a since 2026-12-01T10:00:00Z;"
                        + " this run has seen it unchanged since 2026-12-01T10:00:00Z and would take it over once it stays unchanged for 1m;"
                        + " waited 31s"));
        assertThat(steps.polls).hasSize(16).endsWith(Duration.ofSeconds(1));
        assertThat(clock.instant()).isEqualTo(T0.plusSeconds(31));
        assertThat(events).isEmpty();
    }

    /**
     * Review item 3: an abort (SIGTERM) during a --wait-lock of ten minutes ends the wait within a slice of a poll: no
     * lease is taken after it, nothing is journaled as acquired, and the other run still holds it.
     */
    @Test
    void anAbortEndsTheWaitForTheLeaseAtOnceAndTakesNoLease() {
        lease("run-a").take();
        Abort abort = Abort.create();
        Sleeper signalled = duration -> {
            steps.sleep(duration);
            if (!clock.instant().isBefore(T0.plusSeconds(5)) && !abort.requested()) {
                abort.request("SIGTERM");
            }
        };
        keeper = new LeaseKeeper(lease("run-b"), RUN, "prod", clock, signalled, events::add, said::add);

        boolean held = keeper.acquire(Duration.ofMinutes(10), abort);

        assertThat(held).isFalse();
        assertThat(keeper.holding()).isEmpty();
        assertThat(clock.instant()).as("stopped within a slice of the abort").isBefore(T0.plusSeconds(5).plusMillis(200));
        assertThat(spec().get("holderIdentity")).isEqualTo("run-a");
        assertThat(events).isEmpty();
        assertThat(said).last().isEqualTo("stopped waiting for the lease on prod: the run was aborted (SIGTERM); no lease was taken");
    }

    /** A lease that delegates to {@code real}, whose calls the test can make fail or hang. */
    private static class Faulty implements StageLease {
        final StageLease real;
        final AtomicInteger takeFailures = new AtomicInteger();
        final CountDownLatch renewing = new CountDownLatch(1);
        final CountDownLatch unplugged = new CountDownLatch(1);
        volatile boolean hang;

        Faulty(StageLease real) {
            this.real = real;
        }

        @Override
        public String name() {
            return real.name();
        }

        @Override
        public Holding take() {
            if (takeFailures.getAndDecrement() > 0) {
                throw new TargetException("cannot read lease keeper/dualdeploy-loan-api-prod: no answer within 10s (" + takeFailures.get()
                        + " left)");
            }
            return real.take();
        }

        @Override
        public void renew() {
            if (hang) {
                renewing.countDown();
                try {
                    unplugged.await(); // the API server never answers, until close() interrupts
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TargetException("interrupted");
                }
            }
            real.renew();
        }

        @Override
        public Released release() {
            return real.release();
        }
    }

    /** Review item 1: a renewal that hangs must not keep the lease looking held past its duration less the margin. */
    @Test
    void aLeaseIsLostOnTimeWhileARenewalHangs() throws Exception {
        Faulty hanging = new Faulty(lease("run-a"));
        keeper = keeper(hanging);
        keeper.acquire(Duration.ZERO);
        steps.asked.poll(30, TimeUnit.SECONDS);
        steps.step(); // renewed at T0+20s
        hanging.hang = true;
        steps.permits.release(); // T0+40s: this renewal never returns
        assertThat(hanging.renewing.await(30, TimeUnit.SECONDS)).isTrue();

        Duration margin = LeaseKeeper.margin(TTL);
        clock.set(T0.plusSeconds(20).plus(TTL).minus(margin).minusMillis(1));
        assertThat(keeper.lost()).as("still within the duration less the margin").isEmpty();
        clock.set(T0.plusSeconds(20).plus(TTL).minus(margin));

        assertThat(keeper.lost()).as("lost on time, though the renewal call has not returned").isPresent();
        assertThat(keeper.lost().orElseThrow()).contains("dualdeploy-loan-api-prod").contains("not renewed for 50s")
                .contains("no new work is started");
        assertThat(events).hasSize(2).last().isInstanceOfSatisfying(Event.LockLost.class,
                lost -> assertThat(lost.reason()).startsWith("not renewed for 50s"));
        assertThat(margin).isEqualTo(Duration.ofSeconds(10));
    }

    /** Review item 8: one failed API call while waiting for the lease is retried, not the end of the wait. */
    @Test
    void waitLockRetriesAFailedReadUntilTheWaitEnds() {
        Faulty flaky = new Faulty(lease("run-b"));
        flaky.takeFailures.set(3);
        keeper = keeper(flaky);

        keeper.acquire(Duration.ofMinutes(1));

        assertThat(keeper.holding().orElseThrow().holder()).isEqualTo("run-b");
        assertThat(steps.polls).hasSize(3).containsOnly(LeaseKeeper.POLL);
        assertThat(said).first().asString().startsWith("could not read the lease on prod (cannot read lease").endsWith("; retrying");
    }

    @Test
    void aWaitThatEndsOnFailuresSaysTheLastError() {
        Faulty down = new Faulty(lease("run-b"));
        down.takeFailures.set(1_000);
        keeper = keeper(down);

        assertThatThrownBy(() -> keeper.acquire(Duration.ofSeconds(30))).isInstanceOfSatisfying(TargetException.class, failed ->
                assertThat(failed.getMessage()).startsWith("cannot read lease keeper/dualdeploy-loan-api-prod: no answer within 10s"));
        assertThat(said).last().asString().startsWith("no lease on prod after waiting 30s; the last attempt failed: cannot read lease"
                + " keeper/dualdeploy-loan-api-prod: no answer within 10s");
        assertThat(clock.instant()).isEqualTo(T0.plusSeconds(30));
        assertThat(keeper.lost()).isEmpty();
        assertThat(events).isEmpty();

        Faulty once = new Faulty(lease("run-c"));
        once.takeFailures.set(1);
        assertThatThrownBy(() -> keeper(once).acquire(Duration.ZERO)).as("without --wait-lock the first failure is the answer")
                .isInstanceOf(TargetException.class).hasMessageContaining("no answer within 10s");
    }

    /** Review item 10: a lease taken over between renewals is not journaled as released by this run. */
    @Test
    void closingALeaseTakenOverUnnoticedJournalsWhoHeldItNotReleased() throws Exception {
        keeper = keeper(lease("run-a"));
        keeper.acquire(Duration.ZERO);
        steps.asked.poll(30, TimeUnit.SECONDS);
        GenericKubernetesResource current = leases().inNamespace(ns).withName("dualdeploy-loan-api-prod").get();
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) current.getAdditionalProperties().get("spec");
        spec.put("holderIdentity", "run-b");
        leases().inNamespace(ns).resource(current).update();

        keeper.close();

        assertThat(spec()).containsEntry("holderIdentity", "run-b");
        assertThat(events).hasSize(2).last().isInstanceOfSatisfying(Event.LockLost.class, lost -> {
            assertThat(lost.reason()).isEqualTo("lost before it was released: it was held by run-b when this run released it");
            assertThat(lost.holder()).contains("run-b");
        });
        assertThat(said).anyMatch(line -> line.contains("was held by run-b when this run released it"));
    }
}
