package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.config.MetricsSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.pipeline.Deploy;
import dev.dualdeploy.pipeline.Gate;
import dev.dualdeploy.pipeline.GateResult;
import dev.dualdeploy.pipeline.Rollback;
import dev.dualdeploy.pipeline.Rollouts;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.report.ProgressLines;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.time.SteppedClock;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9: the {@code --output json} result of {@code deploy}, {@code rollback} and {@code gate} is read from the run's
 * events, as the progress lines and the JUnit XML are. Each kind of run the scenario tests make (a deploy whose gate
 * passes, one whose gate fails and is rolled back, a canary that fails and one that passes, a rollback, the gate
 * command, a side another writer supersedes, a deploy that first returns a side another run left, an abort, a skipped
 * stage) is made here on the local environment, and the JSON read from its events must equal, byte for byte, the JSON
 * the CLI built from the engine's result ({@link ResultJson}). Nothing is ignored.
 */
class JsonFromEventsTest {

    private static LocalEnvironment env;
    private static DualDeploySpec config;
    private static PlatformTargets targets;

    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private volatile Consumer<Event> also = e -> { };
    private final EventSink sink = EventSink.of(RunIds.next(Clock.systemUTC()), Clock.systemUTC(), e -> {
        events.add(e);
        lines.add(ProgressLines.line(e));
        also.accept(e);
    });

