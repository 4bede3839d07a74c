package dev.dualdeploy.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus (Debian's package) on a free loopback port, scraping one target, optionally behind
 * Basic authentication through its web config (a bcrypt hash made with {@code htpasswd}).
 */
public final class PrometheusPeer implements AutoCloseable {

    private final Process process;
    private final int port;

    private PrometheusPeer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts Prometheus scraping {@code target} every second; with a user and password, its API needs Basic auth. */
    public static PrometheusPeer start(Path work, String target, String user, String password) throws IOException, InterruptedException {
        return start(work, target, user, password, "1s");
    }

    /** Starts Prometheus scraping {@code target} at the given interval (such as {@code 250ms}). */
    public static PrometheusPeer start(Path work, String target, String user, String password, String scrapeInterval)
            throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/bin/prometheus"))) {
            throw new IllegalStateException("prometheus is not installed; the README's test command (./run-tests) installs it");
        }
        Files.createDirectories(work);
        Path config = work.resolve("prometheus.yml");
        Files.writeString(config, "global:\n  scrape_interval: " + scrapeInterval + "\n  evaluation_interval: 1s\nscrape_configs:\n"
                + "  - job_name: loan-api\n    static_configs:\n      - targets: ['" + target + "']\n");
        Path webConfig = null;
        if (user != null) {
            Process hash = new ProcessBuilder("htpasswd", "-nbBC", "5", user, password).start();
            String line = new String(hash.getInputStream().readAllBytes()).strip();
            if (hash.waitFor() != 0) {
                throw new IllegalStateException("htpasswd failed; the README's test command installs apache2-utils");
            }
            webConfig = work.resolve("web.yml");
            Files.writeString(webConfig, "basic_auth_users:\n  " + user + ": '" + line.substring(line.indexOf(':') + 1) + "'\n");
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = LoopbackProcesses.freePort();
            ProcessBuilder builder = new ProcessBuilder("/usr/bin/prometheus", "--config.file=" + config,
                    "--storage.tsdb.path=" + work.resolve("data-" + port), "--web.listen-address=127.0.0.1:" + port,
                    "--log.level=warn");
            if (webConfig != null) {
                builder.command().add("--web.config.file=" + webConfig);
            }
            Process process = builder.redirectErrorStream(true).redirectOutput(work.resolve("prometheus-" + port + ".log").toFile()).start();
            if (LoopbackProcesses.awaitReady(process, "http://127.0.0.1:" + port + "/-/ready", Set.of(200, 401), Duration.ofSeconds(20))) {
                return new PrometheusPeer(process, port);
            }
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        throw new IllegalStateException("prometheus did not start; see the prometheus-*.log files in " + work);
    }

    public URI address() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Stops Prometheus, as an outage in the middle of a gate would. */
    @Override
    public void close() {
        LoopbackProcesses.stop(process);
    }
}
