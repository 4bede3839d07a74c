package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.MetricsSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.testing.LocalStageTest;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.SteppedClock;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An abort during a canary's gate, on a real local stage whose gate time is stepped: the soak stops after the window
 * under way (no new window starts), the canary side is put back on the last good release, and the other side, never
 * changed, is not written. The metrics provider requests the abort from inside the second window, as a signal that
 * arrives then would.
 */
class AbortDeployTest extends LocalStageTest {

    /** The stage with a canary gate on Kubernetes: six windows of ten seconds, an error-rate SLO. */
    private StageSpec canaryStage() {
        StageSpec stage = stage();
        GateSpec gate = new GateSpec(Optional.of(Side.KUBERNETES), Duration.ofSeconds(60), Duration.ofSeconds(10),
                Duration.ofSeconds(20), List.of(new CheckSpec.Slo("error_rate", 0.02, 1)),
                Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")),
                        Optional.empty(), Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                        Map.of("error_rate", "error_rate{side=\"{{side}}\"}"))),
                100, 2, GateSpec.OnError.FAIL, GateSpec.OnInconclusive.FAIL);
        return new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(), gate, stage.approval());
    }

    @Test
    void anAbortMidCanaryGateStopsTheSoakAndPutsTheCanaryBackAlone() {
        Abort abort = Abort.create();
        AtomicInteger measured = new AtomicInteger();
        MetricsProvider healthy = (query, window) -> {
            if (measured.incrementAndGet() == 2) {
                abort.request("SIGTERM");
            }
            return Measurement.of(query, List.of(0.001));
        };
        SteppedClock stepped = new SteppedClock(Instant.now());
        int updates = env.ecs().calls("UpdateService");
        events.clear();

        StageResult report = new Deploy(targets, sink, stage -> new Gate(LocalEnvironment.SERVICE, stage.name(), stage.gate(),
                healthy, stepped, stepped, sink, abort), Clock.systemUTC(), abort).run(canaryStage(), NEXT, BOTH, true, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ABORTED);
        assertThat(report.reason()).isEqualTo("aborted (SIGTERM) during the gate canary; rolled back kubernetes to the last good"
                + " release; legacy was never changed");
        assertThat(report.gates()).singleElement().satisfies(g -> {
            assertThat(g.phase()).isEqualTo("canary");
            assertThat(g.windows()).isEqualTo(2);
            assertThat(g.plannedWindows()).isEqualTo(6);
        });
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(env.ecs().calls("UpdateService")).as("the legacy side is never written").isEqualTo(updates);
        assertThat(events).contains("[prod] aborted (SIGTERM) during the gate canary: nothing new starts; putting back every side"
                + " not on its last good release (each followed for at most 2m)");
        assertThat(events).noneMatch(e -> e.startsWith("[prod] gate canary window 3/"));
    }

    /**
     * Review items 3 and 10: a promotion aborted before its first write (during the preflight reads) stops there: no
     * stage started, no gate, no wait, nothing changed, and the reason says where it was.
     */
    @Test
    void anAbortBeforeThePromotionChangedAnythingStopsAtThePreflightReads() {
        Abort abort = Abort.create();
        abort.request("SIGTERM");
        int updates = env.ecs().calls("UpdateService");
        events.clear();

        MetricsProvider unasked = (query, window) -> {
            throw new AssertionError("no gate window is measured once aborted");
        };
        SteppedClock stepped = new SteppedClock(Instant.now());

        StageResult report = new Deploy(targets, sink, stage -> new Gate(LocalEnvironment.SERVICE, stage.name(), stage.gate(),
                unasked, stepped, stepped, sink, abort), Clock.systemUTC(), abort).run(canaryStage(), NEXT, BOTH, true, true);

        assertThat(report.outcome()).as(report.reason()).isEqualTo(StageOutcome.ABORTED);
        assertThat(report.reason()).isEqualTo("aborted (SIGTERM) during the preflight reads: nothing was changed");
        assertThat(events).contains("[prod] ABORTED: aborted (SIGTERM) during the preflight reads: nothing was changed")
                .noneMatch(e -> e.contains("waiting ") || e.contains("gate"));
        assertThat(env.ecs().calls("UpdateService")).isEqualTo(updates);
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
    }
}
