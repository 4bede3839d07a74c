package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.local.CloudWatchSimulator;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.MetricDatum;
import software.amazon.awssdk.services.cloudwatch.model.StandardUnit;

/**
 * {@code dualdeploy gate} as a user runs it, on CloudWatch: the CLI's own SDK client reads ALB target-group metrics
 * from the AWS Query simulator, judges the kubernetes side against legacy, prints JSON with every check's samples
 * and writes JUnit XML. Two stages read two pairs of target groups: one healthy, one whose kubernetes side serves
 * 10% errors.
 */
class GateCommandTest {

    private static final String ALB = "AWS/ApplicationELB";
    private static CloudWatchSimulator sim;
    private static Path config;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        LocalEnvironment.useLocalCredentials();
        sim = CloudWatchSimulator.start();
        // What an ALB reports every 250 ms, for the next minute: 250 requests a point per target group, p95 ~120 ms.
        try (CloudWatchClient client = CloudWatchClient.builder().region(Region.EU_WEST_1).endpointOverride(sim.endpoint())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClientBuilder(UrlConnectionHttpClient.builder()).build()) {
            Instant from = Instant.now().minusSeconds(2);
            List<MetricDatum> batch = new ArrayList<>();
            for (int i = 0; i < 4 * 64; i++) {
                Instant at = from.plusMillis(250L * i);
                for (String group : List.of("good-legacy", "good-kubernetes", "bad-legacy", "bad-kubernetes")) {
                    String tg = "targetgroup/" + group + "/1";
                    batch.add(datum("RequestCount", tg, at, 250, StandardUnit.COUNT));
                    batch.add(datum("HTTPCode_Target_5XX_Count", tg, at, group.equals("bad-kubernetes") ? 25 : 1, StandardUnit.COUNT));
                    batch.add(datum("TargetResponseTime", tg, at, 0.1 + (i % 5) * 0.01, StandardUnit.SECONDS));
                }
                if (batch.size() >= 120) {
                    List<MetricDatum> data = List.copyOf(batch);
                    client.putMetricData(r -> r.namespace(ALB).metricData(data));
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                client.putMetricData(r -> r.namespace(ALB).metricData(batch));
            }
        }
        config = dir.resolve("dualdeploy.yaml");
        StringBuilder yaml = new StringBuilder("service: loan-api\nimage: registry.example.com/loan-api\nstages:\n");
        for (String stage : List.of("good", "bad")) {
            yaml.append("""
                      - name: %s
                        legacy: { ecs: { cluster: %s, service: loan-api, container: app, region: eu-west-1 } }
                        kubernetes: { namespace: loan, deployment: loan-api, container: app }
                        gate:
                          canary: kubernetes
                          soak: 6s
                          interval: 2s
                          min_requests: 100
                          checks:
                            - slo: { metric: error_rate, max: 0.02 }
                            - compare: { metric: latency_p95_ms, baseline: legacy, min_windows: 3 }
                            - sequential: { baseline: legacy, tau: 0.01 }
                          metrics:
                            provider: cloudwatch
                            region: eu-west-1
                            endpoint: '%s'
                            queries:
                              requests: 'AWS/ApplicationELB RequestCount Sum TargetGroup=targetgroup/{{stage}}-{{side}}/1'
                              errors: 'AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum TargetGroup=targetgroup/{{stage}}-{{side}}/1'
                              error_rate: 'e = AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum TargetGroup=targetgroup/{{stage}}-{{side}}/1; r = AWS/ApplicationELB RequestCount Sum TargetGroup=targetgroup/{{stage}}-{{side}}/1; e / r'
                              latency_p95_ms: 't = AWS/ApplicationELB TargetResponseTime p95 TargetGroup=targetgroup/{{stage}}-{{side}}/1; t * 1000'
                    """.formatted(stage, stage, sim.endpoint()));
        }
        Files.writeString(config, yaml.toString());
    }

    private static MetricDatum datum(String name, String targetGroup, Instant at, double value, StandardUnit unit) {
        return MetricDatum.builder().metricName(name).timestamp(at).value(value).unit(unit)
                .dimensions(d -> d.name("TargetGroup").value(targetGroup)).build();
    }

    @AfterAll
    static void stop() {
        if (sim != null) {
            sim.close();
        }
    }

