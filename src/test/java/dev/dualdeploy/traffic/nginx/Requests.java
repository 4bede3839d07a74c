package dev.dualdeploy.traffic.nginx;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real HTTP requests through nginx from a few threads at once, counting which side answered each. Through
 * {@link HttpURLConnection} (kept-alive connections): {@code java.net.http.HttpClient} spends about a millisecond of CPU
 * on each request, which on a small build machine made 40,000 requests take half a minute.
 */
final class Requests {

    private static final int THREADS = 16;

    private Requests() {
    }

    /**
     * What {@code total} requests found.
     *
     * @param errors requests that failed or answered anything but 200 {@code legacy} / {@code kubernetes}
     */
    record Count(int legacy, int kubernetes, int errors) {

        int total() {
            return legacy + kubernetes + errors;
        }

        /** The Kubernetes share of the requests, in percent. */
        double kubernetesShare() {
            return 100.0 * kubernetes / total();
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.2f%% kubernetes (%d kubernetes, %d legacy, %d errors of %d)", kubernetesShare(),
                    kubernetes, legacy, errors, total());
        }
    }

    /** Sends {@code total} GETs to paths under {@code base}. */
    static Count send(URI base, int total) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger legacy = new AtomicInteger();
        AtomicInteger kubernetes = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                workers.add(threads.submit(() -> {
                    for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                        String side = get(base.resolve("req/" + i));
                        (side.equals("legacy") ? legacy : side.equals("kubernetes") ? kubernetes : errors).incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(30, TimeUnit.SECONDS);
            }
            return new Count(legacy.get(), kubernetes.get(), errors.get());
        } finally {
            threads.shutdownNow();
        }
    }

    /** The body of a 200 answer, or a description of what came instead. */
    private static String get(URI uri) {
        try {
            HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
            connection.setConnectTimeout(5_000);
            connection.setReadTimeout(10_000);
            int status = connection.getResponseCode();
            InputStream body = status < 400 ? connection.getInputStream() : connection.getErrorStream();
            // Read to the end and close (not disconnect): that hands the connection back for the next request.
            try (body) {
                String text = body == null ? "" : new String(body.readAllBytes(), StandardCharsets.UTF_8);
                return status == 200 ? text : "HTTP " + status;
            }
        } catch (IOException e) {
            return e.toString();
        }
    }
}
