package dev.dualdeploy.bench;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.local.SideServer;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.nginx.NginxRouter;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real nginx (Debian's package) with its own prefix in a directory of the bench's (config, pid, logs and temp paths
 * all there), listening on a free loopback port in front of two {@link SideServer}s on loopback that answer
 * {@code legacy} or {@code kubernetes}; the include file that {@link NginxRouter} writes picks one per request. nginx
 * runs in the foreground as this JVM's child ({@code daemon off;}), so {@link #close} stops it and its workers.
 *
 * <p>The same setup as the nginx router's tests ({@code NginxPeer}), re-created here because main code cannot use test
 * classes. The workers never read a file of the prefix, and the requests are small GETs nginx never buffers to disk, so
 * when the bench runs as root the workers can stay the default unprivileged user.
 */
final class LoopbackNginx implements AutoCloseable {

    static final String PROBE_PATH = "/__dualdeploy";
    static final String VARIABLE = RouterSpec.Nginx.DEFAULT_VARIABLE;
    /** Where the Debian package installs nginx; a non-root PATH often lacks {@code /usr/sbin}. */
    static final Path DEBIAN_BINARY = Path.of("/usr/sbin/nginx");
    private static final int WORKERS = 2;
    /** Client threads for {@link #count}: enough to keep both workers busy without queueing in the JDK. */
    private static final int THREADS = 16;

    private final Path dir;
    private final Path nginx;
    private final List<SideServer> sides;
    private Process process;
    private int port;

    private LoopbackNginx(Path dir, Path nginx, List<SideServer> sides) {
        this.dir = dir;
        this.nginx = nginx;
        this.sides = sides;
    }

    /** Where nginx is: Debian's package path, else the first {@code nginx} on the PATH; empty if there is none. */
    static Optional<Path> binary() {
        List<Path> candidates = new ArrayList<>(List.of(DEBIAN_BINARY));
        for (String entry : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!entry.isEmpty()) {
                candidates.add(Path.of(entry, "nginx"));
            }
        }
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    /**
     * Starts both sides and nginx in {@code dir}, with the include file already holding generation 1 at {@code initial}
     * percent on Kubernetes (as a person bootstraps it from {@link NginxRouter#include}): nginx cannot start without it.
     */
    static LoopbackNginx start(Path dir, Path nginx, Split initial) throws IOException, InterruptedException {
        SideServer legacy = SideServer.start("legacy");
        LoopbackNginx peer;
        try {
            peer = new LoopbackNginx(dir, nginx, List.of(legacy, SideServer.start("kubernetes")));
        } catch (IOException | RuntimeException e) {
            legacy.close();
            throw e;
        }
        try {
            Files.createDirectories(dir.resolve("temp"));
            Files.writeString(peer.include(), NginxRouter.include(peer.spec(Duration.ofSeconds(5)), initial, 1));
            peer.launch();
            return peer;
        } catch (IOException | InterruptedException | RuntimeException e) {
            peer.close();
            throw e;
        }
    }

    /** What {@code nginx -v} says, such as {@code nginx/1.22.1}; {@code nginx} if it says nothing readable. */
    static String version(Path nginx) {
        try {
            Process v = new ProcessBuilder(nginx.toString(), "-v").redirectErrorStream(true).start();
            String text = new String(v.getInputStream().readNBytes(200), StandardCharsets.UTF_8).strip();
            v.waitFor(5, TimeUnit.SECONDS);
            int at = text.indexOf("nginx/");
            return at < 0 ? "nginx" : text.substring(at).split("\\s")[0];
        } catch (IOException e) {
            return "nginx";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "nginx";
        }
    }

    private void launch() throws IOException, InterruptedException {
        for (int attempt = 0; attempt < 5; attempt++) {
            // A free port may be taken by someone else before nginx binds it: then try another.
            port = freePort();
            writeConfig();
            process = new ProcessBuilder(command()).redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile())
                    .start();
            if (awaitProbe(Duration.ofSeconds(10))) {
                return;
            }
            stopProcess();
        }
        throw new IllegalStateException("nginx did not start; see " + dir.resolve("error.log") + " and " + dir.resolve("nginx.out")
                + ": " + Files.readString(dir.resolve("nginx.out")).strip());
    }

    /** The main configuration: the two upstreams, the include, the split location and the probe location. */
    private void writeConfig() throws IOException {
        String temp = dir.resolve("temp").toString();
        Files.writeString(config(), String.join("\n",
                "daemon off;",
                "worker_processes " + WORKERS + ";",
                "pid " + dir.resolve("nginx.pid") + ";",
                "error_log " + dir.resolve("error.log") + " warn;",
                "events { worker_connections 1024; }",
                "http {",
                "    access_log off;",
                "    client_body_temp_path " + temp + "/body;",
                "    proxy_temp_path " + temp + "/proxy;",
                "    fastcgi_temp_path " + temp + "/fastcgi;",
                "    uwsgi_temp_path " + temp + "/uwsgi;",
                "    scgi_temp_path " + temp + "/scgi;",
                // Kept-alive connections to the sides: 50,000 requests would otherwise leave as many sockets in TIME_WAIT.
                "    upstream legacy { server 127.0.0.1:" + sides.get(0).port() + "; keepalive 32; }",
                "    upstream kubernetes { server 127.0.0.1:" + sides.get(1).port() + "; keepalive 32; }",
                "    include " + include() + ";",
                "    server {",
                "        listen 127.0.0.1:" + port + ";",
                "        location / {",
                "            proxy_pass http://$" + VARIABLE + ";",
                "            proxy_http_version 1.1;",
                "            proxy_set_header Connection \"\";",
                "        }",
                "        location = " + PROBE_PATH + " {",
                "            add_header " + NginxRouter.HEADER + " $" + VARIABLE + "_split always;",
                "            return 204;",
                "        }",
                "    }",
                "}",
                ""));
    }

    private List<String> command() {
        return List.of(nginx.toString(), "-p", dir + "/", "-c", config().toString(), "-e", dir.resolve("error.log").toString());
    }

    /**
     * The router spec for this nginx, as a user would write it for this prefix: {@code nginx -t} as the test command and
     * {@code nginx -s reload} (the master found through the pid file) as the reload command.
     */
    RouterSpec.Nginx spec(Duration timeout) {
        List<String> test = new ArrayList<>(command());
        test.add("-t");
        List<String> reload = new ArrayList<>(command());
        reload.addAll(List.of("-s", "reload"));
        return new RouterSpec.Nginx(include(), "legacy", "kubernetes", VARIABLE, test, reload, probe(), timeout);
    }

    private Path config() {
        return dir.resolve("nginx.conf");
    }

    private Path include() {
        return dir.resolve("split.conf");
    }

    private URI probe() {
        return URI.create("http://127.0.0.1:" + port + PROBE_PATH);
    }

    private boolean awaitProbe(Duration limit) throws InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            try {
                HttpResponse<Void> answer = http.send(HttpRequest.newBuilder(probe()).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (answer.headers().firstValue(NginxRouter.HEADER).isPresent()) {
                    return true;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            Thread.sleep(25);
        }
        return false;
    }

    /**
     * Waits until only the current configuration's workers are left: after a reload the old ones finish the requests
     * they hold (under the old split) and exit, so a measurement taken before would mix the two splits.
     */
    void awaitOldWorkersGone() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (process.descendants().count() > WORKERS) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("nginx's old workers did not exit within 10 s of a reload: "
                        + process.descendants().count() + " processes");
            }
            Thread.sleep(10);
        }
    }

    /**
     * What {@code total} requests through nginx found, sent from {@value #THREADS} threads at once. Through
     * {@link HttpURLConnection} (kept-alive connections): {@code java.net.http.HttpClient} spends about a millisecond of
     * CPU on each request, which on a small machine made 40,000 requests take half a minute.
     */
    Count count(int total) throws InterruptedException {
        URI base = URI.create("http://127.0.0.1:" + port + "/");
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
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(60, TimeUnit.SECONDS);
            }
            return new Count(legacy.get(), kubernetes.get(), errors.get());
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the requests through nginx did not finish: " + e, e);
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

    /**
     * What a batch of requests found.
     *
     * @param errors requests that failed or answered anything but 200 {@code legacy} / {@code kubernetes}
     */
    record Count(int legacy, int kubernetes, int errors) {

        int total() {
            return legacy + kubernetes + errors;
        }

        /** The Kubernetes share of the requests that a side answered, in percent. */
        double kubernetesShare() {
            return legacy + kubernetes == 0 ? 0 : 100.0 * kubernetes / (legacy + kubernetes);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Stops nginx with its workers (killed if they do not stop within seconds) and both sides. */
    @Override
    public void close() {
        stopProcess();
        sides.forEach(SideServer::close);
    }

    private void stopProcess() {
        if (process == null) {
            return;
        }
        List<ProcessHandle> tree = process.descendants().toList();
        try {
            process.destroy(); // SIGTERM: the master stops its workers and exits
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            tree.forEach(ProcessHandle::destroyForcibly);
            process = null;
        }
    }
}
