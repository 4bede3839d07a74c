package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricQuery;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Window;
import dev.dualdeploy.time.SteppedClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The gate's decisions on scripted measurements, with time stepped by the sleeper: thin windows, lost windows and
 * the error limit, on_inconclusive, before-deploy baselines, SLO breaches in a row and HTTP probes. The real
 * Prometheus runs are in {@link GatePrometheusTest}.
 */
class GateTest {

    private static final Instant START = Instant.parse("2026-11-22T10:00:00Z");

    private final SteppedClock clock = new SteppedClock(START);
    private final List<MetricQuery> asked = new CopyOnWriteArrayList<>();
    private final List<Window> windows = new CopyOnWriteArrayList<>();
    private final List<Event> journal = new CopyOnWriteArrayList<>();

    private static GateSpec gate(String body) {
        return gate(body, "60s");
    }

    private static GateSpec gate(String body, String soak) {
        String yaml = """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: prod
                    legacy: { ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 } }
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                    gate:
                      soak: %s
                      interval: 10s
                      metrics:
                        provider: prometheus
                        address: http://127.0.0.1:9
                        queries:
                          requests: 'req{side="{{side}}",w="{{window}}",s="{{service}}",st="{{stage}}"}'
                          errors: 'err{side="{{side}}"}'
                          error_rate: 'rate{side="{{side}}"}'
                          latency_p95_ms: 'p95{side="{{side}}"}'
                """.formatted(soak) + body;
        return new ConfigLoader().parse("dualdeploy.yaml", yaml, Path.of(".")).stage("prod").orElseThrow().gate();
    }

    private MetricsProvider provider(BiFunction<MetricQuery, Window, Measurement> answer) {
        return (query, window) -> {
            asked.add(query);
            windows.add(window);
            return answer.apply(query, window);
        };
    }

    private GateResult run(GateSpec spec, MetricsProvider provider, List<Side> judged) {
        return new Gate("loan-api", "prod", spec, provider, clock, clock, EventSink.of(RunIds.next(clock), clock, journal::add))
                .run(new Gate.Phase("gate", judged, spec.soak(), Map.of(Side.KUBERNETES, START.minusSeconds(30))));
    }

    /** 10,000 requests a window at 1% errors, 100 ms p95, on every side. */
    private static Measurement healthy(MetricQuery q, Window w) {
        return Measurement.of(q, List.of(switch (q.metric()) {
            case "requests" -> w.single() && Duration.between(w.start(), w.end()).toSeconds() > 10 ? 60_000.0 : 10_000.0;
            case "errors" -> 100.0;
            case "error_rate" -> 0.01;
            default -> 100.0;
        }));
    }

    @Test
    void templatesAreFilledAndEachWindowIsMeasuredAtItsEnd() {
        GateSpec spec = gate("      checks: [ { slo: { metric: error_rate, max: 0.02 } } ]\n");

        GateResult report = run(spec, provider(GateTest::healthy), List.of(Side.KUBERNETES));

        assertThat(report.outcome()).isEqualTo(Verdict.Outcome.PASS);
        assertThat(report.windows()).isEqualTo(6);
        assertThat(asked).anySatisfy(q -> assertThat(q.expression()).isEqualTo("req{side=\"kubernetes\",w=\"10s\",s=\"loan-api\",st=\"prod\"}"));
        assertThat(windows.get(0)).isEqualTo(Window.ending(START.plusSeconds(10), Duration.ofSeconds(10)));
        assertThat(windows).as("the last query is the soak-long SLO value").last()
                .isEqualTo(Window.ending(START.plusSeconds(60), Duration.ofSeconds(60)));
        assertThat(report.checks().get(0).verdict().reason())
                .isEqualTo("kubernetes error_rate 1.00% is within the limit of 2.00% over the 1m soak");
        assertThat(report.checks().get(0).samples().get("kubernetes")).containsExactly(0.01, 0.01, 0.01, 0.01, 0.01, 0.01);
    }

