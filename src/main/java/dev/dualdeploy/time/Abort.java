package dev.dualdeploy.time;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A run's request to stop (SIGTERM, SIGINT), checked by the engine where it would start new work or waits: before a
 * rollout, in a rollout's wait for its platform, between a gate's windows. Once it is requested no new work starts, and
 * what the current stage changed is put back ({@link #PUT_BACK} bounds each put-back). A put-back itself never checks
 * it: stopping half-way would leave the stage in no defined state. The engine is told, never interrupted: a thread
 * interrupt would end waits in arbitrary places (an SDK call, a write), this ends them only where they check.
 */
public final class Abort {

    /**
     * How long the put-back of one side may be followed after an abort, at most (the stage's {@code timeout} if that is
     * shorter). A Jenkins abort kills the process after its own grace period, so this is kept short.
     */
    public static final Duration PUT_BACK = Duration.ofMinutes(2);
    /** How long an abortable sleep sleeps at most before it looks at the request again. */
    static final Duration SLICE = Duration.ofMillis(100);

    private static final Abort NONE = new Abort(false);

    private final boolean live;
    private final AtomicReference<String> reason = new AtomicReference<>();

    private Abort(boolean live) {
        this.live = live;
    }

    /** A request that can be made (the CLI's, one per command). */
    public static Abort create() {
        return new Abort(true);
    }

    /** A request that is never made: for engine users that cannot be signalled (tests, benchmarks, the demo). */
    public static Abort none() {
        return NONE;
    }

    /**
     * Requests the stop (idempotent: the first reason stays).
     *
     * @param why what asked for it, such as {@code SIGTERM}
     * @return whether this was the first request
     * @throws IllegalStateException on {@link #none()}
     */
    public boolean request(String why) {
        if (!live) {
            throw new IllegalStateException("this run cannot be aborted");
        }
        return reason.compareAndSet(null, why);
    }

    /** Whether the stop was requested. */
    public boolean requested() {
        return reason.get() != null;
    }

    /** What asked for the stop; empty while nobody has. */
    public Optional<String> reason() {
        return Optional.ofNullable(reason.get());
    }

    /**
     * Sleeps for the duration through {@code sleeper}, returning early (within {@link #SLICE}) once the stop is
     * requested; with a stepped clock the slices step it, so the total is the same.
     */
    public void sleep(Sleeper sleeper, Duration duration) {
        if (!live) {
            sleeper.sleep(duration);
            return;
        }
        Duration left = duration;
        while (!requested() && left.compareTo(Duration.ZERO) > 0) {
            Duration slice = left.compareTo(SLICE) < 0 ? left : SLICE;
            sleeper.sleep(slice);
            left = left.minus(slice);
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    /** How long one side's put-back may be followed: {@link #PUT_BACK}, or the stage's rollout timeout if shorter. */
    public static Duration putBack(Duration stageTimeout) {
        return stageTimeout.compareTo(PUT_BACK) < 0 ? stageTimeout : PUT_BACK;
    }
}