    @Test
    void aHealthyCanaryPassesWithEveryCheckAndItsSamplesInJsonAndJUnit() throws Exception {
        Path junit = dir.resolve("gate-good.xml");

        Run run = Cli.run("gate", "-f", config.toString(), "--stage", "good", "--side", "kubernetes", "--output", "json",
                "--junit", junit.toString());

        assertThat(run.code()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.path("command").asText()).isEqualTo("gate");
        assertThat(json.path("outcome").asText()).isEqualTo("PASS");
        assertThat(json.path("decision").asText()).isEqualTo("PASS");
        assertThat(json.path("windows").asInt()).isEqualTo(3);
        JsonNode checks = json.path("checks");
        assertThat(checks).hasSize(3);
        assertThat(checks.get(0).path("name").asText()).isEqualTo("slo error_rate [kubernetes]");
        assertThat(checks.get(0).path("reason").asText()).startsWith("kubernetes error_rate 0.400% is within the limit of 2.00%");
        assertThat(checks.get(1).path("samples").path("kubernetes")).hasSize(3);
        assertThat(checks.get(1).path("samples").path("legacy")).hasSize(3);
        assertThat(checks.get(1).path("samples").path("kubernetes").get(0).asDouble()).isBetween(100.0, 150.0);
        assertThat(checks.get(2).path("outcome").asText()).isEqualTo("PASS");
        // One line per side and metric of each window, on that side's prefix (issue 9: one event per line), and never
        // an empty "gate window 1/3: " line.
        assertThat(run.err()).contains("[good/legacy] gate window 1/3: legacy ").contains("[good/kubernetes] gate window 3/3: kubernetes ");
        assertThat(run.err().lines().filter(l -> l.contains(" window "))).allSatisfy(l -> assertThat(l).doesNotEndWith(": "));
        assertThat(run.err().lines().findFirst()).hasValueSatisfying(l -> assertThat(l).isEqualTo("run " + json.path("run").asText()));

        String xml = Files.readString(junit);
        assertThat(xml).contains("<testsuite name=\"gate good\" tests=\"3\" failures=\"0\" errors=\"0\" skipped=\"0\"")
                .contains("<testcase classname=\"gate.good\" name=\"slo error_rate [kubernetes]\"")
                .contains("name=\"compare latency_p95_ms [kubernetes vs legacy]\"")
                .contains("name=\"sequential error_rate [kubernetes vs legacy]\"");
    }

    @Test
    void aCanaryWithTenTimesTheErrorsFailsEarlyAndTheJUnitCaseSaysWhy() throws Exception {
        Path junit = dir.resolve("gate-bad.xml");

        Run run = Cli.run("gate", "-f", config.toString(), "--stage", "bad", "--side", "kubernetes", "--junit", junit.toString());

        assertThat(run.code()).as(run.out() + run.err()).isEqualTo(ExitCodes.FAILED);
        assertThat(run.out()).startsWith("gate bad: FAIL → FAIL - ");
        assertThat(run.out()).contains("FAIL  sequential error_rate [kubernetes vs legacy]: kubernetes error_rate 10.0% vs legacy 0.400%");
        String xml = Files.readString(junit);
        assertThat(xml).contains("<testcase classname=\"gate.bad\" name=\"sequential error_rate [kubernetes vs legacy]\"")
                .contains("<failure message=\"kubernetes error_rate 10.0% vs legacy 0.400% after 2,000 kubernetes requests")
                .contains("<skipped message=\"INCONCLUSIVE: not decided: the gate stopped after 1 of 3 windows\"/>");
    }

    @Test
    void aStageWithoutChecksOrAnUnsetCredentialIsBadInput() throws Exception {
        Path other = dir.resolve("other.yaml");
        Files.writeString(other, Files.readString(config).replace("provider: cloudwatch\n", "provider: prometheus\n")
                .replaceAll("region: eu-west-1\n( *)endpoint: '[^']*'", "address: 'http://127.0.0.1:9'\n$1auth: { bearer_token_env: PROMETHEUS_TEST_UNSET_TOKEN }"));

        Run unset = Cli.run("gate", "-f", other.toString(), "--stage", "good");
        assertThat(unset.code()).as(unset.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(unset.err()).contains("metrics.auth.bearer_token_env names the environment variable PROMETHEUS_TEST_UNSET_TOKEN, which is not set");

        Run unknown = Cli.run("gate", "-f", config.toString(), "--stage", "nope");
        assertThat(unknown.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(unknown.err()).contains("no stage 'nope'");
    }
}