    @BeforeAll
    static void start(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, LocalEnvironment.sampleRelease("0.9.0"), 2);
        config = new ConfigLoader().load(env.config());
        targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM);
    }

    @AfterAll
    static void stop() {
        targets.close();
        env.close();
    }

    @BeforeEach
    void clear() {
        events.clear();
        lines.clear();
    }

    /** A stage with a gate: an error-rate SLO of 2% that fails on the first bad window; canary or not. */
    private static StageSpec gated(String name, Optional<Side> canary) {
        StageSpec stage = config.stage(name).orElseThrow();
        GateSpec gate = new GateSpec(canary, Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(20),
                List.of(new CheckSpec.Slo("error_rate", 0.02, 1)),
                Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")),
                        Optional.empty(), Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                        Map.of("error_rate", "error_rate{side=\"{{side}}\"}"))),
                100, 2, GateSpec.OnError.FAIL, GateSpec.OnInconclusive.FAIL);
        return new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(), gate, stage.approval());
    }

    /** Error rates as a side serves them: 10% on a bad side, 0.5% elsewhere. */
    private static MetricsProvider errorRates(Side bad) {
        return (query, window) -> Measurement.of(query, List.of(query.side().equals(bad == null ? "" : bad.label()) ? 0.10 : 0.005));
    }

    private Deploy promotion(MetricsProvider provider, Abort abort) {
        SteppedClock stepped = new SteppedClock(Instant.now());
        return new Deploy(targets, sink, stage -> new Gate(LocalEnvironment.SERVICE, stage.name(), stage.gate(), provider,
                stepped, stepped, sink, abort), Clock.systemUTC(), abort);
    }

    private StageResult deploy(String stage, Optional<Side> canary, String version, MetricsProvider provider) {
        return promotion(provider, Abort.none()).run(gated(stage, canary), LocalEnvironment.sampleRelease(version),
                new ToggleSpec(true, true), true, true);
    }

    /** The JSON read from the events equals the JSON built from the result, byte for byte. */
    private void assertSameJson(String command, StageResult report, StageOutcome expected) {
        int code = ExitCodes.of(report);
        String fromResult = JsonReport.write(ResultJson.stage(command, report, code));
        String fromEvents = JsonReport.write(JsonReport.stage(command, List.copyOf(events), code));
        String what = report.outcome() + ": " + report.reason() + "\n" + String.join("\n", lines);
        assertThat(report.outcome()).as(what).isEqualTo(expected);
        assertThat(fromEvents).as(what).isEqualTo(fromResult);
        System.out.println(command + " " + report.outcome() + ": the JSON read from " + events.size() + " events equals the"
                + " result's (" + fromEvents.length() + " characters, " + report.sides().size() + " sides, " + report.gates().size()
                + " gate runs)");
    }

    @Test
    void aDeployWhoseGatePassesThenARollback() {
        StageResult deployed = deploy("beta", Optional.empty(), "1.2.0", errorRates(null));
        assertSameJson("deploy", deployed, StageOutcome.SUCCEEDED);
        // Review: "running" named the last good release from before the deploy, not the one it had just recorded.
        JsonNode running = JsonReport.stage("deploy", List.copyOf(events), 0).get("sides").get(0).get("running");
        assertThat(running.get("lastGoodImage").asText()).isEqualTo(LocalEnvironment.sampleRelease("1.2.0").image());
        assertThat(running.get("lastGoodSides")).hasSize(2);

        events.clear();
        StageResult rolledBack = new Rollback(targets, sink).run(config.stage("beta").orElseThrow(), List.of(Side.LEGACY, Side.KUBERNETES));
        assertSameJson("rollback", rolledBack, StageOutcome.SUCCEEDED);

        events.clear();
        StageResult refused = new Rollback(targets, sink).run(config.stage("beta").orElseThrow(), List.of(Side.LEGACY, Side.KUBERNETES));
        assertSameJson("rollback", refused, StageOutcome.ROLLBACK_FAILED);
    }

    @Test
    void aDeployWhoseGateFailsIsRolledBack() {
        assertSameJson("deploy", deploy("sandbox", Optional.empty(), "1.2.0", errorRates(Side.KUBERNETES)), StageOutcome.ROLLED_BACK);
    }

    @Test
    void aCanaryThatFailsAndOneThatPasses() {
        assertSameJson("deploy", deploy("preprod", Optional.of(Side.KUBERNETES), "1.1.0", errorRates(Side.KUBERNETES)),
                StageOutcome.ROLLED_BACK);
        events.clear();
        assertSameJson("deploy", deploy("preprod", Optional.of(Side.KUBERNETES), "1.1.1", errorRates(null)), StageOutcome.SUCCEEDED);
    }

    @Test
    void aSupersededSideThenADeployThatReturnsItThenAnAbort() {
        Release theirs = LocalEnvironment.sampleRelease("1.1.1");
        StageSpec prod = gated("prod", Optional.of(Side.KUBERNETES));
        AtomicBoolean done = new AtomicBoolean();
        also = e -> {
            if (e instanceof Event.RolloutProgress p && p.side().equals(Optional.of(Side.KUBERNETES))
                    && (p.detail().startsWith("updated ") || p.detail().startsWith("waiting for the deployment controller"))
                    && done.compareAndSet(false, true)) {
                KubernetesSpec spec = prod.kubernetes().orElseThrow();
                env.kubernetes().client().apps().deployments().inNamespace(spec.namespace()).withName(spec.deployment()).edit(d -> {
                    d.getSpec().getTemplate().getSpec().getContainers().stream().filter(c -> c.getName().equals(spec.container()))
                            .forEach(c -> c.setImage(theirs.image()));
                    return d;
                });
            }
        };
        StageResult superseded = new Rollouts(targets, sink).run(prod, LocalEnvironment.sampleRelease("1.2.0"),
                new ToggleSpec(true, true), true);
        also = e -> { };
        assertSameJson("deploy", superseded, StageOutcome.SUPERSEDED);
        // Each side's rollout says who superseded it, or null.
        JsonNode sides = JsonReport.stage("deploy", List.copyOf(events), ExitCodes.of(superseded)).get("sides");
        assertThat(sides.get(0).get("side").asText()).isEqualTo("legacy");
        assertThat(sides.get(0).get("rollout").get("supersededBy").isNull()).isTrue();
        assertThat(sides.get(1).get("rollout").get("supersededBy").asText()).isEqualTo(theirs.image());
        assertThat(sides.get(1).get("rollback").isNull()).as("not rolled back over the other writer").isTrue();

        // The next deploy first returns kubernetes, which runs the other writer's release, to the last good release: the
        // deploy's preparation, not its rollback. It is aborted in the canary's gate and put back.
        events.clear();
        Abort abort = Abort.create();
        AtomicInteger measured = new AtomicInteger();
        MetricsProvider healthy = (query, window) -> {
            if (measured.incrementAndGet() == 2) {
                abort.request("SIGTERM");
            }
            return Measurement.of(query, List.of(0.001));
        };
        StageResult aborted = promotion(healthy, abort).run(prod, LocalEnvironment.sampleRelease("1.2.0"), new ToggleSpec(true, true),
                true, true);
        assertThat(lines).anyMatch(l -> l.contains("returning kubernetes to the last good release before deploying"));
        assertSameJson("deploy", aborted, StageOutcome.ABORTED);
    }

    @Test
    void aStageWithNoSideEnabledIsSkipped() {
        StageResult skipped = new Rollouts(targets, sink).run(config.stage("sandbox").orElseThrow(), LocalEnvironment.sampleRelease("1.2.0"),
                new ToggleSpec(false, false), true);
        assertSameJson("deploy", skipped, StageOutcome.SKIPPED);
    }

    @Test
    void theGateCommand() {
        StageSpec stage = gated("sandbox", Optional.empty());
        SteppedClock stepped = new SteppedClock(Instant.now());
        GateResult report = new Gate(LocalEnvironment.SERVICE, stage.name(), stage.gate(), errorRates(Side.LEGACY), stepped, stepped, sink)
                .run(new Gate.Phase("gate", List.of(Side.LEGACY, Side.KUBERNETES), stage.gate().soak(), Map.of()));
        assertThat(report.decision()).isEqualTo(GateResult.Decision.FAIL);
        String fromResult = JsonReport.write(ResultJson.gate(report, ExitCodes.FAILED));
        assertThat(JsonReport.write(JsonReport.gate(List.copyOf(events), ExitCodes.FAILED))).isEqualTo(fromResult);
    }
}