    @Test
    void anSloBreachedInARowFailsEarlyButOneBadWindowDoesNot() {
        GateSpec spec = gate("      checks: [ { slo: { metric: error_rate, max: 0.02, breaches: 2 } } ]\n");
        AtomicInteger window = new AtomicInteger();
        // Windows 2 and 4, 5 breach: the lone breach is noise, two in a row are a trend.
        GateResult report = run(spec, provider((q, w) -> {
            if (!q.metric().equals("error_rate")) {
                return healthy(q, w);
            }
            int k = window.incrementAndGet();
            return Measurement.of(q, List.of(k == 2 || k >= 4 ? 0.05 : 0.01));
        }), List.of(Side.KUBERNETES));

        assertThat(report.outcome()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(report.windows()).isEqualTo(5);
        assertThat(report.reason()).isEqualTo("slo error_rate [kubernetes]: kubernetes error_rate 5.00% is above the limit of 2.00%"
                + " in 2 windows in a row");
    }

    @Test
    void lostWindowsUpToTheLimitAreToleratedAndOneMoreIsAnError() {
        GateSpec tolerant = gate("      error_limit: 2\n      checks: [ { slo: { metric: error_rate, max: 0.02 } } ]\n");
        AtomicInteger calls = new AtomicInteger();
        // Windows 2 and 3 are lost (two in a row): tolerated.
        GateResult report = run(tolerant, provider((q, w) -> {
            int k = (int) (Duration.between(START, w.end()).toSeconds() / 10);
            calls.incrementAndGet();
            return (k == 2 || k == 3) && q.metric().equals("error_rate") ? Measurement.failed(q, "prometheus at p:9 cannot be reached")
                    : healthy(q, w);
        }), List.of(Side.KUBERNETES));
        assertThat(report.outcome()).isEqualTo(Verdict.Outcome.PASS);
        assertThat(report.checks().get(0).samples().get("kubernetes")).hasSize(4);

        GateSpec paused = gate("      error_limit: 2\n      on_error: pause\n      checks: [ { slo: { metric: error_rate, max: 0.02 } } ]\n");
        clock.set(START);
        GateResult down = run(paused, provider((q, w) -> Duration.between(START, w.end()).toSeconds() > 10
                ? Measurement.failed(q, "prometheus at p:9 cannot be reached") : healthy(q, w)), List.of(Side.KUBERNETES));
        assertThat(down.outcome()).isEqualTo(Verdict.Outcome.ERROR);
        assertThat(down.decision()).isEqualTo(GateResult.Decision.PAUSE);
        assertThat(down.windows()).as("window 1 good, 2-4 lost").isEqualTo(4);
        assertThat(down.reason()).startsWith("metrics: the metrics could not be read for 3 windows in a row: prometheus at p:9 cannot be reached");
    }

    @Test
    void thinWindowsAreNotJudgedAndAnInconclusiveGatePassesOnlyWhenTheConfigSaysSo() {
        MetricsProvider thin = provider((q, w) -> q.metric().equals("requests") ? Measurement.of(q, List.of(40.0)) : healthy(q, w));
        String checks = "      checks: [ { slo: { metric: error_rate, max: 0.02 } } ]\n";

        GateResult failing = run(gate(checks), thin, List.of(Side.KUBERNETES));
        clock.set(START);
        GateResult passing = run(gate("      on_inconclusive: pass\n" + checks), thin, List.of(Side.KUBERNETES));

        assertThat(failing.outcome()).isEqualTo(Verdict.Outcome.INCONCLUSIVE);
        assertThat(failing.decision()).isEqualTo(GateResult.Decision.FAIL);
        assertThat(failing.checks().get(0).verdict().reason()).isEqualTo("kubernetes error_rate had no window to judge: too little"
                + " traffic; 6 of 6 windows had fewer than 100 requests and were not judged");
        assertThat(passing.decision()).isEqualTo(GateResult.Decision.PASS);
        assertThat(passing.reason()).startsWith("inconclusive, passed because on_inconclusive is pass: slo error_rate [kubernetes]");
    }

    @Test
    void beforeDeployBaselinesEndWhenTheDeployBegan() {
        GateSpec spec = gate("      checks:\n        - compare: { metric: latency_p95_ms, baseline: before-deploy }\n"
                + "        - sequential: { baseline: before-deploy }\n");
        GateResult report = run(spec, provider((q, w) -> {
            boolean before = w.end().isBefore(START);
            if (q.metric().equals("latency_p95_ms") && before) {
                return Measurement.of(q, List.of(100.0, 101.0, 99.0, 100.0, 102.0, 98.0));
            }
            if (q.metric().equals("latency_p95_ms")) {
                return Measurement.of(q, List.of(180.0 + w.end().getEpochSecond() % 7));
            }
            if (before) {
                return Measurement.of(q, List.of(q.metric().equals("requests") ? 60_000.0 : 600.0));
            }
            return healthy(q, w);
        }), List.of(Side.KUBERNETES));

        Window baseline = windows.stream().filter(w -> w.end().isBefore(START)).findFirst().orElseThrow();
        assertThat(baseline.end()).isEqualTo(START.minusSeconds(30));
        assertThat(baseline.start()).isEqualTo(START.minusSeconds(90));
        assertThat(report.checks()).extracting(GateResult.CheckResult::name)
                .containsExactly("compare latency_p95_ms [kubernetes vs before-deploy]", "sequential error_rate [kubernetes vs before-deploy]");
        assertThat(report.checks().get(0).verdict().outcome()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(report.checks().get(0).verdict().reason()).startsWith("kubernetes latency_p95_ms 1").contains("vs kubernetes before-deploy 100ms");
        assertThat(report.checks().get(1).verdict().outcome()).isEqualTo(Verdict.Outcome.PASS);
    }

    @Test
    void aClearRegressionFailsTheComparisonEarlyAtTheStricterConfidence() {
        GateSpec spec = gate("      checks: [ { compare: { metric: latency_p95_ms, baseline: legacy, min_windows: 6 } } ]\n", "15m");

        GateResult report = run(spec, provider((q, w) -> q.metric().equals("latency_p95_ms")
                ? Measurement.of(q, List.of((q.side().equals("kubernetes") ? 200.0 : 100.0) + w.end().getEpochSecond() % 13))
                : healthy(q, w)), List.of(Side.KUBERNETES));

        assertThat(report.outcome()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(report.plannedWindows()).isEqualTo(90);
        assertThat(report.windows()).as("7 windows a side give p < 0.001").isEqualTo(7);
        assertThat(report.reason()).startsWith("compare latency_p95_ms [kubernetes vs legacy]: kubernetes latency_p95_ms 2")
                .endsWith("over 7 windows, at the early-look confidence of 0.999");
    }

    @Test
    void aComparisonWithOnlyItsBaselineJudgedIsInconclusiveNotPass() {
        GateSpec spec = gate("      checks: [ { compare: { metric: error_rate, baseline: legacy } } ]\n");

        GateResult report = run(spec, provider(GateTest::healthy), List.of(Side.LEGACY));

        assertThat(report.outcome()).isEqualTo(Verdict.Outcome.INCONCLUSIVE);
        assertThat(report.checks().get(0).verdict().reason()).isEqualTo("no side to compare with legacy: it is the only side judged (legacy)");
    }

    @Test
    void httpProbesFailAfterTheirLimitInARow() throws Exception {
        AtomicInteger status = new AtomicInteger(200);
        AtomicInteger probes = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/health", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(probes.incrementAndGet() >= 3 ? 503 : status.get(), -1);
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/health";
            GateSpec spec = gate("      checks: [ { http: { url: '" + url + "', failures: 2 } } ]\n");

            GateResult report = run(spec, provider(GateTest::healthy), List.of(Side.KUBERNETES));

            assertThat(report.outcome()).isEqualTo(Verdict.Outcome.FAIL);
            assertThat(report.windows()).isEqualTo(4);
            assertThat(report.checks().get(0).samples().get("probe")).containsExactly(200.0, 200.0, 503.0, 503.0);
            assertThat(report.reason()).isEqualTo("http " + url + ": GET " + url + " answered 503, expected 200, 2 times in a row");
            // Issue 9: each window journals what it measured, the probe's status code among it; no window line is empty.
            List<Event.GateWindowMeasured> measured = journal.stream().filter(Event.GateWindowMeasured.class::isInstance)
                    .map(Event.GateWindowMeasured.class::cast).toList();
            assertThat(measured).filteredOn(m -> m.metric().equals("http")).extracting(m -> m.value().orElseThrow())
                    .containsExactly(200.0, 200.0, 503.0, 503.0);
            assertThat(measured).extracting(Event.GateWindowMeasured::window).containsOnly(1, 2, 3, 4);
            assertThat(measured).filteredOn(m -> m.window() == 4 && m.metric().equals("http")).singleElement()
                    .extracting(Event::message).isEqualTo("gate window 4/6: " + url + " http 503 (answered 503, expected 200, 2 in a row)");
            assertThat(journal).extracting(Event::message).allSatisfy(m -> assertThat(m).doesNotEndWith(": "));
            assertThat(journal).filteredOn(Event.CheckVerdict.class::isInstance).singleElement()
                    .extracting(e -> ((Event.CheckVerdict) e).outcome()).isEqualTo(Event.VerdictOutcome.FAIL);
            assertThat(journal.get(journal.size() - 1)).isInstanceOf(Event.GateDecided.class);
            assertThat(journal).allSatisfy(e -> assertThat(e.at()).isBetween(START, clock.instant()));
        } finally {
            server.stop(0);
        }
    }
}
