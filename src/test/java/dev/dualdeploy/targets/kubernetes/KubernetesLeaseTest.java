package dev.dualdeploy.targets.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.journal.LeaseHeldException;
import dev.dualdeploy.journal.StageLease;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.time.SteppedClock;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The stage lease as a coordination.k8s.io/v1 Lease on the fabric8 mock API server, with a stepped clock. */
class KubernetesLeaseTest {

    private static final AtomicInteger NAMESPACES = new AtomicInteger();
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final Duration TTL = Duration.ofSeconds(60);
    private static KubernetesSimulator sim;

    private final SteppedClock clock = new SteppedClock(T0);

    @BeforeAll
    static void start() {
        sim = KubernetesSimulator.start();
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    private static String namespace() {
        return "lease" + NAMESPACES.incrementAndGet();
    }

    private KubernetesLease lease(String namespace, String holder) {
        return new KubernetesLease(sim.client(), namespace, "dualdeploy-loan-api-prod", holder, TTL, clock);
    }

    private static Map<String, Object> spec(String namespace) {
        GenericKubernetesResource lease = sim.client().genericKubernetesResources(KubernetesLease.LEASES).inNamespace(namespace)
                .withName("dualdeploy-loan-api-prod").get();
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) lease.getAdditionalProperties().get("spec");
        return spec;
    }

    @Test
    void takesAFreeLeaseAndRenewsIt() {
        String ns = namespace();
        KubernetesLease first = lease(ns, "run-a jenkins-loan-api-42");

        StageLease.Holding held = first.take();
        clock.sleep(Duration.ofSeconds(20));
        first.renew();

        assertThat(held).isEqualTo(new StageLease.Holding("dualdeploy-loan-api-prod", "run-a jenkins-loan-api-42", T0, TTL));
        assertThat(spec(ns)).containsEntry("holderIdentity", "run-a jenkins-loan-api-42")
                .containsEntry("leaseDurationSeconds", 60)
                .containsEntry("acquireTime", "2026-12-01T10:00:00.000000Z")
                .containsEntry("renewTime", "2026-12-01T10:00:20.000000Z")
                .containsEntry("leaseTransitions", 0);
        assertThat(first.take().since()).as("taking a lease one holds renews it, keeping since").isEqualTo(T0);
    }

    @Test
    void aSecondHolderIsRefusedWithTheHolderAndSinceWhen() {
        String ns = namespace();
        lease(ns, "run-a").take();
        clock.sleep(Duration.ofSeconds(59));

        assertThatThrownBy(() -> lease(ns, "run-b").take()).isInstanceOfSatisfying(LeaseHeldException.class, held -> {
            assertThat(held.holder()).contains("run-a");
            assertThat(held.since()).contains(T0);
            assertThat(held.getMessage()).isEqualTo("lease dualdeploy-loan-api-prod is held by run-a since 2026-12-01T10:00:00Z;"
                    + " this run has seen it unchanged since 2026-12-01T10:00:59Z and would take it over once it stays unchanged for 1m");
        });
        assertThat(spec(ns)).containsEntry("holderIdentity", "run-a");
    }

    @Test
    void anExpiredLeaseIsTakenOverAndItsFormerHolderHasLostIt() {
        String ns = namespace();
        KubernetesLease dead = lease(ns, "run-a");
        dead.take();
        KubernetesLease next = lease(ns, "run-b");
        assertThatThrownBy(next::take).as("not seen unchanged for its duration yet").isInstanceOf(LeaseHeldException.class);
        clock.sleep(Duration.ofSeconds(61));

        StageLease.Holding held = next.take();

        assertThat(held.holder()).isEqualTo("run-b");
        assertThat(held.since()).isEqualTo(T0.plusSeconds(61));
        assertThat(spec(ns)).containsEntry("holderIdentity", "run-b").containsEntry("leaseTransitions", 1);
        assertThatThrownBy(dead::renew).isInstanceOfSatisfying(LeaseHeldException.class,
                lost -> assertThat(lost.holder()).contains("run-b"));
        dead.release();
        assertThat(spec(ns)).as("releasing a lease one lost leaves the new holder's alone").containsEntry("holderIdentity", "run-b");
    }

