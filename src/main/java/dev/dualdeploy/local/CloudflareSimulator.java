package dev.dualdeploy.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of Cloudflare's v4 REST API that the Cloudflare router uses, on loopback: {@code GET} and {@code PATCH} on
 * {@code /client/v4/zones/{zone_id}/load_balancers/{load_balancer_id}}, answered in the v4 envelope
 * ({@code {"success", "errors": [{"code", "message"}], "messages", "result"}}). A load balancer is held as the JSON
 * object it was seeded with, extra fields included, numbers kept exactly as written ({@code 0.20} stays {@code 0.20}),
 * so a test can tell a field the router rewrote from one it left alone. {@code PATCH} overwrites the top-level fields
 * it is sent, as Cloudflare's "Patch Load Balancer" does, and then checks the result the way the real API does: a
 * known {@code steering_policy}, {@code default_pools} and {@code fallback_pool} naming pools that exist,
 * {@code random_steering.pool_weights} keyed by pools that exist, and every weight (and {@code default_weight}) a
 * number from 0 to 1. A refused {@code PATCH} changes nothing. Every request must carry
 * {@code Authorization: Bearer <token>} with the token the simulator was started with; otherwise it answers 401 with
 * {@code success: false} and code 10000, as Cloudflare does for a token it does not accept.
 *
 * <p>Fault hooks: the next N requests answer 429 (with or without {@code Retry-After}), the next N answer a 5xx from
 * "the edge" (an HTML body, no envelope), the next answer is an envelope with {@code success: false} and a given error
 * (at any HTTP status, 200 included), or the next answer is any raw body. They answer before the token is checked, as
 * an edge in front of the API would. A test can read the stored load balancer,
 * every request (method, path, Authorization header, body) and their count.
 *
 * <p>Not modelled: pools as objects (a pool is only an id that exists: its origins, health, monitors and
 * notifications are not simulated), so no health, failover or fallback ever happens; DNS records, proxying and the
 * actual steering of traffic (the weights are stored, nothing is sent anywhere); {@code PUT}, {@code POST},
 * {@code DELETE}, listing, account-level load balancers and every other API; the meaning and validation of fields
 * other than those named above (rules, session affinity, adaptive routing, location strategy, region, country and
 * PoP pools are stored as given, never checked); the {@code multipleOf} precision rules of the real schema; token
 * permissions and scopes (the one token can do everything) and the {@code X-Auth-Key} scheme; rate limits beyond
 * the 429 hook; {@code created_on} is left as seeded, {@code modified_on} is set on each accepted {@code PATCH}. The
 * error codes other than 10000 (authentication), 7003 (no route) and 971 (throttled) are the simulator's own.
 */
public final class CloudflareSimulator implements AutoCloseable {

    /** Where the v4 API lives under the server's root, as on {@code api.cloudflare.com}. */
    private static final String BASE = "/client/v4/";
    private static final Pattern LOAD_BALANCER = Pattern.compile("/client/v4/zones/([^/]+)/load_balancers/([^/]+)/?");
    private static final List<String> POLICIES = List.of("off", "geo", "random", "dynamic_latency", "proximity",
            "least_outstanding_requests", "least_connections", "");
    /** The largest request body read; Cloudflare's own limits are far beyond any load balancer. */
    private static final int MAX_BODY = 1 << 20;

    /** One request as it arrived. */
    public record Request(String method, String path, String authorization, String body) {
    }

    /** A one-off answer a test asked for; {@code retryAfter} in seconds, or negative for no such header. */
    private record Canned(int status, String contentType, String body, int retryAfter) {
        Canned(int status, String contentType, String body) {
            this(status, contentType, body, -1);
        }
    }

    private final ObjectMapper json = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();
    private final HttpServer server;
    private final String token;
    private final Map<String, ObjectNode> loadBalancers = new HashMap<>();
    private volatile BiConsumer<String, ObjectNode> onPatched = (key, lb) -> { };
    private final Set<String> pools = ConcurrentHashMap.newKeySet();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Deque<Canned> canned = new ArrayDeque<>();

    private CloudflareSimulator(String token) throws IOException {
        this.token = token;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "cloudflare-sim");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** Starts the simulator on a free loopback port; it accepts {@code Authorization: Bearer <token>} only. */
    public static CloudflareSimulator start(String token) {
        try {
            return new CloudflareSimulator(token);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the Cloudflare simulator: " + e.getMessage(), e);
        }
    }

