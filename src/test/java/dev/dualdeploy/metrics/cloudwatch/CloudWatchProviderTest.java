package dev.dualdeploy.metrics.cloudwatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.dualdeploy.local.CloudWatchSimulator;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricQuery;
import dev.dualdeploy.metrics.Window;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.MetricDatum;
import software.amazon.awssdk.services.cloudwatch.model.StandardUnit;

/** The provider through the real SDK against the AWS Query wire-protocol simulator, with ALB target-group metrics. */
class CloudWatchProviderTest {

    private static final String ALB = "AWS/ApplicationELB";
    private static final Instant END = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    private static final Instant START = END.minus(Duration.ofMinutes(5));
    private static CloudWatchSimulator sim;
    private static CloudWatchClient client;
    private static CloudWatchProvider provider;

    @BeforeAll
    static void start() {
        sim = CloudWatchSimulator.start();
        client = CloudWatchClient.builder().region(Region.EU_WEST_1).endpointOverride(sim.endpoint())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClientBuilder(UrlConnectionHttpClient.builder()).build();
        provider = new CloudWatchProvider(client);
        // Five minutes of an ALB in front of two target groups: legacy at 1% errors, k8s at 4%, k8s 30% slower.
        for (int minute = 0; minute < 5; minute++) {
            Instant at = START.plus(Duration.ofMinutes(minute)).plusSeconds(10);
            List<MetricDatum> data = new ArrayList<>();
            for (String group : List.of("legacy", "k8s")) {
                String tg = "targetgroup/" + group + "/1";
                double errors = group.equals("k8s") ? 40 : 10;
                data.add(datum("RequestCount", tg, at, 1000));
                data.add(datum("HTTPCode_Target_5XX_Count", tg, at, errors));
                List<Double> latencies = new ArrayList<>();
                List<Double> counts = new ArrayList<>();
                for (int ms = 1; ms <= 100; ms++) {
                    latencies.add((group.equals("k8s") ? 1.3 : 1.0) * ms / 1000.0);
                    counts.add(1.0);
                }
                data.add(MetricDatum.builder().metricName("TargetResponseTime").timestamp(at).unit(StandardUnit.SECONDS)
                        .dimensions(d -> d.name("TargetGroup").value(tg)).values(latencies).counts(counts).build());
            }
            client.putMetricData(r -> r.namespace(ALB).metricData(data));
        }
    }

    private static MetricDatum datum(String name, String targetGroup, Instant at, double value) {
        return MetricDatum.builder().metricName(name).timestamp(at).value(value).unit(StandardUnit.COUNT)
                .dimensions(d -> d.name("TargetGroup").value(targetGroup)).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        sim.close();
    }

    private static MetricQuery errorRate(String group) {
        String tg = "TargetGroup=targetgroup/" + group + "/1";
        return new MetricQuery("error_rate", group, "errors = " + ALB + " HTTPCode_Target_5XX_Count Sum " + tg + ";\n"
                + "total = " + ALB + " RequestCount Sum " + tg + "; errors / total");
    }

    @Test
    void metricMathOverTargetGroupCountsGivesTheErrorRatePerPeriod() {
        Measurement k8s = provider.measure(errorRate("k8s"), new Window(START, END, Duration.ofMinutes(1)));
        Measurement legacy = provider.measure(errorRate("legacy"), new Window(START, END, Duration.ofMinutes(1)));

        assertThat(k8s.error()).isEmpty();
        assertThat(k8s.samples()).hasSize(5).allSatisfy(v -> assertThat(v).isCloseTo(0.04, within(1e-9)));
        assertThat(legacy.samples()).hasSize(5).allSatisfy(v -> assertThat(v).isCloseTo(0.01, within(1e-9)));
    }

    @Test
    void aPercentileOfTargetResponseTimeOverTheWholeWindow() {
        Measurement p95 = provider.measure(new MetricQuery("latency_p95", "k8s",
                ALB + " TargetResponseTime p95 TargetGroup=targetgroup/k8s/1"), Window.ending(END, Duration.ofMinutes(5)));

        assertThat(p95.error()).isEmpty();
        assertThat(p95.value().getAsDouble()).isCloseTo(0.095 * 1.3, within(1e-9));
    }

    @Test
    void throttlingIsRetriedBySdkAndFaultsAreErrorMeasurements() {
        int before = sim.requests();
        sim.throttle(2);
        Measurement retried = provider.measure(errorRate("k8s"), new Window(START, END, Duration.ofMinutes(1)));
        assertThat(retried.samples()).hasSize(5);
        assertThat(sim.requests() - before).isEqualTo(3);

        Measurement badMath = provider.measure(new MetricQuery("error_rate", "k8s", "a = " + ALB + " RequestCount Sum; SUM(METRICS())"),
                Window.ending(END, Duration.ofMinutes(5)));
        assertThat(badMath.error()).hasValueSatisfying(e -> assertThat(e).contains("CloudWatch GetMetricData for error_rate failed")
                .contains("the simulator evaluates only 'a op b'"));

        Measurement badSyntax = provider.measure(new MetricQuery("error_rate", "k8s", "errors = ; total"), Window.ending(END, Duration.ofMinutes(5)));
        assertThat(badSyntax.error()).hasValueSatisfying(e -> assertThat(e).startsWith("the CloudWatch query for error_rate is not valid"));

        Measurement none = provider.measure(errorRate("vm"), new Window(START, END, Duration.ofMinutes(1)));
        assertThat(none.error()).isEmpty();
        assertThat(none.value()).as("no data is not zero").isEmpty();

        sim.throttle(10);
        Measurement throttled = provider.measure(errorRate("k8s"), new Window(START, END, Duration.ofMinutes(1)));
        sim.throttle(0);
        assertThat(throttled.error()).hasValueSatisfying(e -> assertThat(e).contains("Rate exceeded"));
    }
}
