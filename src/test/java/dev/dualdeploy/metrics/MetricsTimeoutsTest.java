package dev.dualdeploy.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.metrics.cloudwatch.CloudWatchProvider;
import dev.dualdeploy.metrics.prometheus.PrometheusProvider;
import dev.dualdeploy.testing.LoopbackListener;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;

/**
 * Issue 8 item 16: a metrics backend that accepts connections and never answers gives a failed measurement within
 * the query timeout (plus a retry for CloudWatch), with a one-line reason, instead of holding the gate.
 */
class MetricsTimeoutsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final Window WINDOW = new Window(Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-01-01T00:05:00Z"),
            Duration.ofMinutes(1));

    private LoopbackListener silent;
    private String previousKey;
    private String previousSecret;

    @BeforeEach
    void silentPeer() throws IOException {
        previousKey = System.getProperty("aws.accessKeyId");
        previousSecret = System.getProperty("aws.secretAccessKey");
        System.setProperty("aws.accessKeyId", "test");
        System.setProperty("aws.secretAccessKey", "test");
        silent = LoopbackListener.silent();
    }

    @AfterEach
    void stop() throws IOException {
        silent.close();
        restore("aws.accessKeyId", previousKey);
        restore("aws.secretAccessKey", previousSecret);
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }

    private String url() {
        return silent.url();
    }

    @Test
    void prometheusThatNeverAnswersFailsTheMeasurementWithinItsTimeout() {
        PrometheusProvider provider = new PrometheusProvider(URI.create(url() + "/"), new PrometheusProvider.Auth.None(), TIMEOUT);
        long start = System.nanoTime();
        Measurement m = provider.measure(new MetricQuery("error_rate", "kubernetes", "up"), WINDOW);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(m.error()).hasValueSatisfying(e -> assertThat(e).endsWith("cannot be reached: no answer from " + url() + " within 1s"));
    }

    @Test
    void cloudWatchThatNeverAnswersFailsTheMeasurementWithinItsTimeout() {
        try (CloudWatchClient client = CloudWatchProvider.connect("eu-west-1", Optional.of(URI.create(url())), TIMEOUT)) {
            long start = System.nanoTime();
            Measurement m = new CloudWatchProvider(client).measure(new MetricQuery("error_rate", "kubernetes",
                    "AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum TargetGroup=targetgroup/k8s/1"), WINDOW);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
            assertThat(m.error()).hasValueSatisfying(e -> assertThat(e)
                    .contains("no answer from " + url() + " within 1s").doesNotContain("\n"));
        }
    }
}
