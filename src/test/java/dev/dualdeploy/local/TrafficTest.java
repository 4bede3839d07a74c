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

    @Test
    void aStageWithACutoverSplitsItsLiveTrafficByTheRoutersShareAndAnOverloadedReleaseFailsOnlyAboveItsCapacity() {
        SteppedClock clock = new SteppedClock(T0);
        Traffic traffic = new Traffic(clock);
        traffic.runs("prod", Side.KUBERNETES, "sha256:new");
        traffic.runs("prod", Side.LEGACY, "sha256:new");
        traffic.split("prod", 0);
        traffic.overload("sha256:new", Side.KUBERNETES, 800, 0.2);
        clock.sleep(Duration.ofSeconds(10));
        traffic.split("prod", 25);
        clock.sleep(Duration.ofSeconds(10));
        traffic.split("prod", 50);
        clock.sleep(Duration.ofSeconds(10));

        // At 0%: the base rate alone on kubernetes, the base and all live traffic on legacy.
        assertThat(traffic.count(Traffic.REQUESTS, "prod", "kubernetes", T0, T0.plusSeconds(10)).getAsDouble()).isEqualTo(2_000);
        assertThat(traffic.count(Traffic.REQUESTS, "prod", "legacy", T0, T0.plusSeconds(10)).getAsDouble()).isEqualTo(22_000);
        // At 25%: 200 + 500 a second on kubernetes, under its capacity of 800: the base error share.
        assertThat(traffic.count(Traffic.REQUESTS, "prod", "kubernetes", T0.plusSeconds(10), T0.plusSeconds(20)).getAsDouble())
                .isEqualTo(7_000);
        assertThat(traffic.count(Traffic.ERRORS, "prod", "kubernetes", T0.plusSeconds(10), T0.plusSeconds(20)).getAsDouble()).isEqualTo(7);
        // At 50%: 1,200 a second, over its capacity: a fifth fail. Legacy, not overloaded, keeps the base share.
        assertThat(traffic.count(Traffic.ERRORS, "prod", "kubernetes", T0.plusSeconds(20), T0.plusSeconds(30)).getAsDouble())
                .isEqualTo(2_400);
        assertThat(traffic.count(Traffic.ERRORS, "prod", "legacy", T0.plusSeconds(20), T0.plusSeconds(30)).getAsDouble()).isEqualTo(12);
        // A window across a change counts each part at its own split.
        assertThat(traffic.count(Traffic.REQUESTS, "prod", "kubernetes", T0.plusSeconds(5), T0.plusSeconds(15)).getAsDouble())
                .isEqualTo(1_000 + 3_500);
        assertThat(traffic.share("prod")).hasValue(50);
        assertThat(traffic.share("sandbox")).isEmpty();
    }
}
