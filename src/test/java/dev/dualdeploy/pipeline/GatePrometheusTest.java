package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Providers;
import dev.dualdeploy.testing.PrometheusPeer;
import dev.dualdeploy.testing.TrafficService;
import dev.dualdeploy.time.Sleeper;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gate against a real Prometheus scraping a service whose sides serve good or bad releases: the canary
 * (kubernetes) is judged against legacy with the RED queries a team would write.
 */
class GatePrometheusTest {

    private static final String QUERIES = String.join("\n",
            "          requests: 'sum(increase(http_requests_total{app=\"{{service}}\",side=\"{{side}}\"}[{{window}}]))'",
            "          errors: 'sum(increase(http_requests_total{app=\"{{service}}\",side=\"{{side}}\",code=~\"5..\"}[{{window}}]))'",
            "          error_rate: 'sum(rate(http_requests_total{app=\"{{service}}\",side=\"{{side}}\",code=~\"5..\"}[{{window}}]))"
                    + " / sum(rate(http_requests_total{app=\"{{service}}\",side=\"{{side}}\"}[{{window}}]))'",
            "          latency_p95_ms: '1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket"
                    + "{app=\"{{service}}\",side=\"{{side}}\"}[{{window}}])))'") + "\n";

    @TempDir
    static Path dir;
    private static TrafficService service;
    private static PrometheusPeer prometheus;
    private final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        service = new TrafficService(2_000, Map.of("kubernetes", 0.01, "legacy", 0.01));
        prometheus = PrometheusPeer.start(dir.resolve("prometheus"), service.target(), null, null, "250ms");
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

    @BeforeEach
    void goodReleaseEverywhere() {
        for (String side : List.of("kubernetes", "legacy")) {
            service.requestRate(side, 2_000);
            service.errorRate(side, 0.01);
            service.medianLatency(side, 0.05);
        }
    }

    private static StageSpec stage(String address, String soak, String extra) {
        String yaml = """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: prod
                    legacy: { ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 } }
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                    gate:
                      canary: kubernetes
                      soak: %s
                      interval: 2s
                      min_requests: 500
                %s
                      checks:
                        - slo: { metric: error_rate, max: 0.10 }
                        - compare: { metric: latency_p95_ms, baseline: legacy, min_windows: 5 }
                        - sequential: { baseline: legacy, alpha: 0.01, tolerance: 0.2, tau: 0.005 }
                      metrics:
                        provider: prometheus
                        address: %s
                        timeout: 2s
                        queries:
                %s""".formatted(soak, extra, address, QUERIES);
        DualDeploySpec spec = new ConfigLoader().parse("dualdeploy.yaml", yaml, null);
        return spec.stage("prod").orElseThrow();
    }

    private GateResult judgeKubernetes(StageSpec stage) throws InterruptedException {
        // Let every rate window see only what the sides serve now.
        Thread.sleep(2_500);
        try (MetricsProvider provider = Providers.open(stage.gate().metrics().orElseThrow(), System::getenv)) {
            Gate gate = new Gate("loan-api", "prod", stage.gate(), provider, Clock.systemUTC(), Sleeper.SYSTEM,
                    EventSink.of(RunIds.next(Clock.systemUTC()), Clock.systemUTC(), e -> events.add(e.message())));
            return gate.run(new Gate.Phase("canary", List.of(Side.KUBERNETES), stage.gate().soak(),
                    Map.of(Side.KUBERNETES, Instant.now())));
        }
    }

    private static Verdict verdict(GateResult report, String prefix) {
        return report.checks().stream().filter(c -> c.name().startsWith(prefix)).findFirst().orElseThrow().verdict();
    }

    @Test
    void aGoodReleasePasses() throws Exception {
        GateResult report = judgeKubernetes(stage(prometheus.address().toString(), "12s", ""));

        assertThat(report.outcome()).as(report.reason()).isEqualTo(Verdict.Outcome.PASS);
        assertThat(report.decision()).isEqualTo(GateResult.Decision.PASS);
        assertThat(report.windows()).isEqualTo(6);
        assertThat(report.checks()).extracting(GateResult.CheckResult::name).containsExactly("slo error_rate [kubernetes]",
                "compare latency_p95_ms [kubernetes vs legacy]", "sequential error_rate [kubernetes vs legacy]");
        assertThat(verdict(report, "slo").reason()).startsWith("kubernetes error_rate 1.").contains("within the limit of 10.0%");
        GateResult.CheckResult compare = report.checks().get(1);
        assertThat(compare.samples().get("kubernetes")).hasSizeGreaterThanOrEqualTo(5)
                .allSatisfy(p95 -> assertThat(p95).isBetween(60.0, 160.0));
        assertThat(events).anySatisfy(e -> assertThat(e).startsWith("gate canary window 3/6: ").contains("kubernetes error_rate 1."));
    }

