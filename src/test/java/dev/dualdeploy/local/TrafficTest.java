package dev.dualdeploy.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.time.SteppedClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Issue 8 item 18: the local environment's request and error counts, computed from what ran when, exactly. */
class TrafficTest {

    private static final Instant T0 = Instant.parse("2026-12-01T04:00:00Z");

    @Test
    void countsFollowTheDigestThatRanOnThatSideInTheWindowAndAreTheSameEveryTimeTheyAreAsked() {
        SteppedClock clock = new SteppedClock(T0);
        Traffic traffic = new Traffic(clock);
        traffic.runs("sandbox", Side.KUBERNETES, "sha256:old");
        traffic.runs("sandbox", Side.LEGACY, "sha256:old");
        traffic.serveErrors("sha256:bad", Side.KUBERNETES, 0.5);
        clock.sleep(Duration.ofSeconds(10));
        traffic.runs("sandbox", Side.KUBERNETES, "sha256:bad");
        traffic.runs("sandbox", Side.LEGACY, "sha256:bad");
        clock.sleep(Duration.ofSeconds(10));

        // 10 s before the change (the first release ran since ever) and 10 s after it.
        assertThat(traffic.count(Traffic.REQUESTS, "sandbox", "kubernetes", T0, T0.plusSeconds(10)).getAsDouble()).isEqualTo(2000);
        assertThat(traffic.count(Traffic.ERRORS, "sandbox", "kubernetes", T0, T0.plusSeconds(10)).getAsDouble()).isEqualTo(2);
        assertThat(traffic.count(Traffic.ERRORS, "sandbox", "kubernetes", T0.plusSeconds(10), T0.plusSeconds(12)).getAsDouble())
                .isEqualTo(200);
        // A window across the change counts each part at its own release's share.
        assertThat(traffic.count(Traffic.ERRORS, "sandbox", "kubernetes", T0.plusSeconds(5), T0.plusSeconds(15)).getAsDouble())
                .isEqualTo(1 + 500);
        // Only kubernetes was broken: legacy runs the same digest at the base rate.
        assertThat(traffic.count(Traffic.ERRORS, "sandbox", "legacy", T0.plusSeconds(10), T0.plusSeconds(20)).getAsDouble()).isEqualTo(2);
        assertThat(traffic.count(Traffic.REQUESTS, "prod", "legacy", T0, T0.plusSeconds(1))).isEmpty();
        assertThat(traffic.count("Latency", "sandbox", "legacy", T0, T0.plusSeconds(1))).isEmpty();
        assertThat(traffic.count(Traffic.REQUESTS, "sandbox", "sideways", T0, T0.plusSeconds(1))).isEmpty();
    }
}