    /** The API's base URL, such as {@code http://127.0.0.1:40123/client/v4/}: what a router spec's endpoint names. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + BASE);
    }

    /**
     * Adds (or replaces) a load balancer in a zone, as given: any fields, known or not. Its {@code id} is the key.
     * Every pool it names (default, fallback, region, country and PoP pools, and the keys of
     * {@code random_steering.pool_weights}) is made to exist.
     *
     * @param loadBalancerJson a JSON object with at least an {@code id}
     */
    public synchronized void put(String zoneId, String loadBalancerJson) {
        ObjectNode lb;
        try {
            lb = (ObjectNode) json.readTree(loadBalancerJson);
        } catch (JsonProcessingException | ClassCastException e) {
            throw new IllegalArgumentException("a load balancer is a JSON object: " + e.getMessage(), e);
        }
        String id = lb.path("id").asText("");
        if (id.isEmpty()) {
            throw new IllegalArgumentException("a load balancer needs an id");
        }
        lb.path("default_pools").forEach(p -> pools.add(p.asText()));
        if (lb.path("fallback_pool").isTextual()) {
            pools.add(lb.get("fallback_pool").asText());
        }
        for (String field : List.of("region_pools", "country_pools", "pop_pools")) {
            lb.path(field).forEach(list -> list.forEach(p -> pools.add(p.asText())));
        }
        lb.path("random_steering").path("pool_weights").properties().forEach(e -> pools.add(e.getKey()));
        loadBalancers.put(zoneId + "/" + id, lb);
    }

    /**
     * Calls {@code listener} with {@code <zone>/<id>} and the load balancer as stored, after every accepted {@code PATCH}:
     * the local environment's traffic follows the pool weights from that moment.
     */
    public void onPatched(BiConsumer<String, ObjectNode> listener) {
        this.onPatched = listener;
    }

    /** Makes pools exist, for a {@code PATCH} that names pools no seeded load balancer does. */
    public void addPools(String... ids) {
        pools.addAll(List.of(ids));
    }

    /** A copy of the load balancer as stored now, or empty if there is none. */
    public synchronized Optional<ObjectNode> loadBalancer(String zoneId, String id) {
        return Optional.ofNullable(loadBalancers.get(zoneId + "/" + id)).map(ObjectNode::deepCopy);
    }

    /** Answers the next {@code count} requests with 429 and {@code Retry-After: retryAfterSeconds}. */
    public synchronized void throttle(int count, int retryAfterSeconds) {
        for (int i = 0; i < count; i++) {
            canned.add(new Canned(429, "application/json", envelope(971, "Please wait and consider throttling your request speed"),
                    retryAfterSeconds));
        }
    }

    /** Answers the next {@code count} requests with 429 and no {@code Retry-After}. */
    public synchronized void throttle(int count) {
        throttle(count, -1);
    }

    /** Answers the next {@code count} requests with {@code status} (a 5xx) and an HTML page, as Cloudflare's edge does. */
    public synchronized void failNext(int count, int status) {
        for (int i = 0; i < count; i++) {
            canned.add(new Canned(status, "text/html", "<html><body><h1>" + status + " Server Error</h1>cloudflare</body></html>"));
        }
    }

    /** Answers the next request with HTTP {@code status} and {@code success: false}, one error of this code and message. */
    public synchronized void refuseNext(int status, int code, String message) {
        canned.add(new Canned(status, "application/json", envelope(code, message)));
    }

    /** Answers the next request with exactly this status, content type and body. */
    public synchronized void answerNext(int status, String contentType, String body) {
        canned.add(new Canned(status, contentType, body));
    }

