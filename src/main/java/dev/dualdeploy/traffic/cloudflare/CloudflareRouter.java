package dev.dualdeploy.traffic.cloudflare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.text.Secrets;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import dev.dualdeploy.traffic.TrafficRouter;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A Cloudflare load balancer that splits traffic between two origin pools by {@code random} steering: the Kubernetes
 * share is {@code random_steering.pool_weights} of the Kubernetes pool over the sum of both pools' weights. {@link #set}
 * reads the load balancer and patches only {@code random_steering} (and {@code steering_policy}, when it has to become
 * {@code random}); every other field, and every other key inside {@code random_steering}, stays as it was.
 *
 * <p>What it refuses, rather than overwrite a person's choice: a {@code steering_policy} other than {@code random},
 * {@code off} or {@code ""} (geo, dynamic latency, proximity, least outstanding requests or connections; and {@code ""}
 * where region, country or PoP pools make it geo); either pool missing from {@code default_pools}; a third pool in
 * {@code default_pools} that would get traffic. A load balancer on {@code off} (failover) is read as all traffic on its
 * first default pool, and {@link #set} turns it to {@code random}.
 *
 * <p>The token needs Zone &gt; Load Balancers &gt; Edit on the zone; nothing else is read or written.
 */
public final class CloudflareRouter implements TrafficRouter {

    /** Cloudflare's ids are 32 hex digits; this admits a little more, and nothing that could change the URL's path. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    /** Weights are written with at most this many decimals: exact for every whole and hundredth percent. */
    private static final int SCALE = 4;
    private static final BigDecimal HUNDRED = BigDecimal.valueOf(100);
    /** What Cloudflare uses for a pool that {@code pool_weights} does not name, when {@code default_weight} is not set. */
    private static final BigDecimal DEFAULT_WEIGHT = BigDecimal.ONE;

    private final RouterSpec.Cloudflare spec;
    private final CloudflareApi api;
    private final String path;

    /**
     * The router for production: the token is read from the environment variable the spec names, and registered as a
     * secret.
     *
     * @throws IllegalArgumentException if that variable is unset or empty (bad input, exit 2: nothing was asked of
     *                                  Cloudflare yet), naming the variable, never a value
     */
    public static CloudflareRouter open(RouterSpec.Cloudflare spec, Function<String, String> environment) {
        String value = environment.apply(spec.tokenEnv());
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("cloudflare load balancer " + Text.foreign(spec.loadBalancerId()) + ": the environment"
                    + " variable " + spec.tokenEnv() + " that must hold the Cloudflare API token is " + (value == null ? "not set" : "empty")
                    + "; bind the token to it (withCredentials in Jenkins)");
        }
        String token = value.strip();
        Secrets.register(token);
        return new CloudflareRouter(spec, token, Timeouts.current(), Sleeper.SYSTEM, () -> ThreadLocalRandom.current().nextDouble());
    }

    /**
     * A router with its collaborators given: for tests, which record the sleeps and fix the jitter.
     *
     * @param token the API token, already registered as a secret where it was read
     * @param jitter a number in {@code [0, 1)} for each retry's backoff
     */
    CloudflareRouter(RouterSpec.Cloudflare spec, String token, Timeouts timeouts, Sleeper sleeper, DoubleSupplier jitter) {
        this.spec = spec;
        for (String id : List.of(spec.zoneId(), spec.loadBalancerId())) {
            if (!ID.matcher(id).matches()) {
                throw new TrafficException("cloudflare: '" + Text.foreign(id) + "' is not a Cloudflare id (letters, digits, '-'"
                        + " and '_')");
            }
        }
        if (spec.legacyPool().equals(spec.kubernetesPool())) {
            throw new TrafficException(describe() + ": the legacy and the kubernetes pool are the same pool " + spec.legacyPool());
        }
        // A character outside visible ASCII (a pasted newline inside the value) makes the JDK refuse the header with a
        // message that may quote it; it is no Cloudflare token anyway.
        if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new TrafficException(describe() + ": the value of " + spec.tokenEnv() + " is not an API token (it holds spaces or"
                    + " control characters)");
        }
        URI base = spec.endpoint().orElse(RouterSpec.Cloudflare.API);
        base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.api = new CloudflareApi(base, token, spec.tokenEnv(), describe(), timeouts, sleeper, jitter);
        this.path = "zones/" + spec.zoneId() + "/load_balancers/" + spec.loadBalancerId();
    }

    @Override
    public Split read() {
        ObjectNode lb = api.get(path);
        String policy = steeringPolicy(lb);
        List<String> pools = defaultPools(lb);
        if (!policy.equals("random")) {
            // Failover: the first healthy pool in default_pools takes everything. Health is Cloudflare's to judge; the
            // configured order is what a person set and what this reads.
            String first = pools.get(0);
            String named = "steering_policy " + quoted(lb.path("steering_policy").asText(""));
            String reported = named + " (failover): all traffic on the first of default_pools, ";
            if (first.equals(spec.legacyPool())) {
                return new Split(0, reported + "legacy");
            }
            if (first.equals(spec.kubernetesPool())) {
                return new Split(100, reported + "kubernetes");
            }
            throw new TrafficException(Text.line(describe() + ": failover (" + named + ") sends all traffic to the first of"
                    + " default_pools, " + Text.foreign(first) + ", which is neither the legacy pool " + spec.legacyPool()
                    + " nor the kubernetes pool " + spec.kubernetesPool()));
        }
        requireBoth(pools);
        ObjectNode steering = randomSteering(lb);
        refuseThirdPools(pools, steering);
        Weight legacy = weight(steering, spec.legacyPool());
        Weight kubernetes = weight(steering, spec.kubernetesPool());
        String reported = "random_steering pool_weights legacy=" + legacy + " kubernetes=" + kubernetes;
        BigDecimal sum = legacy.value().add(kubernetes.value());
        if (sum.signum() == 0) {
            throw new TrafficException(describe() + ": both pools have weight 0 (" + reported + "), which is no split");
        }
        double share = kubernetes.value().multiply(HUNDRED).divide(sum, MathContext.DECIMAL64).doubleValue();
        return new Split(share, reported);
    }

    /**
     * Read-modify-write: the load balancer is read, and only what must change is patched. Cloudflare's PATCH overwrites
     * each top-level field it is sent, so {@code random_steering} goes back whole, with every key and pool weight it held
     * except the two pools' weights. Nothing at all is sent when the weights are already these, under {@code random}.
     * A change made by someone else to {@code random_steering} between the read and the patch would be lost: the API
     * has no conditional write for load balancers.
     */
    @Override
    public void set(Split split) {
        ObjectNode lb = api.get(path);
        String policy = steeringPolicy(lb);
        List<String> pools = defaultPools(lb);
        requireBoth(pools);
        BigDecimal kubernetes = BigDecimal.valueOf(split.kubernetes()).divide(HUNDRED).setScale(SCALE, RoundingMode.HALF_EVEN);
        BigDecimal legacy = BigDecimal.ONE.subtract(kubernetes);
        ObjectNode steering = randomSteering(lb);
        ObjectNode weights = steering.has("pool_weights") ? (ObjectNode) steering.get("pool_weights")
                : steering.putObject("pool_weights");
        boolean same = policy.equals("random") && equal(weights.get(spec.legacyPool()), legacy)
                && equal(weights.get(spec.kubernetesPool()), kubernetes);
        weights.put(spec.legacyPool(), legacy.stripTrailingZeros());
        weights.put(spec.kubernetesPool(), kubernetes.stripTrailingZeros());
        // A third pool is checked against the weights as they will be: under random steering it would take its share.
        refuseThirdPools(pools, steering);
        if (same) {
            return;
        }
        ObjectNode patch = api.json.createObjectNode();
        if (!lb.path("steering_policy").asText().equals("random")) {
            patch.put("steering_policy", "random");
        }
        patch.set("random_steering", steering);
        api.patch(path, patch);
    }

    @Override
    public String describe() {
        return "cloudflare load balancer " + spec.loadBalancerId() + " in zone " + spec.zoneId();
    }

    @Override
    public String toString() {
        return describe();
    }

    /**
     * The steering policy in effect: {@code random}, or {@code off} for failover ({@code ""} is off unless region,
     * country or PoP pools make it geo, as Cloudflare documents).
     *
     * @throws TrafficException for any other policy: a person chose it, and this router does not overwrite it
     */
    private String steeringPolicy(ObjectNode lb) {
        JsonNode node = lb.path("steering_policy");
        if (!node.isMissingNode() && !node.isNull() && !node.isTextual()) {
            throw new TrafficException(Text.line(describe() + ": steering_policy is " + Text.foreign(node.toString())
                    + ", not a policy name"));
        }
        String policy = node.asText("");
        if (policy.isEmpty()) {
            boolean geo = List.of("region_pools", "country_pools", "pop_pools").stream()
                    .anyMatch(f -> lb.path(f).isObject() && !lb.get(f).isEmpty());
            if (!geo) {
                return "off";
            }
            policy = "geo";
        }
        if (policy.equals("random") || policy.equals("off")) {
            return policy;
        }
        String unset = node.asText("").isEmpty() ? " (unset, with region, country or PoP pools)" : "";
        throw new TrafficException(Text.line(describe() + ": steering_policy is " + quoted(Text.foreign(policy)) + unset
                + ", which a person chose; dual-deploy moves traffic only by 'random' steering and does not overwrite another"
                + " policy (change it to random, or to off, in Cloudflare first)"));
    }

    /**
     * A copy of {@code random_steering} to change, or a new one if there is none (a failover load balancer often has
     * none). A value of another shape is refused rather than replaced: it is not ours to discard.
     */
    private ObjectNode randomSteering(ObjectNode lb) {
        JsonNode current = lb.path("random_steering");
        if (current.isMissingNode() || current.isNull()) {
            return api.json.createObjectNode();
        }
        if (!current.isObject() || current.has("pool_weights") && !current.get("pool_weights").isObject()) {
            throw new TrafficException(Text.line(describe() + ": random_steering is " + Text.foreign(current.toString())
                    + ", not an object with pool_weights"));
        }
        return ((ObjectNode) current).deepCopy();
    }

    private List<String> defaultPools(ObjectNode lb) {
        JsonNode node = lb.path("default_pools");
        if (!node.isArray() || node.isEmpty()) {
            throw new TrafficException(describe() + ": the load balancer has no default_pools");
        }
        List<String> pools = new ArrayList<>();
        for (JsonNode pool : node) {
            if (!pool.isTextual()) {
                throw new TrafficException(Text.line(describe() + ": default_pools holds " + Text.foreign(pool.toString())
                        + ", not a pool id"));
            }
            pools.add(pool.asText());
        }
        return pools;
    }

    /** Both pools must be in default_pools already: adding one would change the failover order a person set. */
    private void requireBoth(List<String> pools) {
        List<Map.Entry<String, String>> sides = List.of(Map.entry("legacy", spec.legacyPool()), Map.entry("kubernetes", spec.kubernetesPool()));
        for (Map.Entry<String, String> side : sides) {
            if (!pools.contains(side.getValue())) {
                throw new TrafficException(Text.line(describe() + ": the " + side.getKey() + " pool " + side.getValue() + " is not in"
                        + " default_pools " + Text.foreign(String.join(", ", pools)) + "; add it there in Cloudflare (dual-deploy does not"
                        + " change the load balancer's pools)"));
            }
        }
    }

    /**
     * Refuses a pool in default_pools other than ours whose weight is not 0. It is refused rather than set to 0: that pool
     * is someone's (a third region, another release), and zeroing it would move its traffic onto our two sides without
     * anyone asking; and {@link #read} must refuse the same state (it is no split between our two sides), so a set that
     * zeroed it silently would be the only writer that ever saw it. A person sets its weight to 0 or removes it.
     */
    private void refuseThirdPools(List<String> pools, JsonNode steering) {
        for (String pool : pools) {
            if (pool.equals(spec.legacyPool()) || pool.equals(spec.kubernetesPool())) {
                continue;
            }
            Weight weight = weight(steering, pool);
            if (weight.value().signum() != 0) {
                throw new TrafficException(Text.line(describe() + ": pool " + Text.foreign(pool) + " in default_pools would get traffic too"
                        + " (weight " + weight + "); set its weight in random_steering to 0 or remove it from default_pools: dual-deploy"
                        + " splits traffic between the legacy and the kubernetes pool only"));
            }
        }
    }

    /** A pool's weight under random steering, and whether it came from {@code default_weight}. */
    private record Weight(BigDecimal value, String text, boolean fromDefault) {
        @Override
        public String toString() {
            return text + (fromDefault ? " (default_weight)" : "");
        }
    }

    private Weight weight(JsonNode steering, String pool) {
        JsonNode explicit = steering.path("pool_weights").path(pool);
        if (!explicit.isMissingNode()) {
            return new Weight(number(explicit, "random_steering.pool_weights." + pool), explicit.asText(), false);
        }
        JsonNode fallback = steering.path("default_weight");
        if (fallback.isMissingNode() || fallback.isNull()) {
            return new Weight(DEFAULT_WEIGHT, DEFAULT_WEIGHT.toPlainString(), true);
        }
        return new Weight(number(fallback, "random_steering.default_weight"), fallback.asText(), true);
    }

    private BigDecimal number(JsonNode value, String field) {
        if (!value.isNumber() || value.decimalValue().signum() < 0 || value.decimalValue().compareTo(BigDecimal.ONE) > 0) {
            throw new TrafficException(Text.line(describe() + ": " + Text.foreign(field) + " is " + Text.foreign(value.toString())
                    + ", not a weight from 0 to 1"));
        }
        return value.decimalValue();
    }

    private static boolean equal(JsonNode value, BigDecimal expected) {
        return value != null && value.isNumber() && value.decimalValue().compareTo(expected) == 0;
    }

    private static String quoted(String text) {
        return "'" + text + "'";
    }
}
