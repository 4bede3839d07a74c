package dev.dualdeploy.traffic.cloudflare;

import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.K8S;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.LB;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.LEGACY;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.THIRD;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.ZONE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.local.CloudflareSimulator;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The router through its own HTTP client against the v4 API simulator: the weights it writes, what it leaves, what it refuses. */
class CloudflareRouterTest {

    private final CloudflareFixture f = new CloudflareFixture();

    @AfterEach
    void stop() {
        f.close();
    }

    @ParameterizedTest(name = "{0}% on kubernetes")
    @CsvSource({"0, 1, 0", "10, 0.9, 0.1", "25, 0.75, 0.25", "50, 0.5, 0.5", "100, 0, 1"})
    void setWritesExactWeightsAndReadGivesTheShareBack(int percent, String legacy, String kubernetes) {
        f.seed("\"steering_policy\": \"random\", \"random_steering\": {\"pool_weights\": {}}");
        CloudflareRouter router = f.router();

        router.set(Split.of(percent));

        assertThat(f.weight(LEGACY)).isEqualTo(legacy);
        assertThat(f.weight(K8S)).isEqualTo(kubernetes);
        Split read = router.read();
        assertThat(read.kubernetes()).isEqualTo(percent);
        assertThat(read.reported()).isEqualTo("random_steering pool_weights legacy=" + legacy + " kubernetes=" + kubernetes);
    }

    @Test
    void aShareThatIsNotAWholePercentIsWrittenToFourDecimalsAndReadsBackAsTheSameSplit() {
        f.seed("\"steering_policy\": \"random\"");
        CloudflareRouter router = f.router();
        Split third = new Split(100 / 3.0, "");

        router.set(third);

        assertThat(f.weight(LEGACY)).isEqualTo("0.6667");
        assertThat(f.weight(K8S)).isEqualTo("0.3333");
        assertThat(router.read().kubernetes()).isEqualTo(33.33);
        assertThat(router.read().sameShare(third)).isTrue();
    }

    /** A load balancer as a person configured it, with every kind of field the router must not touch. */
    private static final String FULL = """
            "description": "api.example.com: legacy ECS and kubernetes",
            "created_on": "2024-01-01T05:20:00.12345Z",
            "modified_on": "2024-01-01T05:20:00.12345Z",
            "enabled": true,
            "ttl": 30,
            "proxied": true,
            "steering_policy": "random",
            "random_steering": {"default_weight": 0.20, "pool_weights": {"%1$s": 1, "%2$s": 0, "%3$s": 0.50},
                                "x_future": {"a": [1, 2.50]}},
            "session_affinity": "cookie",
            "session_affinity_ttl": 5000,
            "session_affinity_attributes": {"samesite": "Auto", "secure": "Auto", "drain_duration": 100,
                                            "zero_downtime_failover": "sticky", "headers": ["x-session"]},
            "adaptive_routing": {"failover_across_pools": true},
            "location_strategy": {"prefer_ecs": "always", "mode": "resolver_ip"},
            "region_pools": {"WNAM": ["%1$s"], "ENAM": ["%2$s", "%1$s"]},
            "country_pools": {"GB": ["%2$s"]},
            "pop_pools": {"LAX": ["%1$s", "%2$s"]},
            "rules": [{"name": "admin stays on legacy", "condition": "http.request.uri.path contains \\"/admin\\"",
                       "overrides": {"default_pools": ["%1$s"], "session_affinity": "none"}, "priority": 0,
                       "disabled": false, "terminates": true, "fixed_response": null}],
            "networks": ["string"],
            "x_custom_unknown": {"nested": [1, "two", {"three": 3.50, "four": 1.0e3}], "flag": null}
            """.formatted(LEGACY, K8S, "5c1d1f3b2e9f4a0b8c7d6e5f4a3b2c1d");

