package dev.dualdeploy.metrics.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricQuery;
import dev.dualdeploy.metrics.Window;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 8 (found by the review of the merged fixes): a Prometheus, or a proxy in front of it, that echoes the
 * request's Authorization header into its error body must not put the gate's credentials into the build log.
 */
class PrometheusSecretEchoTest {

    private HttpServer server;
    private URI address;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String auth = String.valueOf(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] body = ("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"rejected " + auth + "\\nforged\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(400, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        address = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private Measurement measure(PrometheusProvider.Auth auth) {
        return new PrometheusProvider(address, auth, Duration.ofSeconds(5))
                .measure(new MetricQuery("error_rate", "kubernetes", "sum(x)"), Window.ending(Instant.now(), Duration.ofSeconds(1)));
    }

    @Test
    void aBearerTokenEchoedInTheErrorBodyIsMasked() {
        Measurement measurement = measure(new PrometheusProvider.Auth.Bearer("promBearerS3cr3t"));

        assertThat(measurement.error()).hasValue("prometheus refused error_rate (HTTP 400): bad_data rejected ****\\nforged");
    }

    @Test
    void basicCredentialsEchoedInTheErrorBodyAreMasked() {
        Measurement measurement = measure(new PrometheusProvider.Auth.Basic("gate", "basicPassS3cr3t"));

        assertThat(measurement.error()).hasValueSatisfying(e -> assertThat(e)
                .isEqualTo("prometheus refused error_rate (HTTP 400): bad_data rejected ****\\nforged")
                .doesNotContain("basicPassS3cr3t").doesNotContain("Z2F0ZTpiYXNpY1Bhc3NTM2NyM3Q="));
    }
}