    @Test
    void releaseClearsTheHolderSoTheNextRunTakesItAtOnceButTheReleasedRunCannotRenew() {
        String ns = namespace();
        KubernetesLease first = lease(ns, "run-a");
        first.take();

        first.release();
        first.release();

        assertThat(spec(ns)).doesNotContainKey("holderIdentity");
        assertThatThrownBy(first::renew).isInstanceOfSatisfying(LeaseHeldException.class, lost -> {
            assertThat(lost.holder()).isEmpty();
            assertThat(lost.getMessage()).contains("held by nobody");
        });
        assertThat(lease(ns, "run-b").take().holder()).isEqualTo("run-b");
        assertThat(spec(ns)).containsEntry("leaseTransitions", 1);
    }

    @Test
    void aWriteBetweenReadAndWriteIsAConflictNotASecondHolder() {
        String ns = namespace();
        KubernetesLease mine = lease(ns, "run-a");
        mine.take();
        // Another writer replaces the lease at the current resourceVersion; a write at a stale one must fail.
        GenericKubernetesResource current = sim.client().genericKubernetesResources(KubernetesLease.LEASES).inNamespace(ns)
                .withName("dualdeploy-loan-api-prod").get();
        GenericKubernetesResource stale = sim.client().genericKubernetesResources(KubernetesLease.LEASES).inNamespace(ns)
                .withName("dualdeploy-loan-api-prod").get();
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) current.getAdditionalProperties().get("spec");
        spec.put("holderIdentity", "intruder");
        sim.client().genericKubernetesResources(KubernetesLease.LEASES).inNamespace(ns).resource(current).update();

