package dev.dualdeploy.traffic.nginx;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.local.SideServer;
import dev.dualdeploy.traffic.Split;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx (Debian's package) with its own prefix in a temporary directory (config, pid, logs and temp paths all
 * there), listening on a free loopback port in front of two small JDK servers on loopback ({@link SideServer}) that answer
 * {@code legacy} or {@code kubernetes}. nginx runs in the foreground as this JVM's child ({@code daemon off;}), so
 * {@link #close} can stop it and its workers even when a test fails.
 *
 * <p>The workers never read a file of the prefix (the master reads the config and opens the logs), and the requests are
 * small GETs that nginx never buffers to its temp paths; so when the tests run as root the workers can stay the
 * default unprivileged user.
 */
final class NginxPeer implements AutoCloseable {

    static final String PROBE_PATH = "/__dualdeploy";
    static final String VARIABLE = RouterSpec.Nginx.DEFAULT_VARIABLE;
    private static final int WORKERS = 2;

    private final Path dir;
    private final Path nginx;
    private final List<SideServer> upstreams;
    private Process process;
    private int port;

    private NginxPeer(Path dir, Path nginx, List<SideServer> upstreams) {
        this.dir = dir;
        this.nginx = nginx;
        this.upstreams = upstreams;
    }

    /** Where the Debian package puts nginx, or else the first one on the PATH. */
    static Path binary() {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/usr/sbin/nginx")));
        for (String entry : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!entry.isEmpty()) {
                candidates.add(Path.of(entry, "nginx"));
            }
        }
        return candidates.stream().filter(Files::isExecutable).findFirst().orElseThrow(() -> new IllegalStateException(
                "nginx is not installed (looked at /usr/sbin/nginx and the PATH); the README's test command (./run-tests)"
                        + " installs it, or install the Debian package nginx"));
    }

    /**
     * Starts both upstreams and nginx, with the include file already holding generation 1 at {@code initial} percent on
     * Kubernetes (as a person bootstraps it from {@link NginxRouter#include}); nginx cannot start without the variable.
     */
    static NginxPeer start(Path dir, Split initial) throws IOException, InterruptedException {
        Path nginx = binary();
        SideServer legacy = SideServer.start("legacy");
        NginxPeer peer = new NginxPeer(dir, nginx, List.of(legacy, SideServer.start("kubernetes")));
        try {
            Files.createDirectories(dir.resolve("temp"));
            Files.writeString(peer.include(), NginxRouter.include(peer.spec(List.of("true"), Duration.ofSeconds(5)), initial, 1));
            peer.launch();
            return peer;
        } catch (IOException | InterruptedException | RuntimeException e) {
            peer.close();
            throw e;
        }
    }

    private void launch() throws IOException, InterruptedException {
        for (int attempt = 0; attempt < 5; attempt++) {
            port = freePort();
            writeConfig(config(), port);
            process = new ProcessBuilder(command()).redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
            if (awaitProbe(Duration.ofSeconds(10))) {
                return;
            }
            stopProcess();
        }
        throw new IllegalStateException("nginx did not start; see " + dir.resolve("error.log") + " and " + dir.resolve("nginx.out")
                + ":\n" + Files.readString(dir.resolve("nginx.out")));
    }

    /** The main configuration: the two upstreams, the include, the split location and the probe location. */
    void writeConfig(Path config, int listen) throws IOException {
        String temp = dir.resolve("temp").toString();
        Files.writeString(config, String.join("\n",
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
                // Kept-alive connections to the upstreams: 40,000 requests would otherwise leave as many sockets in TIME_WAIT.
                "    upstream legacy { server " + address(upstreams.get(0)) + "; keepalive 32; }",
                "    upstream kubernetes { server " + address(upstreams.get(1)) + "; keepalive 32; }",
                "    include " + include() + ";",
                "    server {",
                "        listen 127.0.0.1:" + listen + ";",
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

    private static String address(SideServer upstream) {
        return "127.0.0.1:" + upstream.port();
    }

    private List<String> command() {
        return List.of(nginx.toString(), "-p", dir + "/", "-c", config().toString(), "-e", dir.resolve("error.log").toString());
    }

    /** The test command as a user would configure it for this nginx ({@code nginx -t} with its prefix and config). */
    List<String> testCommand() {
        return testCommand(config());
    }

    /** {@code nginx -t} of another main configuration, such as a broken one. */
    List<String> testCommand(Path config) {
        return List.of(nginx.toString(), "-p", dir + "/", "-c", config.toString(), "-e", dir.resolve("error.log").toString(), "-t");
    }

    /** The reload command ({@code nginx -s reload}: the master found through the pid file). */
    List<String> reloadCommand() {
        List<String> reload = new ArrayList<>(command());
        reload.addAll(List.of("-s", "reload"));
        return reload;
    }

    Path config() {
        return dir.resolve("nginx.conf");
    }

    Path include() {
        return dir.resolve("split.conf");
    }

    Path dir() {
        return dir;
    }

    URI probe() {
        return URI.create("http://127.0.0.1:" + port + PROBE_PATH);
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    /** The router spec for this nginx, with its own test and reload commands. */
    RouterSpec.Nginx spec(Duration timeout) {
        return new RouterSpec.Nginx(include(), "legacy", "kubernetes", VARIABLE, testCommand(), reloadCommand(), probe(), timeout);
    }

    /** The router spec with another reload command (such as {@code true}: nginx never loads the file). */
    RouterSpec.Nginx spec(List<String> reload, Duration timeout) {
        return new RouterSpec.Nginx(include(), "legacy", "kubernetes", VARIABLE, testCommand(), reload, probe(), timeout);
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
     * they hold (under the old split) and exit.
     */
    void awaitOldWorkersGone() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (process.descendants().count() > WORKERS) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("nginx's old workers did not exit within 10s: " + process.descendants().count()
                        + " processes");
            }
            Thread.sleep(10);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Stops nginx with its workers (killed if they do not stop within seconds) and both upstreams. */
    @Override
    public void close() {
        stopProcess();
        upstreams.forEach(SideServer::close);
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
