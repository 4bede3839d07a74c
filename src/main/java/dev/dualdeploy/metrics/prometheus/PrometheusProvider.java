package dev.dualdeploy.metrics.prometheus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricQuery;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Window;
import dev.dualdeploy.net.Faults;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.text.Text;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Prometheus through its HTTP API: {@code /api/v1/query} for a single value at the window's end, and
 * {@code /api/v1/query_range} for one sample per step. The query must return at most one series; more is an error
 * (the template is missing a {@code sum}). HTTPS uses the JVM's trust store; authentication is a bearer token or
 * Basic credentials, sent on every request and never printed.
 */
public final class PrometheusProvider implements MetricsProvider {

    /** How the provider authenticates; {@code toString} never shows the secret. */
    public sealed interface Auth permits Auth.None, Auth.Bearer, Auth.Basic {
        /** The Authorization header's value, or empty. */
        Optional<String> header();

        /** The values that must never be printed: the header and the secret it carries, in the clear. */
        default List<String> secrets() {
            return header().map(h -> List.of(h, h.substring(h.indexOf(' ') + 1))).orElse(List.of());
        }

        /**
         * Text from the server with this auth's secrets masked: a proxy or server that echoes the request's
         * Authorization header into its error body must not put the token into the build log.
         */
        default String redact(String text) {
            String out = text;
            for (String secret : secrets()) {
                if (!secret.isEmpty()) {
                    out = out.replace(secret, "****");
                }
            }
            return out;
        }

        /** No authentication. */
        record None() implements Auth {
            public Optional<String> header() {
                return Optional.empty();
            }
        }

        /** A bearer token. */
        record Bearer(String token) implements Auth {
            public Optional<String> header() {
                return Optional.of("Bearer " + token);
            }

            @Override
            public String toString() {
                return "Bearer[****]";
            }
        }

        /** Basic credentials. */
        record Basic(String username, String password) implements Auth {
            @Override
            public List<String> secrets() {
                List<String> all = new ArrayList<>(Auth.super.secrets());
                all.add(password);
                return all;
            }

            public Optional<String> header() {
                return Optional.of("Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8)));
            }

            @Override
            public String toString() {
                return "Basic[" + username + ", ****]";
            }
        }
    }

    private final URI address;
    private final Auth auth;
    private final Duration timeout;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();

    public PrometheusProvider(URI address, Auth auth, Duration timeout) {
        this.address = URI.create(address.toString().replaceAll("/+$", "") + "/");
        this.auth = auth;
        this.timeout = timeout;
        // Connecting takes at most the CLI's connect timeout (or the query timeout, if shorter); the query's own
        // timeout bounds the wait for its answer.
        Duration connect = Timeouts.current().connect();
        this.http = HttpClient.newBuilder().connectTimeout(connect.compareTo(timeout) < 0 ? connect : timeout).build();
    }

    @Override
    public Measurement measure(MetricQuery query, Window window) {
        String path = window.single()
                ? "api/v1/query?query=" + encode(query.expression()) + "&time=" + seconds(window.end().toEpochMilli())
                : "api/v1/query_range?query=" + encode(query.expression()) + "&start=" + seconds(window.start().toEpochMilli())
                        + "&end=" + seconds(window.end().toEpochMilli()) + "&step=" + seconds(window.step().toMillis());
        HttpRequest.Builder request = HttpRequest.newBuilder(address.resolve(path)).timeout(timeout).GET();
        auth.header().ifPresent(h -> request.header("Authorization", h));
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            // "no answer from … within 10s" rather than a bare exception class (issue 8 item 16).
            String where = address.getHost() + ":" + address.getPort();
            return Measurement.failed(query, "prometheus at " + where + " cannot be reached: "
                    + Faults.describe(e, address.getScheme() + "://" + where, timeout));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Measurement.failed(query, "interrupted while asking prometheus");
        }
        JsonNode body;
        try {
            body = json.readTree(response.body());
        } catch (IOException e) {
            return Measurement.failed(query, "prometheus answered HTTP " + response.statusCode() + " without JSON");
        }
        if (!"success".equals(body.path("status").asText())) {
            return Measurement.failed(query, "prometheus refused " + query.metric() + " (HTTP " + response.statusCode() + "): "
                    + Text.line(auth.redact(body.path("errorType").asText("") + " " + body.path("error").asText("")), 500));
        }
        JsonNode result = body.path("data").path("result");
        String type = body.path("data").path("resultType").asText();
        if (type.equals("scalar")) {
            return Measurement.of(query, List.of(number(result.get(1))));
        }
        if (result.size() > 1) {
            return Measurement.failed(query, query.metric() + " returned " + result.size() + " series; the query must aggregate"
                    + " them to one (for example with sum)");
        }
        if (result.isEmpty()) {
            return Measurement.of(query, List.of());
        }
        List<Double> samples = new ArrayList<>();
        if (type.equals("matrix")) {
            for (JsonNode point : result.get(0).path("values")) {
                samples.add(number(point.get(1)));
            }
        } else {
            samples.add(number(result.get(0).path("value").get(1)));
        }
        samples.removeIf(v -> v.isNaN() || v.isInfinite());
        return Measurement.of(query, samples);
    }

    private static double number(JsonNode value) {
        try {
            return Double.parseDouble(value.asText());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static String seconds(long millis) {
        return String.format(java.util.Locale.ROOT, "%.3f", millis / 1000.0);
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }
}