        assertThatThrownBy(() -> sim.client().genericKubernetesResources(KubernetesLease.LEASES).inNamespace(ns).resource(stale).update())
                .hasMessageContaining("409");
        assertThatThrownBy(mine::renew).isInstanceOfSatisfying(LeaseHeldException.class,
                lost -> assertThat(lost.holder()).contains("intruder"));
    }

    @Test
    void ofEightRunsTakingAFreeLeaseAtOnceExactlyOneHoldsIt() throws Exception {
        String ns = namespace();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> runs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            KubernetesLease lease = lease(ns, "run-" + i);
            runs.add(pool.submit(() -> {
                go.await();
                try {
                    return lease.take().holder();
                } catch (LeaseHeldException held) {
                    return "refused, held by " + held.holder().orElse("?");
                }
            }));
        }
        go.countDown();
        List<String> outcomes = new ArrayList<>();
        for (Future<String> run : runs) {
            outcomes.add(run.get(30, TimeUnit.SECONDS));
        }
        pool.shutdown();

        String holder = (String) spec(ns).get("holderIdentity");
        assertThat(outcomes).filteredOn(o -> !o.startsWith("refused")).containsExactly(holder);
        assertThat(outcomes).filteredOn(o -> o.startsWith("refused")).hasSize(7)
                .allSatisfy(o -> assertThat(o).isEqualTo("refused, held by " + holder));
    }

    @Test
    void aForeignLeaseFullOfGarbageIsReadSafely() {
        String ns = namespace();
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("holderIdentity", "x".repeat(100_000) + "\n[prod] forged line\u001b[31m");
        spec.put("leaseDurationSeconds", "forever");
        spec.put("acquireTime", "yesterday");
        spec.put("renewTime", T0.toString());
        spec.put("leaseTransitions", -5);
        create(ns, spec);
        KubernetesLease mine = lease(ns, "run-b");

        assertThatThrownBy(mine::take).isInstanceOfSatisfying(LeaseHeldException.class, held -> {
            assertThat(held.getMessage()).doesNotContain("\n").doesNotContain("\u001b").contains("more characters")
                    .contains("since 2026-12-01T10:00:00Z").hasSizeLessThan(520);
            assertThat(held.holder().orElseThrow()).hasSizeLessThan(260);
        });
        clock.sleep(Duration.ofSeconds(61));
        assertThat(mine.take().holder()).as("a duration that is no number counts as the lease's own")
                .isEqualTo("run-b");
        assertThat(spec(ns)).containsEntry("leaseTransitions", 1);
    }

    @Test
    void aLeaseWithoutSpecOrTimesIsFree() {
        String ns = namespace();
        create(ns, null);
        assertThat(lease(ns, "run-a").take().holder()).isEqualTo("run-a");

        String other = namespace();
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("holderIdentity", "someone");
        spec.put("renewTime", null);
        create(other, spec);
        assertThat(lease(other, "run-a").take().holder()).as("a holder with no readable time has expired").isEqualTo("run-a");
    }

    @Test
    void namesAreDnsLabelsShortenedWithAHash() {
        assertThat(KubernetesLease.name("loan-api", "prod")).isEqualTo("dualdeploy-loan-api-prod");
        String longService = "s".repeat(63);
        String a = KubernetesLease.name(longService, "prod");
        String b = KubernetesLease.name(longService, "preprod");
        assertThat(a).hasSize(63).matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?").isNotEqualTo(b);
        assertThat(KubernetesLease.name("Loan_API", "prod")).matches("dualdeploy-loan-api-prod-[0-9a-f]{10}");
        assertThatThrownBy(() -> new KubernetesLease(sim.client(), "ns", "Not_A_Name", "run", TTL, clock))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KubernetesLease(sim.client(), "ns", "ok", "run\nforged", TTL, clock))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Review item 2: a holder whose clock is behind ours renews a live lease; its old-looking renewTime is no expiry. */
    @Test
    void aLiveHolderWithASlowClockIsNotTakenOver() {
        String ns = namespace();
        Map<String, Object> spec = foreign("run-a", T0.minusSeconds(300), 60);
        create(ns, spec);
        KubernetesLease mine = lease(ns, "run-b");

        assertThatThrownBy(mine::take).isInstanceOfSatisfying(LeaseHeldException.class, held -> assertThat(held.getMessage())
                .isEqualTo("lease dualdeploy-loan-api-prod is held by run-a since 2026-12-01T09:55:00Z; this run has seen it unchanged"
                        + " since 2026-12-01T10:00:00Z and would take it over once it stays unchanged for 1m"));
        for (int renewal = 1; renewal <= 5; renewal++) {
            clock.sleep(Duration.ofSeconds(40));
            update(ns, "renewTime", MICRO.format(T0.minusSeconds(300 - 40L * renewal)));
            clock.sleep(Duration.ofSeconds(2));
            assertThatThrownBy(mine::take).as("renewed %ds ago by its clock, just now by ours", 300 - 40 * renewal)
                    .isInstanceOf(LeaseHeldException.class);
        }
        clock.sleep(Duration.ofSeconds(60));
        assertThatThrownBy(mine::take).as("unchanged for exactly its duration").isInstanceOf(LeaseHeldException.class);
        clock.sleep(Duration.ofSeconds(1));
        assertThat(mine.take().holder()).as("unchanged for longer than its duration").isEqualTo("run-b");
    }

    /** Review item 2: a renewTime in the future (a clock ahead of ours) does not block the stage once it stops changing. */
    @Test
    void aRenewTimeInTheFutureExpiresOnceUnchangedForItsDuration() {
        String ns = namespace();
        create(ns, foreign("run-a", T0.plus(Duration.ofDays(365)), 60));
        KubernetesLease mine = lease(ns, "run-b");

        assertThatThrownBy(mine::take).isInstanceOf(LeaseHeldException.class);
        clock.sleep(Duration.ofSeconds(61));

        assertThat(mine.take().holder()).isEqualTo("run-b");
        assertThat(spec(ns)).containsEntry("holderIdentity", "run-b").containsEntry("leaseTransitions", 1);
    }

    /** Review item 2: a foreign duration is clamped to the range a config may set (15s..10m). */
    @Test
    void aForeignDurationIsClampedToTheConfigsRange() {
        String day = namespace();
        create(day, foreign("run-a", T0, 86_400));
        KubernetesLease mine = lease(day, "run-b");
        assertThatThrownBy(mine::take).isInstanceOfSatisfying(LeaseHeldException.class,
                held -> assertThat(held.getMessage()).endsWith("would take it over once it stays unchanged for 10m"));
        clock.sleep(Duration.ofMinutes(10));
        assertThatThrownBy(mine::take).isInstanceOf(LeaseHeldException.class);
        clock.sleep(Duration.ofSeconds(1));
        assertThat(mine.take().holder()).as("not a day").isEqualTo("run-b");

        String second = namespace();
        create(second, foreign("run-a", clock.instant(), 1));
        KubernetesLease other = lease(second, "run-b");
        assertThatThrownBy(other::take).isInstanceOf(LeaseHeldException.class);
        clock.sleep(Duration.ofSeconds(2));
        assertThatThrownBy(other::take).as("not 1s: at least 15s").isInstanceOf(LeaseHeldException.class);
        clock.sleep(Duration.ofSeconds(14));
        assertThat(other.take().holder()).isEqualTo("run-b");
    }

    /** Review item 10: a release says whether this holder still held the lease, and who did instead. */
    @Test
    void releaseSaysWhetherItWasStillOurs() {
        String ns = namespace();
        KubernetesLease mine = lease(ns, "run-a");
        mine.take();
        update(ns, "holderIdentity", "run-b\u001b[31m");

        StageLease.Released released = mine.release();

        assertThat(released.released()).isFalse();
        assertThat(released.holder()).contains("run-b\\u001b[31m");
        assertThat(spec(ns)).containsEntry("holderIdentity", "run-b\u001b[31m");
        String free = namespace();
        KubernetesLease alone = lease(free, "run-a");
        alone.take();
        assertThat(alone.release()).isEqualTo(new StageLease.Released(true, Optional.empty()));
        assertThat(alone.release()).as("idempotent: nobody holds it now").isEqualTo(new StageLease.Released(false, Optional.empty()));
    }

    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private static Map<String, Object> foreign(String holder, Instant renewed, int seconds) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("holderIdentity", holder);
        spec.put("leaseDurationSeconds", seconds);
        spec.put("acquireTime", MICRO.format(renewed));
        spec.put("renewTime", MICRO.format(renewed));
        spec.put("leaseTransitions", 0);
        return spec;
    }

    /** Another writer changes one field of the lease (a renewal by its own clock, a takeover). */
    private static void update(String namespace, String field, Object value) {
        GenericKubernetesResource current = sim.client().genericKubernetesResources(KubernetesLease.LEASES).inNamespace(namespace)
                .withName("dualdeploy-loan-api-prod").get();
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) current.getAdditionalProperties().get("spec");
        spec.put(field, value);
        sim.client().genericKubernetesResources(KubernetesLease.LEASES).inNamespace(namespace).resource(current).update();
    }

    private static void create(String namespace, Map<String, Object> spec) {
        GenericKubernetesResource lease = new GenericKubernetesResource();
        lease.setApiVersion("coordination.k8s.io/v1");
        lease.setKind("Lease");
        lease.setMetadata(new ObjectMetaBuilder().withName("dualdeploy-loan-api-prod").withNamespace(namespace).build());
        if (spec != null) {
            lease.setAdditionalProperty("spec", spec);
        }
        sim.client().genericKubernetesResources(KubernetesLease.LEASES).inNamespace(namespace).resource(lease).create();
    }
}
