package dev.dualdeploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The gate: section of dualdeploy.yaml: the issue's example, the defaults, and one error per mistake. */
class GateConfigTest {

    private static final String STAGE = """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: prod
                legacy: { ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 } }
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
                gate:
            """;

    private static final String FULL = STAGE + """
                  canary: kubernetes
                  soak: 15m
                  interval: 30s
                  checks:
                    - http:   { url: 'https://loan-api.internal/health', expect: 200 }
                    - slo:    { metric: error_rate, max: 0.01 }
                    - slo:    { metric: latency_p95_ms, max: 300 }
                    - compare: { metric: error_rate, baseline: legacy }
                    - compare: { metric: latency_p95_ms, baseline: before-deploy, confidence: 0.99, tolerance: 0.2, early_confidence: 1 }
                    - sequential: { baseline: legacy, alpha: 0.05 }
                  metrics:
                    provider: prometheus
                    address: http://prometheus:9090
                    auth: { bearer_token_env: PROMETHEUS_TOKEN }
                    queries:
                      requests: 'sum(increase(http_requests_total{app="{{service}}",side="{{side}}"}[{{window}}]))'
                      errors: 'sum(increase(http_requests_total{app="{{service}}",side="{{side}}",code=~"5.."}[{{window}}]))'
                      error_rate: 'sum(rate(http_requests_total{app="{{service}}",side="{{side}}",code=~"5.."}[{{window}}])) / sum(rate(http_requests_total{app="{{service}}",side="{{side}}"}[{{window}}]))'
                      latency_p95_ms: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{side="{{side}}"}[{{window}}]))) * 1000'
                  min_requests: 500
                  on_error: pause
            """;

    private static GateSpec gate(String yaml) {
        return new ConfigLoader().parse("dualdeploy.yaml", yaml, Path.of("/repo")).stage("prod").orElseThrow().gate();
    }

