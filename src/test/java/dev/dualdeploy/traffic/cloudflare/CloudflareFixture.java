package dev.dualdeploy.traffic.cloudflare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.local.CloudflareSimulator;
import dev.dualdeploy.net.Timeouts;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** A simulator, the router's spec and a router on it, with the sleeps it asked for recorded instead of slept. */
final class CloudflareFixture implements AutoCloseable {

    static final String ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
    static final String LB = "699d98642c564d2e855e9661899b7252";
    static final String LEGACY = "17b5962d775c646f3f9725cbc7a53df4";
    static final String K8S = "9290f38c5d07c2e2f4df57b1f61d4196";
    static final String THIRD = "00920f38ce07c2e2f4df50b1f61d4194";
    static final String TOKEN_ENV = "CF_LB_TOKEN";
    /** Distinctive, so that a test can tell it anywhere it might leak. */
    static final String TOKEN = "cfTokenQz7Wx3Lp9Nv2Rt5Yk8-unmistakable";
    static final Timeouts TIMEOUTS = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), 1);

    final CloudflareSimulator sim = CloudflareSimulator.start(TOKEN);
    final List<Duration> sleeps = new CopyOnWriteArrayList<>();

    static RouterSpec.Cloudflare spec(URI endpoint) {
        return new RouterSpec.Cloudflare(ZONE, LB, LEGACY, K8S, TOKEN_ENV, Optional.of(endpoint));
    }

    RouterSpec.Cloudflare spec() {
        return spec(sim.endpoint());
    }

    /** A router with the right token, a jitter of one half, and every sleep recorded. */
    CloudflareRouter router() {
        return router(TOKEN);
    }

    CloudflareRouter router(String token) {
        return new CloudflareRouter(spec(), token, TIMEOUTS, sleeps::add, () -> 0.5);
    }

    /** Seeds the load balancer: the given steering fields, and the two pools as default pools. */
    void seed(String fields) {
        seed("[\"" + LEGACY + "\", \"" + K8S + "\"]", fields);
    }

    void seed(String defaultPools, String fields) {
        sim.put(ZONE, "{\"id\": \"" + LB + "\", \"name\": \"api.example.com\", \"fallback_pool\": \"" + LEGACY + "\", \"default_pools\": "
                + defaultPools + (fields.isBlank() ? "" : ", " + fields) + "}");
    }

    /** The load balancer as the simulator holds it now. */
    ObjectNode stored() {
        return sim.loadBalancer(ZONE, LB).orElseThrow();
    }

    /** A stored pool weight as written, such as {@code 0.25}; {@code null} if absent. */
    String weight(String pool) {
        JsonNode node = stored().path("random_steering").path("pool_weights").get(pool);
        return node == null ? null : node.toString();
    }

    long patches() {
        return sim.requests().stream().filter(r -> r.method().equals("PATCH")).count();
    }

    @Override
    public void close() {
        sim.close();
    }
}
