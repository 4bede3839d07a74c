package dev.dualdeploy.metrics;

import java.time.Duration;
import java.time.Instant;

/**
 * A span of time to measure over, cut into steps: one sample per step.
 *
 * @param start the first instant (inclusive)
 * @param end the last instant (inclusive)
 * @param step the distance between samples; equal to the span for a single value
 */
public record Window(Instant start, Instant end, Duration step) {

    public Window {
        if (!end.isAfter(start) || step.isZero() || step.isNegative()) {
            throw new IllegalArgumentException("a window needs end after start and a positive step");
        }
    }

    /** A window of {@code span} ending at {@code end}, with a single value. */
    public static Window ending(Instant end, Duration span) {
        return new Window(end.minus(span), end, span);
    }

    /** Whether the window asks for one value rather than a series. */
    public boolean single() {
        return step.compareTo(Duration.between(start, end)) >= 0;
    }
}