    @Test
    void fiveTimesTheErrorsFailsThroughTheSequentialTestLongBeforeTheSoakEnds() throws Exception {
        service.errorRate("kubernetes", 0.05);

        GateResult report = judgeKubernetes(stage(prometheus.address().toString(), "60s", ""));

        assertThat(report.outcome()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(report.decision()).isEqualTo(GateResult.Decision.FAIL);
        assertThat(report.windows()).as("stopped early").isLessThanOrEqualTo(5).isLessThan(report.plannedWindows());
        Verdict sequential = verdict(report, "sequential");
        assertThat(sequential.outcome()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(sequential.reason()).startsWith("kubernetes error_rate ").contains(" vs legacy ").contains("always-valid p=");
        assertThat(report.reason()).startsWith("sequential error_rate [kubernetes vs legacy]: kubernetes error_rate");
        assertThat(verdict(report, "compare").outcome()).as("not judged once the gate stopped").isEqualTo(Verdict.Outcome.INCONCLUSIVE);
    }

    @Test
    void aLatencyRegressionFailsThroughTheComparison() throws Exception {
        service.medianLatency("kubernetes", 0.10);

        GateResult report = judgeKubernetes(stage(prometheus.address().toString(), "12s", ""));

        assertThat(report.outcome()).isEqualTo(Verdict.Outcome.FAIL);
        Verdict compare = verdict(report, "compare");
        assertThat(compare.outcome()).as(compare.reason()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(compare.reason()).startsWith("kubernetes latency_p95_ms").contains("vs legacy").contains("over ");
        assertThat(verdict(report, "sequential").outcome()).isEqualTo(Verdict.Outcome.PASS);
        assertThat(verdict(report, "slo").outcome()).isEqualTo(Verdict.Outcome.PASS);
    }

    @Test
    void tooLittleTrafficIsInconclusiveAndFailsByDefault() throws Exception {
        service.requestRate("kubernetes", 30);
        service.requestRate("legacy", 30);

        GateResult report = judgeKubernetes(stage(prometheus.address().toString(), "8s", ""));

        assertThat(report.outcome()).as(report.reason()).isEqualTo(Verdict.Outcome.INCONCLUSIVE);
        assertThat(report.decision()).isEqualTo(GateResult.Decision.FAIL);
        assertThat(report.reason()).startsWith("inconclusive, which fails (on_inconclusive: fail)");
        assertThat(verdict(report, "slo").reason()).contains("too little traffic").contains("4 of 4 windows had fewer than 500 requests");
        assertThat(verdict(report, "sequential").reason()).contains("too little traffic to pass");
    }

    @Test
    void prometheusStoppedMidGateIsAnErrorThenFailsOrPausesAsOnErrorSays() throws Exception {
        PrometheusPeer doomed = PrometheusPeer.start(dir.resolve("doomed"), service.target(), null, null, "250ms");
        String address = doomed.address().toString();
        try {
            StageSpec failing = stage(address, "30s", "      error_limit: 1\n      on_error: fail");
            StageSpec pausing = stage(address, "30s", "      error_limit: 1\n      on_error: pause");
            CompletableFuture<GateResult> fail = CompletableFuture.supplyAsync(() -> run(failing));
            CompletableFuture<GateResult> pause = CompletableFuture.supplyAsync(() -> run(pausing));
            Thread.sleep(2_500 + 4_500);
            doomed.close();

            for (GateResult report : List.of(fail.get(), pause.get())) {
                assertThat(report.outcome()).as(report.reason()).isEqualTo(Verdict.Outcome.ERROR);
                assertThat(report.windows()).isLessThan(report.plannedWindows());
                assertThat(report.reason()).contains("the metrics could not be read for 2 windows in a row").contains("cannot be reached");
            }
            assertThat(fail.get().decision()).isEqualTo(GateResult.Decision.FAIL);
            assertThat(fail.get().reason()).endsWith("on_error is fail");
            assertThat(pause.get().decision()).isEqualTo(GateResult.Decision.PAUSE);
            assertThat(pause.get().reason()).contains("the release stays in place for a person to decide");
        } finally {
            doomed.close();
        }
    }

    private GateResult run(StageSpec stage) {
        try {
            return judgeKubernetes(stage);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