    private static List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> gate(yaml));
        assertThat(e).as("expected the config to be rejected").isNotNull();
        return e.problems().stream().map(p -> p.path() + ": " + p.problem()).toList();
    }

    @Test
    void theIssuesExampleParses() {
        GateSpec gate = gate(FULL);

        assertThat(gate.canary()).contains(Side.KUBERNETES);
        assertThat(gate.soak()).isEqualTo(Duration.ofMinutes(15));
        assertThat(gate.interval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(gate.followSoak()).as("three intervals by default").isEqualTo(Duration.ofSeconds(90));
        assertThat(gate.checks()).containsExactly(
                new CheckSpec.Http("https://loan-api.internal/health", 200, 3, Duration.ofSeconds(5)),
                new CheckSpec.Slo("error_rate", 0.01, 2),
                new CheckSpec.Slo("latency_p95_ms", 300, 2),
                new CheckSpec.Compare("error_rate", new CheckSpec.Baseline(Optional.of(Side.LEGACY)), 0.95, 0.10, 5, 0.999),
                new CheckSpec.Compare("latency_p95_ms", CheckSpec.Baseline.BEFORE_DEPLOY, 0.99, 0.2, 5, 1),
                new CheckSpec.Sequential(new CheckSpec.Baseline(Optional.of(Side.LEGACY)), 0.05, 0.2, 0.002, 10));
        MetricsSpec metrics = gate.metrics().orElseThrow();
        assertThat(metrics.provider()).isEqualTo(MetricsSpec.Provider.PROMETHEUS);
        assertThat(metrics.address()).contains(URI.create("http://prometheus:9090"));
        assertThat(metrics.auth().bearerTokenEnv()).contains("PROMETHEUS_TOKEN");
        assertThat(metrics.queries()).containsOnlyKeys("requests", "errors", "error_rate", "latency_p95_ms");
        assertThat(gate.minRequests()).isEqualTo(500);
        assertThat(gate.onError()).isEqualTo(GateSpec.OnError.PAUSE);
        assertThat(gate.onInconclusive()).as("inconclusive fails unless said otherwise").isEqualTo(GateSpec.OnInconclusive.FAIL);
        assertThat(gate.analyses()).isTrue();
    }

    @Test
    void anEmptyGateAnalysesNothing() {
        GateSpec gate = gate(STAGE + "      {}\n");

        assertThat(gate.analyses()).isFalse();
    }

    @Test
    void cloudWatchTakesARegionAndNoAddress() {
        GateSpec gate = gate(STAGE + """
                  checks: [ { slo: { metric: error_rate, max: 0.01 } } ]
                  metrics:
                    provider: cloudwatch
                    region: eu-west-1
                    delay: 2m
                    queries:
                      error_rate: 'e = AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum TargetGroup=targetgroup/{{side}}/1; r = AWS/ApplicationELB RequestCount Sum TargetGroup=targetgroup/{{side}}/1; e / r'
            """);

        MetricsSpec metrics = gate.metrics().orElseThrow();
        assertThat(metrics.provider()).isEqualTo(MetricsSpec.Provider.CLOUDWATCH);
        assertThat(metrics.region()).contains("eu-west-1");
        assertThat(metrics.delay()).isEqualTo(Duration.ofMinutes(2));
        assertThat(problems(STAGE + """
                  checks: [ { slo: { metric: error_rate, max: 0.01 } } ]
                  metrics: { provider: cloudwatch, address: 'http://x:1', queries: { error_rate: x } }
            """)).containsExactlyInAnyOrder("stages[0].gate.metrics.region: missing required key",
                "stages[0].gate.metrics.address: address is for prometheus; cloudwatch uses region and the AWS credential chain");
    }

    @Test
    void everyMistakeIsReportedWithItsPath() {
        List<String> problems = problems(STAGE + """
                  canary: vm
                  soak: 1m
                  interval: 2m
                  min_requests: -1
                  on_error: retry
                  on_inconclusive: maybe
                  checks:
                    - canary: { metric: error_rate }
                    - slo: { metric: error_rate }
                    - slo: { metric: latency_ms, max: 300 }
                    - compare: { metric: error_rate, baseline: prod, confidence: 1.5 }
                    - sequential: { baseline: legacy }
                    - http: { url: 'ftp://x/{{host}}' }
                  metrics:
                    provider: graphite
                    auth: { bearer_token_env: TOKEN, username_env: U }
                    queries:
                      error_rate: 'rate(x{side="{{side}}",zone="{{zone}}"}[{{window}}])'
            """);

        assertThat(problems).containsExactlyInAnyOrder(
                "stages[0].gate.canary: 'vm' is not a side; expected legacy or kubernetes",
                "stages[0].gate.interval: the interval (2m) is longer than the soak (1m); a soak holds one or more intervals",
                "stages[0].gate.min_requests: '-1' is not a whole number from 1 to 1000000000",
                "stages[0].gate.min_requests: min_requests needs metrics with a 'requests' query",
                "stages[0].gate.on_error: 'retry' is not one of [fail, pause]",
                "stages[0].gate.on_inconclusive: 'maybe' is not one of [fail, pass]",
                "stages[0].gate.checks[0].canary: unknown check; expected one of [compare, http, sequential, slo]",
                "stages[0].gate.checks[1].slo.max: missing required key; expected the highest acceptable value",
                "stages[0].gate.checks[3].compare.baseline: 'prod' is not a side; expected legacy or kubernetes, or before-deploy",
                "stages[0].gate.checks[3].compare.confidence: '1.5' is not a number from 0.5 to 0.9999",
                "stages[0].gate.checks[5].http.url: unknown placeholder {{host}}; expected one of [{{service}}, {{side}}, {{stage}}, {{window}}]",
                "stages[0].gate.checks[5].http.url: 'ftp://x/{{host}}' is not an http or https URL with a host",
                "stages[0].gate.metrics.provider: 'graphite' is not a metrics provider; expected prometheus or cloudwatch",
                "stages[0].gate.metrics.auth: choose a bearer token or a user and password, not both",
                "stages[0].gate.metrics.queries.error_rate: unknown placeholder {{zone}}; expected one of [{{service}}, {{side}}, {{stage}}, {{window}}]");
    }

    @Test
    void checksMustHaveTheQueriesTheyRead() {
        List<String> problems = problems(STAGE + """
                  canary: kubernetes
                  min_requests: 100
                  checks:
                    - slo: { metric: latency_p95_ms, max: 300 }
                    - sequential: { baseline: legacy }
                    - compare: { metric: error_rate, baseline: kubernetes }
                  metrics:
                    provider: prometheus
                    address: http://prometheus:9090
                    queries: { error_rate: 'x' }
            """);

        assertThat(problems).containsExactlyInAnyOrder(
                "stages[0].gate.checks[0]: the metric 'latency_p95_ms' has no query; metrics.queries has [error_rate]",
                "stages[0].gate.checks[1]: the sequential test counts requests and errors, so metrics.queries needs both 'requests' and 'errors'",
                "stages[0].gate.checks[2]: the baseline is the canary side itself; a canary is judged against the other side",
                "stages[0].gate.min_requests: min_requests needs a 'requests' query to count requests with");
        assertThat(problems(STAGE + "      checks: [ { slo: { metric: error_rate, max: 0.01 } } ]\n"))
                .containsExactly("stages[0].gate.metrics: missing; the slo, compare and sequential checks need a metrics provider and queries");
    }

    @Test
    void aCanaryOrASideBaselineNeedsBothSides() {
        String oneSide = """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: prod
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                    gate:
                      canary: kubernetes
                      checks: [ { compare: { metric: error_rate, baseline: legacy } } ]
                      metrics: { provider: prometheus, address: 'http://p:9090', queries: { error_rate: x } }
                """;

        assertThat(problems(oneSide)).containsExactlyInAnyOrder(
                "stages[0].gate.canary: a canary is judged against the other side, so the stage needs both a legacy and a kubernetes section",
                "stages[0].gate.checks[0].compare.baseline: baseline: legacy compares one side with the other, so the stage needs both sides;"
                        + " with one side, compare with its own past");
    }
}
