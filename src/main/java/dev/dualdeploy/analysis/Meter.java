package dev.dualdeploy.analysis;

import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricQuery;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Window;
import dev.dualdeploy.text.Text;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Measures what a gate's checks judge: each metric on each side over a window, through the provider, with the
 * gate's query templates filled in ({@code {{service}}}, {@code {{stage}}}, {@code {{side}}}, {@code {{window}}}),
 * and HTTP probes. It decides nothing: a provider fault comes back as a measurement with an error, a probe that got
 * no answer as an answer with code 0, and the trackers and the soak loop decide what that means.
 */
public final class Meter {

    /**
     * What an HTTP probe got.
     *
     * @param code the status code, or 0 when nothing answered
     * @param said how to say it in a reason: {@code answered 503}, or {@code did not answer (ConnectException)}
     */
    public record Answer(int code, String said) {
    }

    private final String service;
    private final String stage;
    private final GateSpec spec;
    private final MetricsProvider provider;
    private final Clock clock;
    private final Duration delay;
    private final boolean countsRequests;
    private HttpClient http;

    /**
     * @param provider where the metrics come from; may be null when the gate has only http checks
     * @param clock the injected clock, for the soak-long windows measured at the end
     */
    public Meter(String service, String stage, GateSpec spec, MetricsProvider provider, Clock clock) {
        this.service = service;
        this.stage = stage;
        this.spec = spec;
        this.provider = provider;
        this.clock = clock;
        this.delay = spec.metrics().map(m -> m.delay()).orElse(Duration.ZERO);
        this.countsRequests = spec.metrics().map(m -> m.queries().containsKey("requests")).orElse(false);
    }

    /** How long after a window ends its metrics are complete at the provider (the metrics' {@code delay}). */
    public Duration delay() {
        return delay;
    }

    /** Whether the gate measures {@code requests}, so that every window counts each side's requests. */
    public boolean countsRequests() {
        return countsRequests;
    }

    /** The gate's limits: its interval and {@code min_requests}. */
    GateSpec spec() {
        return spec;
    }

    /** Measures every metric each side needs over the window, in the order they were asked for. */
    public Map<Side, Map<String, Measurement>> measure(Map<Side, Set<String>> needs, Window window) {
        Map<Side, Map<String, Measurement>> values = new EnumMap<>(Side.class);
        needs.forEach((side, metrics) -> {
            Map<String, Measurement> measured = new LinkedHashMap<>();
            for (String metric : metrics) {
                measured.put(metric, measure(metric, side, window));
            }
            values.put(side, measured);
        });
        return values;
    }

    /** The window's measurements as the trackers read them. */
    public WindowReading reading(Map<Side, Map<String, Measurement>> values) {
        return new WindowReading(values, countsRequests, spec.minRequests());
    }

    /** Measures one metric on one side over a window. */
    Measurement measure(String metric, Side side, Window window) {
        String expression = fill(spec.metrics().orElseThrow().queries().get(metric), Optional.of(side), window.step());
        return provider.measure(new MetricQuery(metric, side.label(), expression), window);
    }

    /** Measures one metric on one side over the whole soak, as one value, ending now less the delay. */
    Measurement soakLong(String metric, Side side, Duration soak) {
        return measure(metric, side, Window.ending(clock.instant().minus(delay), soak));
    }

    /** A query or URL with its placeholders filled in: the service, the stage, the side (or nothing) and the window. */
    String fill(String template, Optional<Side> side, Duration window) {
        return template.replace("{{service}}", service).replace("{{stage}}", stage)
                .replace("{{side}}", side.map(Side::label).orElse("")).replace("{{window}}", promDuration(window));
    }

    /** A duration as PromQL writes it: {@code 30s}, or {@code 1500ms}. */
    static String promDuration(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }

    /**
     * An error's message with the URL's credentials hidden: a message may quote the URL, its user information or its
     * query, which may carry a token (see {@link Text#redactUrl}).
     */
    static String hidden(String message, URI url) {
        String hidden = message.replace(url.toString(), Text.redactUrl(url.toString()));
        for (String secret : new String[] {url.getRawUserInfo(), url.getUserInfo(), url.getRawQuery(), url.getQuery(),
                url.getRawFragment(), url.getFragment()}) {
            if (secret != null && !secret.isEmpty()) {
                hidden = hidden.replace(secret, Text.REDACTED);
            }
        }
        return hidden;
    }

    /**
     * GETs the URL once, without following redirects (a redirect is an answer to judge, not to chase).
     *
     * @return what it got; empty if the thread was interrupted, which is no answer to judge
     */
    Optional<Answer> probe(URI url, Duration timeout) {
        try {
            if (http == null) {
                http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
            }
            HttpResponse<Void> response = http.send(HttpRequest.newBuilder(url).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return Optional.of(new Answer(response.statusCode(), "answered " + response.statusCode()));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.of(new Answer(0, "did not answer (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + hidden(e.getMessage(), url)) + ")"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
