package dev.dualdeploy.testing;

import com.sun.net.httpserver.HttpServer;
import dev.dualdeploy.local.Sampling;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small service with Prometheus metrics, as a real service behind both orchestrators would expose them: request
 * counters per side, release and status code, and a latency histogram per side and release. Each side serves its
 * own request rate, error fraction and latency (log-normal around a median), and the counters advance every 100 ms;
 * a side can be told to serve a good or a bad release at any time. {@code /health} answers a settable status.
 *
 * <p>Not modelled: real request handling (the counts are synthetic), and any latency shape but log-normal.
 */
public final class TrafficService implements AutoCloseable {

    private static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5};

    /** What one side serves. */
    private static final class SideState {
        volatile double rate;
        volatile double errorFraction;
        volatile double medianSeconds = 0.05;
        volatile String release = "1.0.0";
        final Map<String, long[]> okErrors = new ConcurrentHashMap<>();
        final Map<String, long[]> histogram = new ConcurrentHashMap<>();
        final Map<String, double[]> sums = new ConcurrentHashMap<>();
    }

    private final HttpServer server;
    private final ScheduledExecutorService clock;
    private final Map<String, SideState> sides = new ConcurrentHashMap<>();
    private final SplittableRandom random = new SplittableRandom(7);
    private final AtomicInteger health = new AtomicInteger(200);

    public TrafficService(double requestsPerSecond, Map<String, Double> sideErrorRates) throws IOException {
        sideErrorRates.forEach((side, fraction) -> {
            SideState state = new SideState();
            state.rate = requestsPerSecond;
            state.errorFraction = fraction;
            sides.put(side, state);
        });
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/metrics", exchange -> {
            try (exchange) {
                byte[] body = exposition().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.createContext("/health", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(health.get(), -1);
            }
        });
        server.start();
        clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "traffic");
            t.setDaemon(true);
            return t;
        });
        clock.scheduleAtFixedRate(this::tick, 100, 100, TimeUnit.MILLISECONDS);
    }

    /** Serves a release on a side with this error rate from now on. */
    public void errorRate(String side, double fraction) {
        sides.get(side).errorFraction = fraction;
    }

    /** Serves this many requests a second on a side from now on. */
    public void requestRate(String side, double perSecond) {
        sides.get(side).rate = perSecond;
    }

    /** Serves requests with this median latency on a side from now on. */
    public void medianLatency(String side, double seconds) {
        sides.get(side).medianSeconds = seconds;
    }

    /** Labels the side's requests with this release from now on. */
    public void release(String side, String version) {
        sides.get(side).release = version;
    }

    /** The status {@code /health} answers from now on. */
    public void health(int status) {
        health.set(status);
    }

    /** Where Prometheus scrapes: {@code 127.0.0.1:PORT}. */
    public String target() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** The health endpoint's URL. */
    public String healthUrl() {
        return "http://" + target() + "/health";
    }

    private synchronized void tick() {
        sides.forEach((name, side) -> {
            long perTick = Math.round(side.rate / 10);
            long errors = Math.round(perTick * side.errorFraction);
            long[] counts = side.okErrors.computeIfAbsent(side.release, r -> new long[2]);
            long[] buckets = side.histogram.computeIfAbsent(side.release, r -> new long[BUCKETS.length + 1]);
            double[] sum = side.sums.computeIfAbsent(side.release, r -> new double[1]);
            synchronized (side) {
                counts[0] += perTick - errors;
                counts[1] += errors;
                for (long i = 0; i < perTick; i++) {
                    double latency = side.medianSeconds * Math.exp(0.5 * Sampling.gaussian(random));
                    sum[0] += latency;
                    int b = 0;
                    while (b < BUCKETS.length && latency > BUCKETS[b]) {
                        b++;
                    }
                    buckets[b]++;
                }
            }
        });
    }

    private String exposition() {
        StringBuilder out = new StringBuilder("# TYPE http_requests_total counter\n");
        StringBuilder histogram = new StringBuilder("# TYPE http_request_duration_seconds histogram\n");
        sides.forEach((name, side) -> {
            synchronized (side) {
                side.okErrors.forEach((release, counts) -> {
                    String labels = "app=\"loan-api\",side=\"" + name + "\",release=\"" + release + "\"";
                    out.append("http_requests_total{").append(labels).append(",code=\"200\"} ").append(counts[0]).append('\n');
                    out.append("http_requests_total{").append(labels).append(",code=\"500\"} ").append(counts[1]).append('\n');
                    long[] buckets = side.histogram.get(release);
                    long cumulative = 0;
                    for (int b = 0; b <= BUCKETS.length; b++) {
                        cumulative += buckets[b];
                        histogram.append("http_request_duration_seconds_bucket{").append(labels).append(",le=\"")
                                .append(b == BUCKETS.length ? "+Inf" : Double.toString(BUCKETS[b])).append("\"} ").append(cumulative).append('\n');
                    }
                    histogram.append("http_request_duration_seconds_sum{").append(labels).append("} ").append(side.sums.get(release)[0]).append('\n');
                    histogram.append("http_request_duration_seconds_count{").append(labels).append("} ").append(cumulative).append('\n');
                });
            }
        });
        return out.append(histogram).toString();
    }

    @Override
    public void close() {
        clock.shutdownNow();
        server.stop(0);
    }
}