    @Test
    void setChangesOnlyTheTwoWeightsAndLeavesEveryOtherFieldByteForByte() {
        f.seed(FULL);
        ObjectNode before = f.stored();

        f.router().set(Split.of(25));

        ObjectNode after = f.stored();
        Map<String, String> untouchedBefore = new LinkedHashMap<>();
        Map<String, String> untouchedAfter = new LinkedHashMap<>();
        before.properties().forEach(e -> untouchedBefore.put(e.getKey(), e.getValue().toString()));
        after.properties().forEach(e -> untouchedAfter.put(e.getKey(), e.getValue().toString()));
        for (Map<String, String> fields : List.of(untouchedBefore, untouchedAfter)) {
            fields.remove("random_steering");
            fields.remove("modified_on");
        }
        assertThat(untouchedAfter).isEqualTo(untouchedBefore).containsKeys("rules", "session_affinity", "adaptive_routing",
                "x_custom_unknown", "region_pools", "steering_policy");
        assertThat(untouchedAfter.get("x_custom_unknown")).isEqualTo("{\"nested\":[1,\"two\",{\"three\":3.50,\"four\":1.0E+3}],\"flag\":null}");
        JsonNode steering = after.get("random_steering");
        assertThat(steering.get("default_weight").toString()).isEqualTo("0.20");
        assertThat(steering.get("x_future").toString()).isEqualTo(before.get("random_steering").get("x_future").toString());
        assertThat(steering.get("pool_weights").toString()).isEqualTo("{\"" + LEGACY + "\":0.75,\"" + K8S + "\":0.25,"
                + "\"5c1d1f3b2e9f4a0b8c7d6e5f4a3b2c1d\":0.50}");
        assertThat(after.get("modified_on").asText()).isNotEqualTo(before.get("modified_on").asText());
        // PATCH carried random_steering alone: steering_policy was random already, and nothing else is ours.
        CloudflareSimulator.Request patch = f.sim.requests().stream().filter(r -> r.method().equals("PATCH")).findFirst().orElseThrow();
        assertThat(patch.path()).isEqualTo("/client/v4/zones/" + ZONE + "/load_balancers/" + LB);
        assertThat(fieldNames(patch.body())).containsExactly("random_steering");
    }

    @Test
    void settingTheSplitItAlreadyAppliesSendsNoPatch() {
        f.seed("\"steering_policy\": \"random\"");
        CloudflareRouter router = f.router();

        router.set(Split.of(25));
        router.set(Split.of(25));

        assertThat(f.patches()).isEqualTo(1);
        assertThat(f.sim.requests()).hasSize(3);
    }

    @Test
    void aFailoverLoadBalancerReadsAsAllOnItsFirstPoolAndSetTurnsItToRandom() {
        f.seed("\"steering_policy\": \"off\"");
        CloudflareRouter router = f.router();
        assertThat(router.read()).isEqualTo(new Split(0, "steering_policy 'off' (failover): all traffic on the first of default_pools, legacy"));

        router.set(Split.of(10));

        assertThat(f.stored().get("steering_policy").asText()).isEqualTo("random");
        assertThat(f.weight(LEGACY)).isEqualTo("0.9");
        assertThat(router.read().kubernetes()).isEqualTo(10);
        CloudflareSimulator.Request patch = f.sim.requests().stream().filter(r -> r.method().equals("PATCH")).findFirst().orElseThrow();
        assertThat(fieldNames(patch.body())).containsExactlyInAnyOrder("steering_policy", "random_steering");
    }

    @Test
    void anUnsetPolicyWithoutGeoPoolsIsFailoverToo() {
        f.seed("[\"" + K8S + "\", \"" + LEGACY + "\"]", "\"steering_policy\": \"\"");
        assertThat(f.router().read().kubernetes()).isEqualTo(100);
        f.seed("[\"" + K8S + "\", \"" + LEGACY + "\"]", "");
        assertThat(f.router().read().reported()).isEqualTo("steering_policy '' (failover): all traffic on the first of default_pools, kubernetes");
    }

    @Test
    void failoverToAThirdPoolIsNoSplit() {
        f.seed("[\"" + THIRD + "\", \"" + LEGACY + "\", \"" + K8S + "\"]", "\"steering_policy\": \"off\"");
        assertThatThrownBy(() -> f.router().read()).isInstanceOf(TrafficException.class)
                .hasMessage("cloudflare load balancer " + LB + " in zone " + ZONE + ": failover (steering_policy 'off') sends all traffic"
                        + " to the first of default_pools, " + THIRD + ", which is neither the legacy pool " + LEGACY
                        + " nor the kubernetes pool " + K8S);
    }