    /** Every request so far, in order, including refused and faulted ones. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    /** The Authorization header of every request so far, in order ({@code ""} where there was none). */
    public List<String> authorizations() {
        return requests.stream().map(Request::authorization).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body;
            try (InputStream in = exchange.getRequestBody()) {
                body = new String(in.readNBytes(MAX_BODY), StandardCharsets.UTF_8);
            }
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getRawPath();
            String authorization = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization")).orElse("");
            requests.add(new Request(method, path, authorization, body));
            Canned next;
            synchronized (this) {
                next = canned.poll();
            }
            if (next != null) {
                answerCanned(exchange, next);
                return;
            }
            if (!authorization.equals("Bearer " + token)) {
                respond(exchange, 401, error(10000, "Authentication error"));
                return;
            }
            Matcher m = LOAD_BALANCER.matcher(path);
            if (!m.matches()) {
                respond(exchange, 404, error(7003, "Could not route to " + path + ", perhaps your object identifier is invalid?"));
                return;
            }
            String key = m.group(1) + "/" + m.group(2);
            switch (method) {
                case "GET" -> get(exchange, key);
                case "PATCH" -> patch(exchange, key, body);
                default -> respond(exchange, 405, error(10405, "Method " + method + " not allowed by the simulator"));
            }
        }
    }

    private void answerCanned(HttpExchange exchange, Canned next) throws IOException {
        if (next.retryAfter() >= 0) {
            exchange.getResponseHeaders().set("Retry-After", Integer.toString(next.retryAfter()));
        }
        send(exchange, next.status(), next.contentType(), next.body());
    }

    private synchronized void get(HttpExchange exchange, String key) throws IOException {
        ObjectNode lb = loadBalancers.get(key);
        if (lb == null) {
            respond(exchange, 404, error(1001, "Load balancer not found"));
            return;
        }
        respond(exchange, 200, success(lb));
    }

    private synchronized void patch(HttpExchange exchange, String key, String body) throws IOException {
        ObjectNode lb = loadBalancers.get(key);
        if (lb == null) {
            respond(exchange, 404, error(1001, "Load balancer not found"));
            return;
        }
        JsonNode changes;
        try {
            changes = json.readTree(body);
        } catch (JsonProcessingException e) {
            respond(exchange, 400, error(1000, "Request body is not valid JSON"));
            return;
        }
        if (changes == null || !changes.isObject()) {
            respond(exchange, 400, error(1000, "Request body must be a JSON object"));
            return;
        }
        ObjectNode updated = lb.deepCopy();
        for (Map.Entry<String, JsonNode> field : changes.properties()) {
            // Read-only fields are ignored, as Cloudflare does.
            if (!Set.of("id", "created_on", "modified_on").contains(field.getKey())) {
                updated.set(field.getKey(), field.getValue());
            }
        }
        Optional<String> problem = invalid(updated);
        if (problem.isPresent()) {
            respond(exchange, 400, error(1002, problem.get()));
            return;
        }
        updated.put("modified_on", Instant.now().toString());
        loadBalancers.put(key, updated);
        onPatched.accept(key, updated.deepCopy());
        respond(exchange, 200, success(updated));
    }

    /** What the real API would refuse in this load balancer, or empty. */
    private Optional<String> invalid(ObjectNode lb) {
        JsonNode policy = lb.path("steering_policy");
        if (!policy.isMissingNode() && !(policy.isTextual() && POLICIES.contains(policy.asText()))) {
            return Optional.of("steering_policy: " + policy + " is not one of " + POLICIES);
        }
        JsonNode defaults = lb.path("default_pools");
        if (!defaults.isArray() || defaults.isEmpty()) {
            return Optional.of("default_pools: at least one pool is required");
        }
        for (JsonNode pool : defaults) {
            if (!pool.isTextual() || !pools.contains(pool.asText())) {
                return Optional.of("default_pools: pool " + pool + " does not exist");
            }
        }
        JsonNode fallback = lb.path("fallback_pool");
        if (!fallback.isMissingNode() && !(fallback.isTextual() && pools.contains(fallback.asText()))) {
            return Optional.of("fallback_pool: pool " + fallback + " does not exist");
        }
        JsonNode steering = lb.path("random_steering");
        if (steering.isMissingNode() || steering.isNull()) {
            return Optional.empty();
        }
        if (!steering.isObject()) {
            return Optional.of("random_steering: must be an object");
        }
        if (steering.has("default_weight") && !weight(steering.get("default_weight"))) {
            return Optional.of("random_steering.default_weight: " + steering.get("default_weight") + " is not a number from 0 to 1");
        }
        JsonNode weights = steering.path("pool_weights");
        if (weights.isMissingNode()) {
            return Optional.empty();
        }
        if (!weights.isObject()) {
            return Optional.of("random_steering.pool_weights: must be an object");
        }
        for (Map.Entry<String, JsonNode> entry : weights.properties()) {
            if (!pools.contains(entry.getKey())) {
                return Optional.of("random_steering.pool_weights: pool " + entry.getKey() + " does not exist");
            }
            if (!weight(entry.getValue())) {
                return Optional.of("random_steering.pool_weights." + entry.getKey() + ": " + entry.getValue()
                        + " is not a number from 0 to 1");
            }
        }
        return Optional.empty();
    }

    private static boolean weight(JsonNode value) {
        return value.isNumber() && value.decimalValue().signum() >= 0 && value.decimalValue().compareTo(BigDecimal.ONE) <= 0;
    }

    private ObjectNode success(ObjectNode result) {
        ObjectNode envelope = json.createObjectNode();
        envelope.put("success", true);
        envelope.putArray("errors");
        envelope.putArray("messages");
        envelope.set("result", result.deepCopy());
        return envelope;
    }

    private ObjectNode error(int code, String message) {
        ObjectNode envelope = json.createObjectNode();
        envelope.put("success", false);
        ArrayNode errors = envelope.putArray("errors");
        errors.addObject().put("code", code).put("message", message);
        envelope.putArray("messages");
        envelope.putNull("result");
        return envelope;
    }

    private String envelope(int code, String message) {
        return error(code, message).toString();
    }

    private void respond(HttpExchange exchange, int status, ObjectNode body) throws IOException {
        send(exchange, status, "application/json", json.writeValueAsString(body));
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
    }
}
