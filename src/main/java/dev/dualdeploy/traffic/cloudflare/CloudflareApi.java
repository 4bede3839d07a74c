package dev.dualdeploy.traffic.cloudflare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.net.Faults;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.TrafficException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * Cloudflare's v4 REST API as the router needs it: one JSON object fetched ({@code GET}) or patched ({@code PATCH}),
 * with the token as {@code Authorization: Bearer}, the v4 envelope unwrapped ({@code success}, {@code errors},
 * {@code result}), and throttling and server faults retried. Cloudflare ships no Java SDK, so this is the JDK's
 * {@link HttpClient} and Jackson. Numbers are read as exact decimals and written back as read, so a field the router
 * passes through ({@code default_weight: 0.20}) is not rewritten as a binary double.
 *
 * <p>Retries: a 429 or a 5xx is tried again up to {@value #MAX_ATTEMPTS} attempts in all, after the server's
 * {@code Retry-After} (seconds, at most {@link #MAX_RETRY_AFTER}) or else an exponential backoff with jitter (from
 * {@link #FIRST_BACKOFF}, doubling, at most {@link #MAX_BACKOFF}; each pause between half and all of its step). A
 * network fault (refused, no answer) is tried again as often as {@link Timeouts#retries()} says. Any other 4xx is an
 * answer, not a fault, and is not repeated: the same request would be refused again.
 */
final class CloudflareApi {

    static final int MAX_ATTEMPTS = 5;
    /** A server asking for longer than this would hold a cutover step (and its rollback) for minutes. */
    /**
     * The longest wait a {@code Retry-After} gets: every call of a revert may wait this long up to four times, and traffic
     * on a failing side cannot wait minutes for a rate limit (a call that is still refused is an error a person sees).
     */
    static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(10);
    static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(8);
    /** The largest answer read; a load balancer is a few kilobytes, and more is not an answer we can use. */
    static final int MAX_BODY = 1 << 20;
    /** How many of an answer's errors a message quotes. */
    private static final int MAX_ERRORS = 5;

    final ObjectMapper json = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();
    private final URI base;
    private final String token;
    private final String tokenEnv;
    private final String where;
    private final Timeouts timeouts;
    private final Sleeper sleeper;
    private final DoubleSupplier jitter;
    private final HttpClient http;

    /**
     * @param base the API's base URL, ending in {@code /} ({@code https://api.cloudflare.com/client/v4/})
     * @param token the API token; never printed
     * @param tokenEnv the environment variable the token came from, for messages
     * @param where what messages start with: the router's {@code describe()}
     * @param jitter a number in {@code [0, 1)} for each backoff
     */
    CloudflareApi(URI base, String token, String tokenEnv, String where, Timeouts timeouts, Sleeper sleeper, DoubleSupplier jitter) {
        this.base = base;
        this.token = token;
        this.tokenEnv = tokenEnv;
        this.where = where;
        this.timeouts = timeouts;
        this.sleeper = sleeper;
        this.jitter = jitter;
        // Redirects are never followed: the JDK client would send the token along to wherever they point.
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeouts.connect())
                .followRedirects(HttpClient.Redirect.NEVER);
        if ("http".equalsIgnoreCase(base.getScheme())) {
            // Plain HTTP is only a local simulator: no h2c upgrade dance with a request body.
            builder.version(HttpClient.Version.HTTP_1_1);
        }
        this.http = builder.build();
    }

    /** The {@code result} of {@code GET path}, an object. */
    ObjectNode get(String path) {
        return send("GET", path, null);
    }

    /** The {@code result} of {@code PATCH path} with this body: the object as it is after the change. */
    ObjectNode patch(String path, ObjectNode body) {
        return send("PATCH", path, body);
    }

    /** The base URL as a message may show it. */
    String endpoint() {
        return Text.redactUrl(base.toString());
    }

    private ObjectNode send(String method, String path, ObjectNode body) {
        HttpRequest request = request(method, path, body);
        for (int attempt = 1; ; attempt++) {
            HttpResponse<InputStream> response;
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                if (attempt > timeouts.retries()) {
                    // No cause: a client's exception text may carry the request line, and a later one its headers.
                    throw new TrafficException(where + ": cannot reach the Cloudflare API: "
                            + Faults.describe(e, endpoint(), timeouts.read()));
                }
                pause(backoff(attempt));
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TrafficException(where + ": interrupted while waiting for the Cloudflare API");
            }
            int status = response.statusCode();
            String text = read(response);
            boolean again = status == 429 || status >= 500;
            if (again && attempt < MAX_ATTEMPTS) {
                Duration backoff = backoff(attempt);
                pause(retryAfter(response).orElse(backoff));
                continue;
            }
            if (again) {
                throw new TrafficException(Text.line(where + ": " + method + " still answered HTTP " + status + " after " + MAX_ATTEMPTS
                        + " attempts" + errors(text)));
            }
            return result(method, status, text);
        }
    }

    private HttpRequest request(String method, String path, ObjectNode body) {
        HttpRequest.BodyPublisher publisher;
        try {
            publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            // The body holds the load balancer as Cloudflare answered it: Jackson's message could quote any of it.
            throw new TrafficException(where + ": cannot write the request (" + e.getClass().getSimpleName() + ")");
        }
        HttpRequest.Builder builder = HttpRequest.newBuilder(base.resolve(path)).timeout(timeouts.read())
                .header("Authorization", "Bearer " + token).header("Accept", "application/json").method(method, publisher);
        if (body != null) {
            builder.header("Content-Type", "application/json");
        }
        return builder.build();
    }

    /** The body as text, at most {@link #MAX_BODY} bytes of it. */
    private String read(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                throw new TrafficException(where + ": the Cloudflare API answered HTTP " + response.statusCode() + " with more than "
                        + MAX_BODY + " bytes");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TrafficException(where + ": the Cloudflare API's answer broke off: "
                    + Faults.describe(e, endpoint(), timeouts.read()));
        }
    }

    /** The answer's {@code result}, or the refusal it says, as an exception a person can act on. */
    private ObjectNode result(String method, int status, String text) {
        JsonNode envelope = parse(text);
        if (status == 401 || status == 403) {
            throw new TrafficException(Text.line(where + ": the Cloudflare API refused the token in " + tokenEnv + " (HTTP " + status
                    + errors(text) + "); it needs the permission Zone > Load Balancers > Edit on this zone"));
        }
        if (status == 404) {
            throw new TrafficException(Text.line(where + ": not found (HTTP 404" + errors(text)
                    + "); check the zone and load balancer ids"));
        }
        if (status < 200 || status > 299) {
            throw new TrafficException(Text.line(where + ": " + method + " refused (HTTP " + status + errors(text) + ")"));
        }
        if (envelope == null || !envelope.path("success").isBoolean()) {
            throw new TrafficException(where + ": " + method + " answered HTTP " + status + " without the v4 envelope");
        }
        if (!envelope.get("success").booleanValue()) {
            throw new TrafficException(Text.line(where + ": " + method + " refused (HTTP " + status + ", success: false"
                    + errors(text) + ")"));
        }
        JsonNode result = envelope.path("result");
        if (!result.isObject()) {
            throw new TrafficException(where + ": " + method + " answered without a load balancer in result");
        }
        return (ObjectNode) result;
    }

    /** The answer as JSON, or null if it is not (an edge's HTML page). The parser's message is dropped: it quotes the body. */
    private JsonNode parse(String text) {
        try {
            return text.isBlank() ? null : json.readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /**
     * The envelope's errors as {@code : [1002] message; [1003] message (chained: [6111] …)}, each message quoted as foreign
     * text (a server may echo what it was sent), or {@code ""} when the answer carries none.
     */
    private String errors(String text) {
        JsonNode envelope = parse(text);
        if (envelope == null || !envelope.path("errors").isArray() || envelope.get("errors").isEmpty()) {
            return "";
        }
        List<String> quoted = new ArrayList<>();
        for (JsonNode error : envelope.get("errors")) {
            if (quoted.size() == MAX_ERRORS) {
                quoted.add("… " + (envelope.get("errors").size() - MAX_ERRORS) + " more");
                break;
            }
            StringBuilder one = new StringBuilder(error(error));
            if (error.path("error_chain").isArray() && !error.get("error_chain").isEmpty()) {
                List<String> chain = new ArrayList<>();
                error.get("error_chain").forEach(e -> chain.add(error(e)));
                one.append(" (chained: ").append(String.join("; ", chain.subList(0, Math.min(MAX_ERRORS, chain.size())))).append(")");
            }
            quoted.add(one.toString());
        }
        return ": " + String.join("; ", quoted);
    }

    private static String error(JsonNode error) {
        return "[" + Text.foreign(error.path("code").asText("?")) + "] " + Text.foreign(error.path("message").asText(""));
    }

    /** The server's {@code Retry-After} in whole seconds, capped; empty if absent or not a number of seconds. */
    private static Optional<Duration> retryAfter(HttpResponse<?> response) {
        Optional<String> header = response.headers().firstValue("Retry-After").map(String::strip);
        if (header.isEmpty() || !header.get().matches("\\d{1,9}")) {
            return Optional.empty();
        }
        Duration asked = Duration.ofSeconds(Long.parseLong(header.get()));
        return Optional.of(asked.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : asked);
    }

    /** The pause before the attempt after {@code attempt}: half its step plus up to half again, at random. */
    private Duration backoff(int attempt) {
        long step = Math.min(MAX_BACKOFF.toMillis(), FIRST_BACKOFF.toMillis() << Math.min(attempt - 1, 20));
        double random = Math.max(0, Math.min(1, jitter.getAsDouble()));
        return Duration.ofMillis(step / 2 + Math.round(random * (step / 2)));
    }

    private void pause(Duration duration) {
        sleeper.sleep(duration);
        if (Thread.currentThread().isInterrupted()) {
            throw new TrafficException(where + ": interrupted while waiting to try the Cloudflare API again");
        }
    }

    @Override
    public String toString() {
        return "CloudflareApi[" + endpoint() + "]";
    }
}
