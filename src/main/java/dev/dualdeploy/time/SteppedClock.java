package dev.dualdeploy.time;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * Simulated time: a clock that stands still until its own {@link #sleep} moves it on, so a soak of minutes runs in
 * no wall time (benchmarks, tests). Not thread-safe for concurrent sleepers.
 */
public final class SteppedClock extends Clock implements Sleeper {

    private volatile Instant now;

    public SteppedClock(Instant start) {
        this.now = start;
    }

    /** Moves the clock on by the duration at once. */
    @Override
    public void sleep(Duration duration) {
        now = now.plus(duration);
    }

    /** Sets the time, such as back to the start between runs. */
    public void set(Instant instant) {
        now = instant;
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
