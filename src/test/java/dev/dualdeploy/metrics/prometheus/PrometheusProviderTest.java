package dev.dualdeploy.metrics.prometheus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricQuery;
import dev.dualdeploy.metrics.Window;
import dev.dualdeploy.testing.PrometheusPeer;
import dev.dualdeploy.testing.TrafficService;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider against a real Prometheus scraping a service that serves a known error rate per side. */
class PrometheusProviderTest {

    private static final String ERROR_RATE = "sum(rate(http_requests_total{app=\"loan-api\",side=\"%s\",code=~\"5..\"}[5s]))"
            + " / sum(rate(http_requests_total{app=\"loan-api\",side=\"%s\"}[5s]))";

    @TempDir
    static Path dir;
    private static TrafficService service;
    private static PrometheusPeer prometheus;
    private static PrometheusProvider provider;

    @BeforeAll
    static void start() throws Exception {
        service = new TrafficService(1_000, Map.of("kubernetes", 0.05, "legacy", 0.01));
        prometheus = PrometheusPeer.start(dir.resolve("prometheus"), service.target(), "gate", "s3cret gate");
        provider = new PrometheusProvider(prometheus.address(), new PrometheusProvider.Auth.Basic("gate", "s3cret gate"),
                Duration.ofSeconds(5));
        // Enough history for the range test: four one-second steps of a five-second rate.
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(250)).until(() -> {
            Instant end = Instant.now();
            return provider.measure(query("kubernetes"), new Window(end.minusSeconds(4), end, Duration.ofSeconds(1))).samples().size() >= 4;
        });
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (service != null) {
            service.close();
        }
    }

    private static MetricQuery query(String side) {
        return new MetricQuery("error_rate", side, String.format(ERROR_RATE, side, side));
    }

    @Test
    void anInstantQueryMeasuresTheErrorRateEachSideServes() {
        Window now = Window.ending(Instant.now(), Duration.ofSeconds(1));

        Measurement kubernetes = provider.measure(query("kubernetes"), now);
        Measurement legacy = provider.measure(query("legacy"), now);

        assertThat(kubernetes.error()).isEmpty();
        assertThat(kubernetes.value().getAsDouble()).isCloseTo(0.05, within(0.005));
        assertThat(legacy.value().getAsDouble()).isCloseTo(0.01, within(0.003));
    }

    @Test
    void aRangeQueryGivesOneSamplePerStep() {
        Instant end = Instant.now();
        Measurement series = provider.measure(query("kubernetes"), new Window(end.minusSeconds(3), end, Duration.ofSeconds(1)));

        assertThat(series.error()).isEmpty();
        assertThat(series.samples()).hasSizeBetween(3, 4).allSatisfy(v -> assertThat(v).isCloseTo(0.05, within(0.005)));
    }

    @Test
    void faultsAreMeasurementsWithAnErrorNotExceptions() throws Exception {
        Window now = Window.ending(Instant.now(), Duration.ofSeconds(1));

        Measurement badQuery = provider.measure(new MetricQuery("error_rate", "kubernetes", "sum(rate(http_requests_total[5s]"), now);
        assertThat(badQuery.error()).hasValueSatisfying(e -> assertThat(e).startsWith("prometheus refused error_rate (HTTP 400): bad_data"));

        Measurement manySeries = provider.measure(new MetricQuery("requests", "kubernetes", "rate(http_requests_total[5s])"), now);
        assertThat(manySeries.error()).hasValueSatisfying(e -> assertThat(e).contains("returned 4 series; the query must aggregate"));

        PrometheusProvider anonymous = new PrometheusProvider(prometheus.address(), new PrometheusProvider.Auth.None(), Duration.ofSeconds(5));
        assertThat(anonymous.measure(query("kubernetes"), now).error()).hasValueSatisfying(e -> assertThat(e).contains("HTTP 401"));

        Measurement empty = provider.measure(new MetricQuery("error_rate", "vm", String.format(ERROR_RATE, "vm", "vm")), now);
        assertThat(empty.error()).isEmpty();
        assertThat(empty.value()).as("no data is not zero").isEmpty();
    }

    @Test
    void aStoppedPrometheusIsAnErrorMeasurement() throws Exception {
        PrometheusPeer second = PrometheusPeer.start(dir.resolve("second"), service.target(), null, null);
        PrometheusProvider toSecond = new PrometheusProvider(second.address(), new PrometheusProvider.Auth.None(), Duration.ofSeconds(2));
        second.close();

        Measurement measurement = toSecond.measure(query("kubernetes"), Window.ending(Instant.now(), Duration.ofSeconds(1)));

        assertThat(measurement.error()).hasValueSatisfying(e -> assertThat(e).contains("cannot be reached"));
        assertThat(measurement.value()).isEmpty();
    }

    @Test
    void credentialsNeverShowInText() {
        assertThat(new PrometheusProvider.Auth.Basic("gate", "s3cret gate").toString()).doesNotContain("s3cret");
        assertThat(new PrometheusProvider.Auth.Bearer("tok3n").toString()).doesNotContain("tok3n");
    }
}
