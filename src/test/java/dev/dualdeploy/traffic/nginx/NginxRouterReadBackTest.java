package dev.dualdeploy.traffic.nginx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.time.SteppedClock;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NginxRouter#read} asks the running nginx, never the file: a file nginx has not loaded is not the split, and
 * {@link NginxRouter#set} does not return until the running nginx reports what it wrote.
 */
class NginxRouterReadBackTest {

    @TempDir
    Path dir;

    private NginxPeer nginx;

    @BeforeEach
    void startAt25Percent() throws Exception {
        nginx = NginxPeer.start(dir, Split.of(0));
        new NginxRouter(nginx.spec(Duration.ofSeconds(10)), Clock.systemUTC(), new Sleeps(Sleeper.SYSTEM)).set(Split.of(25));
    }

    @AfterEach
    void stopNginx() {
        nginx.close();
    }

    @Test
    void aFileNginxDidNotLoadIsNotTheSplitAndSetSaysWhatNginxStillApplies() throws Exception {
        SteppedClock clock = new SteppedClock(Instant.parse("2026-03-01T09:00:00Z"));
        Sleeps sleeps = new Sleeps(clock);
        // A reload command that does nothing: the file changes, the running nginx does not.
        NginxRouter router = new NginxRouter(nginx.spec(List.of("true"), Duration.ofSeconds(5)), clock, sleeps);

        assertThatThrownBy(() -> router.set(Split.of(75))).isInstanceOf(TrafficException.class)
                .hasMessage("nginx did not apply generation 3 (75% on kubernetes) within 5s after its reload: the running nginx"
                        + " (probe " + nginx.probe() + ") still reports generation 2 (25% on kubernetes); " + nginx.include()
                        + " holds generation 3, which nginx applies at its next reload");

        assertThat(Files.readString(nginx.include())).startsWith("# dualdeploy split, generation 3 ").contains("    75% kubernetes;\n");
        assertThat(router.read()).isEqualTo(new Split(25, "generation 2"));
        assertThat(sleeps.asked()).as("the read-back's backoff, stepped on the injected clock").startsWith(
                Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMillis(800),
                Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertThat(sleeps.asked().stream().reduce(Duration.ZERO, Duration::plus)).isEqualTo(Duration.ofSeconds(5));

        // The message was true: the next reload applies what the file holds.
        assertThat(new ProcessBuilder(nginx.reloadCommand()).start().waitFor()).isZero();
        NginxRouter reader = new NginxRouter(nginx.spec(Duration.ofSeconds(5)), Clock.systemUTC(), new Sleeps(Sleeper.SYSTEM));
        Split after = reader.read();
        for (int i = 0; i < 100 && after.reported().equals("generation 2"); i++) {
            Thread.sleep(20);
            after = reader.read();
        }
        assertThat(after).isEqualTo(new Split(75, "generation 3"));
    }

    @Test
    void anUnreachableProbeIsNamedWithoutItsCredentials() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        URI probe = URI.create("http://probe-user:probe-password-1@127.0.0.1:" + closed + "/__dualdeploy?token=query-secret-2");
        NginxRouter router = new NginxRouter(withProbe(probe), Clock.systemUTC(), new Sleeps(Sleeper.SYSTEM));

        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class)
                .hasMessage("cannot read the split from nginx at http://***@127.0.0.1:" + closed + "/__dualdeploy?token=***: connection"
                        + " refused by http://***@127.0.0.1:" + closed + "/__dualdeploy?token=***");
        assertThat(router.describe()).isEqualTo("nginx include " + nginx.include() + " (probe http://***@127.0.0.1:" + closed
                + "/__dualdeploy?token=***)");
    }

    @Test
    void aProbeWithoutTheHeaderSaysWhatTheLocationMustSend() {
        NginxRouter router = new NginxRouter(withProbe(nginx.base().resolve("/not-the-probe")), Clock.systemUTC(), Sleeper.SYSTEM);

        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class)
                .hasMessage("nginx's probe " + nginx.base().resolve("/not-the-probe") + " answered HTTP 200 with no X-Dualdeploy-Split"
                        + " header; its location must send exactly one: add_header X-Dualdeploy-Split $dualdeploy_upstream_split always;");
    }

    @Test
    void aRunningNginxThatSplitsBetweenOtherUpstreamsIsNotThisSplit() {
        RouterSpec.Nginx spec = nginx.spec(Duration.ofSeconds(5));
        NginxRouter router = new NginxRouter(new RouterSpec.Nginx(spec.file(), "legacy_v2", "kubernetes", spec.variable(), spec.test(),
                spec.reload(), spec.probe(), spec.timeout()), Clock.systemUTC(), Sleeper.SYSTEM);

        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class)
                .hasMessage("the running nginx (probe " + nginx.probe() + ") splits between the upstreams legacy (legacy) and"
                        + " kubernetes (kubernetes), not the configured legacy_v2 and kubernetes");
    }

    @Test
    void aHeaderDualdeployDidNotWriteIsQuotedBounded() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            exchange.getResponseHeaders().add(NginxRouter.HEADER, "generation=7 kubernetes=250 " + "x".repeat(5_000));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        try {
            URI probe = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/__dualdeploy");
            NginxRouter router = new NginxRouter(withProbe(probe), Clock.systemUTC(), Sleeper.SYSTEM);

            assertThatThrownBy(router::read).isInstanceOf(TrafficException.class)
                    .hasMessage("nginx's probe " + probe + " answered X-Dualdeploy-Split: \"generation=7 kubernetes=250 "
                            + "x".repeat(300 - 28) + "… (4728 more characters)\", which is not a split dualdeploy writes"
                            + " (generation=N kubernetes=P legacy-upstream=… kubernetes-upstream=…)");
        } finally {
            server.stop(0);
        }
    }

    private RouterSpec.Nginx withProbe(URI probe) {
        RouterSpec.Nginx spec = nginx.spec(Duration.ofSeconds(5));
        return new RouterSpec.Nginx(spec.file(), spec.legacyUpstream(), spec.kubernetesUpstream(), spec.variable(), spec.test(),
                spec.reload(), probe, spec.timeout());
    }
}