    @ParameterizedTest
    @ValueSource(strings = {"geo", "dynamic_latency", "proximity", "least_outstanding_requests", "least_connections"})
    void aSteeringPolicyAPersonChoseIsNeitherReadNorOverwritten(String policy) {
        f.seed("\"steering_policy\": \"" + policy + "\", \"random_steering\": {\"pool_weights\": {\"" + K8S + "\": 0.5}}");
        ObjectNode before = f.stored();
        CloudflareRouter router = f.router();

        String expected = "steering_policy is '" + policy + "', which a person chose; dual-deploy moves traffic only by 'random'"
                + " steering and does not overwrite another policy";
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).hasMessageContaining(expected);
        assertThatThrownBy(() -> router.set(Split.of(10))).isInstanceOf(TrafficException.class).hasMessageContaining(expected);
        assertThat(f.patches()).isZero();
        assertThat(f.stored()).isEqualTo(before);
    }

    @Test
    void anUnsetPolicyWithCountryPoolsIsGeoAndRefused() {
        f.seed("\"steering_policy\": \"\", \"country_pools\": {\"GB\": [\"" + K8S + "\"]}");
        assertThatThrownBy(() -> f.router().set(Split.of(10))).hasMessageContaining("steering_policy is 'geo' (unset, with region,"
                + " country or PoP pools), which a person chose");
        assertThat(f.patches()).isZero();
    }

    @Test
    void aPoolMissingFromDefaultPoolsIsRefusedAndNotAdded() {
        f.seed("[\"" + LEGACY + "\", \"" + THIRD + "\"]", "\"steering_policy\": \"random\", \"random_steering\": {\"pool_weights\": {\""
                + THIRD + "\": 0}}");
        f.sim.addPools(K8S);
        CloudflareRouter router = f.router();

        String expected = "the kubernetes pool " + K8S + " is not in default_pools " + LEGACY + ", " + THIRD + "; add it there in Cloudflare";
        assertThatThrownBy(() -> router.set(Split.of(10))).isInstanceOf(TrafficException.class).hasMessageContaining(expected);
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).hasMessageContaining(expected);
        assertThat(f.patches()).isZero();
        assertThat(f.stored().get("default_pools").toString()).isEqualTo("[\"" + LEGACY + "\",\"" + THIRD + "\"]");
    }

    @Test
    void aThirdPoolThatWouldGetTrafficIsRefusedNotZeroed() {
        // No weight of its own and no default_weight: Cloudflare gives it 1, a third of the traffic.
        f.seed("[\"" + LEGACY + "\", \"" + K8S + "\", \"" + THIRD + "\"]", "\"steering_policy\": \"random\", \"random_steering\":"
                + " {\"pool_weights\": {\"" + LEGACY + "\": 1, \"" + K8S + "\": 0}}");
        ObjectNode before = f.stored();
        CloudflareRouter router = f.router();

        String expected = "pool " + THIRD + " in default_pools would get traffic too (weight 1 (default_weight)); set its weight in"
                + " random_steering to 0 or remove it from default_pools";
        assertThatThrownBy(() -> router.set(Split.of(10))).isInstanceOf(TrafficException.class).hasMessageContaining(expected);
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).hasMessageContaining(expected);
        assertThat(f.stored()).isEqualTo(before);
    }

    @Test
    void aThirdPoolAtWeightZeroIsLeftAlone() {
        f.seed("[\"" + LEGACY + "\", \"" + K8S + "\", \"" + THIRD + "\"]", "\"steering_policy\": \"random\", \"random_steering\":"
                + " {\"default_weight\": 0.5, \"pool_weights\": {\"" + THIRD + "\": 0}}");
        CloudflareRouter router = f.router();

        router.set(Split.of(50));

        assertThat(f.weight(THIRD)).isEqualTo("0");
        assertThat(router.read().kubernetes()).isEqualTo(50);
        // And a third pool left to a default_weight of 0 gets nothing either.
        f.seed("[\"" + LEGACY + "\", \"" + K8S + "\", \"" + THIRD + "\"]", "\"steering_policy\": \"random\", \"random_steering\":"
                + " {\"default_weight\": 0}");
        router.set(Split.of(10));
        assertThat(f.weight(THIRD)).isNull();
        assertThat(router.read().kubernetes()).isEqualTo(10);
    }

    @Test
    void aPoolWithoutItsOwnWeightReadsItsDefaultWeight() {
        f.seed("\"steering_policy\": \"random\", \"random_steering\": {\"default_weight\": 0.3, \"pool_weights\": {\"" + K8S + "\": 0.1}}");
        Split read = f.router().read();
        assertThat(read.kubernetes()).isEqualTo(25);
        assertThat(read.reported()).isEqualTo("random_steering pool_weights legacy=0.3 (default_weight) kubernetes=0.1");
    }

    @Test
    void bothWeightsZeroIsNoSplit() {
        f.seed("\"steering_policy\": \"random\", \"random_steering\": {\"pool_weights\": {\"" + LEGACY + "\": 0, \"" + K8S + "\": 0}}");
        assertThatThrownBy(() -> f.router().read()).isInstanceOf(TrafficException.class)
                .hasMessageEndingWith(": both pools have weight 0 (random_steering pool_weights legacy=0 kubernetes=0), which is no split");
    }

    @Test
    void aMalformedWeightOrAnswerIsAClearError() {
        f.seed("\"steering_policy\": \"random\", \"random_steering\": {\"pool_weights\": {\"" + K8S + "\": \"lots\"}}");
        CloudflareRouter router = f.router();
        assertThatThrownBy(router::read).hasMessageEndingWith(": random_steering.pool_weights." + K8S + " is \"lots\", not a weight from 0 to 1");

        f.sim.answerNext(200, "application/json", "{\"success\": true, \"errors\": [], \"messages\": [], \"result\": null}");
        assertThatThrownBy(router::read).hasMessageEndingWith(": GET answered without a load balancer in result");
        f.sim.answerNext(200, "text/html", "<html>maintenance</html>");
        assertThatThrownBy(router::read).hasMessageEndingWith(": GET answered HTTP 200 without the v4 envelope");
        f.seed("\"steering_policy\": 7");
        assertThatThrownBy(router::read).hasMessageEndingWith(": steering_policy is 7, not a policy name");
    }

    @Test
    void theSimulatorRefusesAWeightOutsideZeroToOneAsTheApiDoesAndKeepsTheLoadBalancer() throws Exception {
        f.seed("\"steering_policy\": \"random\"");
        ObjectNode before = f.stored();
        CloudflareApi api = new CloudflareApi(f.sim.endpoint(), CloudflareFixture.TOKEN, "CF_LB_TOKEN", "here", CloudflareFixture.TIMEOUTS,
                f.sleeps::add, () -> 0.5);
        ObjectNode patch = (ObjectNode) new ObjectMapper().readTree("{\"random_steering\": {\"pool_weights\": {\"" + K8S + "\": 1.5}}}");

        assertThatThrownBy(() -> api.patch("zones/" + ZONE + "/load_balancers/" + LB, patch)).isInstanceOf(TrafficException.class)
                .hasMessage("here: PATCH refused (HTTP 400: [1002] random_steering.pool_weights." + K8S + ": 1.5 is not a number from 0 to 1)");
        ((ObjectNode) patch.get("random_steering").get("pool_weights")).put(K8S, -0.1);
        assertThatThrownBy(() -> api.patch("zones/" + ZONE + "/load_balancers/" + LB, patch)).hasMessageContaining("-0.1 is not a number");
        assertThat(f.stored()).isEqualTo(before);
    }

    @Test
    void anUnknownLoadBalancerIsNotFound() {
        assertThatThrownBy(() -> f.router().read()).isInstanceOf(TrafficException.class).hasMessage("cloudflare load balancer " + LB
                + " in zone " + ZONE + ": not found (HTTP 404: [1001] Load balancer not found); check the zone and load balancer ids");
    }

    @Test
    void describeNamesTheLoadBalancerAndTheZone() {
        CloudflareRouter router = f.router();
        assertThat(router.describe()).isEqualTo("cloudflare load balancer " + LB + " in zone " + ZONE);
        assertThat(router).hasToString(router.describe());
    }

    private static List<String> fieldNames(String json) {
        try {
            List<String> names = new ArrayList<>();
            new ObjectMapper().readTree(json).properties().forEach(e -> names.add(e.getKey()));
            return names;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
