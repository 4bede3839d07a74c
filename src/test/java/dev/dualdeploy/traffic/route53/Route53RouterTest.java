package dev.dualdeploy.traffic.route53;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.local.Route53Simulator;
import dev.dualdeploy.local.Route53Simulator.Alias;
import dev.dualdeploy.local.Route53Simulator.Change;
import dev.dualdeploy.local.Route53Simulator.RecordSet;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.time.SteppedClock;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.regions.Region;

/**
 * The router through the real SDK client (built as production builds it) against the REST-XML simulator: the weights
 * it writes, the one batch it sends, the fields it leaves alone, the INSYNC wait in stepped time, and its errors.
 */
class Route53RouterTest {

    private static final String ZONE = "Z1EXAMPLE";
    private static final String NAME = "api.example.com";
    private static final Timeouts TIMEOUTS = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Timeouts.DEFAULT.retries());
    private static Route53Simulator sim;
    private static String previousKey;
    private static String previousSecret;

    private final List<Duration> sleeps = new ArrayList<>();
    private final SteppedClock clock = new SteppedClock(Instant.parse("2025-01-01T00:00:00Z"));
    private final List<Route53Router> opened = new ArrayList<>();

    @BeforeAll
    static void start() {
        // The production client reads the default credential chain; the simulator takes any credentials.
        previousKey = System.getProperty("aws.accessKeyId");
        previousSecret = System.getProperty("aws.secretAccessKey");
        System.setProperty("aws.accessKeyId", "local");
        System.setProperty("aws.secretAccessKey", "local-secret");
        sim = Route53Simulator.start();
    }

    @AfterAll
    static void stop() {
        sim.close();
        restore("aws.accessKeyId", previousKey);
        restore("aws.secretAccessKey", previousSecret);
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }

    @BeforeEach
    void zone() {
        sim.reset();
        sim.addHostedZone(ZONE, "example.com");
        sim.put(ZONE, RecordSet.weighted(NAME, "CNAME", "legacy", 100, 60, "legacy-lb.example.net"));
        sim.put(ZONE, RecordSet.weighted(NAME, "CNAME", "kubernetes", 0, 60, "k8s-lb.example.net"));
        // Neighbours the router must neither read as its own nor touch.
        sim.put(ZONE, RecordSet.simple("www.example.com", "CNAME", 300, "legacy-lb.example.net"));
        sim.put(ZONE, RecordSet.weighted("txt.api.example.com", "TXT", "legacy", 1, 60, "\"v=1\""));
        // Listed just before api.example.com (Route53 compares "com.example.api-x." with "com.example.api.").
        sim.put(ZONE, RecordSet.weighted("api-x.example.com", "CNAME", "legacy", 1, 60, "legacy-lb.example.net"));
    }

    @AfterEach
    void close() {
        opened.forEach(Route53Router::close);
    }

    private Route53Router router() {
        return router(spec(NAME, "CNAME", "legacy", "kubernetes"));
    }

    private Route53Router router(RouterSpec.Route53 spec) {
        Route53Router router = new Route53Router(spec, Route53Router.connect(spec, Region.EU_WEST_1, TIMEOUTS), d -> {
            sleeps.add(d);
            clock.sleep(d);
        }, clock);
        opened.add(router);
        return router;
    }

    private static RouterSpec.Route53 spec(String name, String type, String legacy, String kubernetes) {
        return new RouterSpec.Route53("eu-west-1", ZONE, name, type, legacy, kubernetes, Optional.of(sim.endpoint()));
    }

    private static long weight(String name, String type, String set) {
        return sim.record(ZONE, name, type, set).orElseThrow().weight();
    }

    @Test
    void setsAndReadsBackEachShareWithExactWeights() {
        Route53Router router = router();
        assertThat(router.read()).isEqualTo(new Split(0, "weights legacy=100 kubernetes=0 (ttl 60)"));
        for (int share : new int[] {10, 50, 100, 0}) {
            router.set(Split.of(share));
            assertThat(weight(NAME, "CNAME", "legacy")).as("legacy at " + share).isEqualTo(100 - share);
            assertThat(weight(NAME, "CNAME", "kubernetes")).as("kubernetes at " + share).isEqualTo(share);
            Split read = router.read();
            assertThat(read.kubernetes()).isEqualTo(share);
            assertThat(read.reported()).isEqualTo("weights legacy=" + (100 - share) + " kubernetes=" + share + " (ttl 60)");
        }
        assertThat(sim.batches()).hasSize(4);
        assertThat(weight("txt.api.example.com", "TXT", "legacy")).as("a record of the same set identifier under the name").isEqualTo(1);
        assertThat(weight("api-x.example.com", "CNAME", "legacy")).as("a record of the same set identifier beside the name").isEqualTo(1);
    }

    @Test
    void readsTheExactShareOfWeightsThatAreNotPercents() {
        sim.put(ZONE, RecordSet.weighted(NAME, "CNAME", "legacy", 200, 60, "legacy-lb.example.net"));
        sim.put(ZONE, RecordSet.weighted(NAME, "CNAME", "kubernetes", 100, 60, "k8s-lb.example.net"));
        Split read = router().read();
        assertThat(read.kubernetes()).isEqualTo(100.0 / 3);
        assertThat(read.reported()).isEqualTo("weights legacy=200 kubernetes=100 (ttl 60)");
    }

    @Test
    void changesBothRecordsInOneBatchOfTwoUpserts() {
        router().set(Split.of(25));
        assertThat(sim.requests("ChangeResourceRecordSets")).isEqualTo(1);
        assertThat(sim.batches()).hasSize(1);
        assertThat(sim.lastBatch().orElseThrow()).containsExactly(
                new Change("UPSERT", RecordSet.weighted("api.example.com.", "CNAME", "legacy", 75, 60, "legacy-lb.example.net")),
                new Change("UPSERT", RecordSet.weighted("api.example.com.", "CNAME", "kubernetes", 25, 60, "k8s-lb.example.net")));
    }

    @Test
    void settingTheSplitItAppliesSendsNoChange() {
        Route53Router router = router();
        router.set(Split.of(30));
        router.set(Split.of(30));
        assertThat(sim.batches()).hasSize(1);
        assertThat(router.read().kubernetes()).isEqualTo(30);
    }

    @Test
    void leavesTtlValuesAndHealthCheckAsTheyWere() {
        RecordSet legacy = RecordSet.weighted(NAME, "CNAME", "legacy", 100, 300, "legacy-lb.example.net")
                .withHealthCheck("abcdef11-2222-3333-4444-555555fedcba");
        RecordSet kubernetes = RecordSet.weighted(NAME, "CNAME", "kubernetes", 0, 300, "k8s-lb.example.net")
                .withHealthCheck("99999999-2222-3333-4444-555555fedcba");
        sim.put(ZONE, legacy);
        sim.put(ZONE, kubernetes);
        router().set(Split.of(40));
        assertThat(sim.record(ZONE, NAME, "CNAME", "legacy")).contains(withDottedName(legacy.withWeight(60)));
        assertThat(sim.record(ZONE, NAME, "CNAME", "kubernetes")).contains(withDottedName(kubernetes.withWeight(40)));
        assertThat(router().read().reported()).isEqualTo("weights legacy=60 kubernetes=40 (ttl 300)");
    }

    @Test
    void leavesAnAliasTargetAsItWas() {
        String albZone = "Z32O12XQLNTSW2";
        RecordSet legacy = RecordSet.weightedAlias("shop.example.com", "A", "blue",
                100, new Alias(albZone, "dualstack.legacy-alb-1.eu-west-1.elb.amazonaws.com.", true)).withHealthCheck("hc-legacy");
        RecordSet kubernetes = RecordSet.weightedAlias("shop.example.com", "A", "green",
                0, new Alias(albZone, "dualstack.k8s-alb-2.eu-west-1.elb.amazonaws.com.", false));
        sim.put(ZONE, legacy);
        sim.put(ZONE, kubernetes);
        // The same name and set identifiers for IPv6: listed right after the A records, and none of the router's.
        sim.put(ZONE, RecordSet.weightedAlias("shop.example.com", "AAAA", "blue", 7,
                new Alias(albZone, "dualstack.legacy-alb-1.eu-west-1.elb.amazonaws.com.", true)));
        Route53Router router = router(spec("shop.example.com", "A", "blue", "green"));
        router.set(Split.of(10));
        assertThat(sim.record(ZONE, "shop.example.com", "A", "blue")).contains(withDottedName(legacy.withWeight(90)));
        assertThat(sim.record(ZONE, "shop.example.com", "A", "green")).contains(withDottedName(kubernetes.withWeight(10)));
        assertThat(sim.record(ZONE, "shop.example.com", "AAAA", "blue").orElseThrow().weight()).isEqualTo(7);
        assertThat(router.read()).isEqualTo(new Split(10, "weights legacy=90 kubernetes=10 (alias)"));
    }

    private static RecordSet withDottedName(RecordSet r) {
        return new RecordSet(r.name() + ".", r.type(), r.setIdentifier(), r.weight(), r.ttl(), r.values(), r.alias(), r.healthCheckId());
    }

    @Test
    void pollsGetChangeWithBackoffUntilInsync() {
        sim.pendingPolls(3);
        router().set(Split.of(10));
        // PENDING from the change itself, then from three polls; INSYNC at the fourth.
        assertThat(sleeps).containsExactly(Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2));
        assertThat(sim.requests("GetChange")).isEqualTo(4);
    }

    @Test
    void doesNotPollAChangeThatIsInsyncAtOnce() {
        sim.pendingPolls(0);
        router().set(Split.of(10));
        assertThat(sleeps).isEmpty();
        assertThat(sim.requests("GetChange")).isZero();
    }

    @Test
    void givesUpWaitingForInsyncAfterFiveMinutesSayingTheChangeMayStillApply() {
        sim.pendingPolls(Integer.MAX_VALUE);
        Route53Router router = router();
        assertThatThrownBy(() -> router.set(Split.of(50))).isInstanceOf(TrafficException.class)
                .hasMessageMatching("route53 api\\.example\\.com CNAME in zone Z1EXAMPLE: change C\\d+ is still PENDING after 5m; "
                        + "Route53 may still apply it: read the split again before acting on it");
        assertThat(sleeps.stream().reduce(Duration.ZERO, Duration::plus)).isEqualTo(Duration.ofMinutes(5));
        assertThat(sleeps).allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofSeconds(10)));
        assertThat(sleeps.subList(0, 7)).containsExactly(Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
                Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(8), Duration.ofSeconds(10));
        assertThat(weight(NAME, "CNAME", "kubernetes")).as("accepted, only not yet on every name server").isEqualTo(50);
    }

    @Test
    void retriesThrottlingAndSucceeds() {
        sim.throttle(1);
        int before = sim.requests();
        Route53Router router = router();
        router.set(Split.of(20));
        assertThat(weight(NAME, "CNAME", "kubernetes")).isEqualTo(20);
        // The throttled List, its retry, the change, and two GetChange (the first PENDING).
        assertThat(sim.requests() - before).isEqualTo(5);
        assertThat(sim.requests("ListResourceRecordSets")).isEqualTo(2);
    }

    @Test
    void throttlingBeyondTheRetriesIsOneLineWithTheCode() {
        sim.throttle(Timeouts.DEFAULT.retries() + 1);
        assertThatThrownBy(() -> router().read()).isInstanceOf(TrafficException.class)
                .hasMessage("route53 api.example.com CNAME in zone Z1EXAMPLE: cannot list the records: Throttling: Rate exceeded");
    }

    @Test
    void retriesPriorRequestNotCompleteWithItsOwnBackoff() {
        // The SDK tries each call twice (one retry); the third refusal falls to the router, which waits and tries again.
        sim.priorRequestNotComplete(3);
        sim.pendingPolls(0);
        router().set(Split.of(30));
        assertThat(sleeps).containsExactly(Duration.ofSeconds(1));
        assertThat(sim.requests("ChangeResourceRecordSets")).isEqualTo(4);
        assertThat(sim.batches()).hasSize(1);
        assertThat(weight(NAME, "CNAME", "kubernetes")).isEqualTo(30);
    }

    @Test
    void givesUpOnPriorRequestNotCompleteAfterBoundedTries() {
        sim.priorRequestNotComplete(1000);
        assertThatThrownBy(() -> router().set(Split.of(30))).isInstanceOf(TrafficException.class)
                .hasMessage("route53 api.example.com CNAME in zone Z1EXAMPLE: cannot change the weights: Route53 was still "
                        + "processing a prior request to the zone after 4 tries; nothing was changed");
        assertThat(sleeps).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));
        assertThat(weight(NAME, "CNAME", "kubernetes")).isZero();
    }

    @Test
    void aMissingRecordSetIsAClearError() {
        Route53Router router = router(spec("nothing.example.com", "CNAME", "legacy", "kubernetes"));
        String expected = "route53 nothing.example.com CNAME in zone Z1EXAMPLE: no record set of that name and type in the zone";
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).hasMessage(expected);
        assertThatThrownBy(() -> router.set(Split.of(10))).isInstanceOf(TrafficException.class).hasMessage(expected);
        assertThat(sim.batches()).isEmpty();
    }

    @Test
    void aMissingSideIsAClearError() {
        Route53Router router = router(spec(NAME, "CNAME", "legacy", "k8s"));
        String expected = "route53 api.example.com CNAME in zone Z1EXAMPLE: no weighted record with set identifier 'k8s' "
                + "(the kubernetes side's); the set identifiers there are ['kubernetes', 'legacy']";
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).hasMessage(expected);
        assertThatThrownBy(() -> router.set(Split.of(10))).isInstanceOf(TrafficException.class).hasMessage(expected);
        assertThat(sim.batches()).isEmpty();
    }

    @Test
    void aRecordThatIsNotWeightedIsAClearError() {
        Route53Router router = router(spec("www.example.com", "CNAME", "legacy", "kubernetes"));
        String expected = "route53 www.example.com CNAME in zone Z1EXAMPLE: the record without a set identifier is not weighted "
                + "(simple routing); the router needs two weighted records";
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).hasMessage(expected);
        assertThatThrownBy(() -> router.set(Split.of(10))).isInstanceOf(TrafficException.class).hasMessage(expected);
        assertThat(sim.record(ZONE, "www.example.com", "CNAME", null).orElseThrow().weight()).isNull();
    }

    @Test
    void bothWeightsZeroIsNotASplitAndSetRepairsIt() {
        sim.put(ZONE, RecordSet.weighted(NAME, "CNAME", "legacy", 0, 60, "legacy-lb.example.net"));
        Route53Router router = router();
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class)
                .hasMessage("route53 api.example.com CNAME in zone Z1EXAMPLE: both weights are 0, which is not a split "
                        + "(Route53 then answers with every record of the name alike)");
        router.set(Split.of(0));
        assertThat(router.read()).isEqualTo(new Split(0, "weights legacy=100 kubernetes=0 (ttl 60)"));
    }

    @Test
    void aThirdWeightedRecordWithWeightIsAnErrorAndOneAtZeroIsNot() {
        sim.put(ZONE, RecordSet.weighted(NAME, "CNAME", "canary", 5, 60, "canary-lb.example.net"));
        Route53Router router = router();
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class)
                .hasMessage("route53 api.example.com CNAME in zone Z1EXAMPLE: a third weighted record, 'canary', has weight 5: "
                        + "it takes traffic that is neither side's");
        sim.put(ZONE, RecordSet.weighted(NAME, "CNAME", "canary", 0, 60, "canary-lb.example.net"));
        router.set(Split.of(10));
        assertThat(router.read().kubernetes()).isEqualTo(10);
        assertThat(weight(NAME, "CNAME", "canary")).as("left alone").isZero();
        assertThat(sim.lastBatch().orElseThrow()).extracting(c -> c.recordSet().setIdentifier()).containsExactly("legacy", "kubernetes");
    }

    @Test
    void readsEveryPageOfTheNameAndStopsAfterIt() {
        for (String set : List.of("a-old", "b-old")) {
            sim.put(ZONE, RecordSet.weighted(NAME, "CNAME", set, 0, 60, set + ".example.net"));
        }
        for (int i = 0; i < 5; i++) {
            sim.put(ZONE, RecordSet.simple("z" + i + ".api.example.com", "A", 60, "192.0.2." + i));
        }
        sim.pageSize(1);
        Route53Router router = router();
        assertThat(router.read()).isEqualTo(new Split(0, "weights legacy=100 kubernetes=0 (ttl 60)"));
        // a-old, b-old, kubernetes, legacy: one page each; the last names a next record of another name.
        assertThat(sim.requests("ListResourceRecordSets")).isEqualTo(4);
        router.set(Split.of(50));
        assertThat(weight(NAME, "CNAME", "legacy")).isEqualTo(50);
        assertThat(weight(NAME, "CNAME", "a-old")).isZero();
    }

    @Test
    void comparesNamesAsRoute53ReturnsThem() {
        sim.put(ZONE, RecordSet.weighted("*.apps.example.com", "CNAME", "legacy", 70, 30, "legacy-lb.example.net"));
        sim.put(ZONE, RecordSet.weighted("*.apps.example.com", "CNAME", "kubernetes", 30, 30, "k8s-lb.example.net"));
        assertThat(sim.records(ZONE)).extracting(RecordSet::name).contains("\\052.apps.example.com.");
        Route53Router router = router(spec("*.Apps.Example.com.", "cname", "legacy", "kubernetes"));
        assertThat(router.read()).isEqualTo(new Split(30, "weights legacy=70 kubernetes=30 (ttl 30)"));
        router.set(Split.of(100));
        assertThat(weight("*.apps.example.com", "CNAME", "legacy")).isZero();
        assertThat(weight("*.apps.example.com", "CNAME", "kubernetes")).isEqualTo(100);
    }

    @Test
    void aZoneThatDoesNotExistIsTheServiceErrorOnOneLine() {
        Route53Router router = router(new RouterSpec.Route53("eu-west-1", "/hostedzone/ZNOPE", NAME, "CNAME", "legacy", "kubernetes",
                Optional.of(sim.endpoint())));
        assertThat(router.describe()).isEqualTo("route53 api.example.com CNAME in zone ZNOPE");
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class)
                .hasMessage("route53 api.example.com CNAME in zone ZNOPE: cannot list the records: NoSuchHostedZone: "
                        + "No hosted zone found with ID: ZNOPE");
    }

    @Test
    void aServerMessageThatEchoesInputIsEscapedAndBounded() {
        String zone = "Z\n" + "X".repeat(3000);
        Route53Router router = router(new RouterSpec.Route53("eu-west-1", zone, NAME, "CNAME", "legacy", "kubernetes",
                Optional.of(sim.endpoint())));
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).satisfies(e -> {
            assertThat(e.getMessage()).doesNotContain("\n").contains("NoSuchHostedZone: No hosted zone found with ID: Z\\nXXX")
                    .contains("more characters)");
            assertThat(e.getCause()).isNull();
        });
    }

    @Test
    void openBuildsTheClientFromTheSpecAndTheDefaultCredentialChain() {
        try (Route53Router router = Route53Router.open(new RouterSpec.Route53("", ZONE, NAME, "CNAME", "legacy", "kubernetes",
                Optional.of(sim.endpoint())), name -> null, sleeps::add, clock)) {
            router.set(Split.of(15));
            assertThat(router.read()).isEqualTo(new Split(15, "weights legacy=85 kubernetes=15 (ttl 60)"));
        }
    }

    @Test
    void describesTheRecordAndZone() {
        assertThat(router().describe()).isEqualTo("route53 api.example.com CNAME in zone Z1EXAMPLE");
    }

    @ParameterizedTest
    @ValueSource(strings = {"api.example.com", "API.Example.COM.", "api.example.com."})
    void namesCompareWithoutCaseOrTrailingDot(String name) {
        assertThat(Route53Router.normal(name)).isEqualTo("api.example.com");
        assertThat(Route53Router.normal("\\052.example.com.")).isEqualTo(Route53Router.normal("*.example.com"));
    }
}
