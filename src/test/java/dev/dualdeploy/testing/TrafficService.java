package dev.dualdeploy.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small service with Prometheus metrics: request counters per side and status code, as a real service behind
 * both orchestrators would expose them. Each side serves {@code rate} requests a second, of which the configured
 * fraction fail with 500; the counters advance every 100 ms. It can be told to serve a good or a bad release.
 */
public final class TrafficService implements AutoCloseable {

    private final HttpServer server;
    private final ScheduledExecutorService clock;
    private final Map<String, Double> errorRates = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> ok = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> failed = new ConcurrentHashMap<>();
    private final double rate;

    public TrafficService(double requestsPerSecond, Map<String, Double> sideErrorRates) throws IOException {
        this.rate = requestsPerSecond;
        errorRates.putAll(sideErrorRates);
        sideErrorRates.keySet().forEach(side -> {
            ok.put(side, new AtomicLong());
            failed.put(side, new AtomicLong());
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
        errorRates.put(side, fraction);
    }

    /** Where Prometheus scrapes: {@code 127.0.0.1:PORT}. */
    public String target() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void tick() {
        long perTick = Math.round(rate / 10);
        errorRates.forEach((side, fraction) -> {
            long errors = Math.round(perTick * fraction);
            failed.get(side).addAndGet(errors);
            ok.get(side).addAndGet(perTick - errors);
        });
    }

    private String exposition() {
        StringBuilder out = new StringBuilder("# TYPE http_requests_total counter\n");
        for (String side : errorRates.keySet()) {
            out.append("http_requests_total{app=\"loan-api\",side=\"").append(side).append("\",code=\"200\"} ").append(ok.get(side).get()).append('\n');
            out.append("http_requests_total{app=\"loan-api\",side=\"").append(side).append("\",code=\"500\"} ").append(failed.get(side).get()).append('\n');
        }
        return out.toString();
    }

    @Override
    public void close() {
        clock.shutdownNow();
        server.stop(0);
    }
}
