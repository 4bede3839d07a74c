package dev.dualdeploy.journal;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Holds a {@link StageLease} for one run: takes it (waiting for it up to {@code --wait-lock}, polling every
 * {@link #POLL} and saying so every {@link #PROGRESS}), renews it on a thread every third of its duration, and releases
 * it on {@link #close()}. It emits {@link Event.LockAcquired} when it holds the lease and {@link Event.LockLost} when it
 * no longer does (released, or lost).
 *
 * <p>A lost lease (another holder took it over, or no renewal succeeded for its duration less a {@link #margin}, counted
 * from the start of the last one that did, so that others may see it expired; judged on the caller's thread too, so a
 * renewal call that hangs cannot hide it) is not an exception on the run's thread: the rollout in flight is not torn off
 * half-way. It is a state, {@link #lost()}, that the run checks before each new write (the CLI wraps its targets in
 * {@code targets.GuardedTargets}), so no new rollout, rollback or last-good record is started once the lease is gone;
 * what is in flight ends as it would. A renewal that fails on the network is retried at the next tick: one dropped
 * request does not lose the lease while it has not expired.
 *
 * <p>Time comes from the injected clock and sleeper; the renewal thread sleeps through the sleeper too, and is stopped
 * by an interrupt on {@link #close()}.
 */
public final class LeaseKeeper implements AutoCloseable {

    /** How often a waiting run asks for the lease again. */
    public static final Duration POLL = Duration.ofSeconds(2);
    /** How often a waiting run says that it waits. */
    public static final Duration PROGRESS = Duration.ofSeconds(30);

    private final StageLease lease;
    private final String run;
    private final String stage;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Consumer<Event> events;
    private final Consumer<String> say;

    private volatile StageLease.Holding holding;
    private volatile String lost;
    private volatile boolean closed;
    private volatile Instant lastRenewed;
    private volatile String lastFault;
    private volatile boolean stoppedWaiting;
    private Thread renewer;

    /**
     * @param lease the stage's lease, or null for a stage that has none (see {@link #none})
     * @param run the run id, for the events
     * @param stage the stage, for the events and the messages
     * @param events where {@link Event.LockAcquired} and {@link Event.LockLost} go (the journal)
     * @param say where lines for a person go (waiting, renewal trouble), without a prefix
     */
    public LeaseKeeper(StageLease lease, String run, String stage, Clock clock, Sleeper sleeper, Consumer<Event> events,
                       Consumer<String> say) {
        this.lease = lease;
        this.run = RunIds.check(run);
        this.stage = Objects.requireNonNull(stage, "stage");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.events = Objects.requireNonNull(events, "events");
        this.say = Objects.requireNonNull(say, "say");
    }

    /** A keeper of no lease, for a stage that has none: never lost, closing does nothing. */
    public static LeaseKeeper none(String run, String stage) {
        return new LeaseKeeper(null, run, stage, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC), d -> { }, e -> { }, l -> { });
    }

    /**
     * Takes the lease, waiting up to {@code wait} for another holder to release it or for it to expire, and starts
     * renewing it. Does nothing for {@link #none}.
     *
     * @param wait how long to wait; zero fails at once
     * @throws LeaseHeldException if another holder still holds it after {@code wait}
     * @throws RuntimeException (the platform's) if the platform could not be read or written: at once without a wait,
     *                          else the last failure once the wait ends (each one until then is said and retried)
     */
    public void acquire(Duration wait) {
        acquire(wait, Abort.none());
    }

    /**
     * As {@link #acquire(Duration)}, but an abort ends the wait at once (within {@link Abort}'s slice of a poll): no
     * lease is taken after it was requested, and the keeper then holds nothing ({@link #holding()} is empty). A lease
     * taken just before the abort is held; closing the keeper releases it.
     *
     * @return whether the lease is held (always true for {@link #none}); false only after an abort
     */
    public boolean acquire(Duration wait, Abort abort) {
        if (lease == null) {
            return true;
        }
        Instant start = clock.instant();
        Instant deadline = start.plus(wait);
        Instant lastSaid = null;
        Instant faultSaid = null;
        Instant asked;
        while (true) {
            if (abort.requested()) {
                say.accept("stopped waiting for the lease on " + stage + ": the run was aborted (" + abort.reason().orElse("abort")
                        + "); no lease was taken");
                stoppedWaiting = true;
                return false;
            }
            asked = clock.instant();
            try {
                holding = lease.take();
                break;
            } catch (IllegalArgumentException | IllegalStateException | NullPointerException | ClassCastException bug) {
                throw bug; // never the platform's: waiting would only delay the report
            } catch (LeaseHeldException held) {
                Instant now = clock.instant();
                if (!now.isBefore(deadline)) {
                    throw wait.isZero() ? held : held.waited(wait);
                }
                if (lastSaid == null || !now.isBefore(lastSaid.plus(PROGRESS))) {
                    say.accept("waiting for the lease on " + stage + ", held by " + held.holder().orElse("nobody")
                            + held.since().map(s -> " since " + s).orElse("") + " (waited " + Durations.format(
                            Duration.ofSeconds(Duration.between(start, now).toSeconds())) + " of " + Durations.format(wait) + ")");
                    lastSaid = now;
                }
                Duration left = Duration.between(now, deadline);
                abort.sleep(sleeper, left.compareTo(POLL) < 0 ? left : POLL);
                if (Thread.currentThread().isInterrupted()) {
                    throw held;
                }
            } catch (RuntimeException fault) {
                // One failed call (an API server restarting, a dropped connection) does not end a wait for the lease:
                // it is tried again until the wait ends, and then the last failure is the answer.
                Instant now = clock.instant();
                if (!now.isBefore(deadline)) {
                    if (!wait.isZero()) {
                        say.accept("no lease on " + stage + " after waiting " + Durations.format(wait) + "; the last attempt failed: "
                                + Text.oneLine(fault.getMessage()));
                    }
                    throw fault;
                }
                if (faultSaid == null || !now.isBefore(faultSaid.plus(PROGRESS))) {
                    say.accept("could not read the lease on " + stage + " (" + Text.oneLine(fault.getMessage()) + "); retrying");
                    faultSaid = now;
                }
                Duration left = Duration.between(now, deadline);
                abort.sleep(sleeper, left.compareTo(POLL) < 0 ? left : POLL);
                if (Thread.currentThread().isInterrupted()) {
                    throw fault;
                }
            }
        }
        // Counted from before the call that took it: the API server may have written it at any moment of that call.
        lastRenewed = asked;
        events.accept(new Event.LockAcquired(run, clock.instant(), Optional.of(stage), Optional.empty(), holding.lease(),
                holding.holder(), holding.duration()));
        renewer = new Thread(this::renewLoop, "lease-" + lease.name());
        renewer.setDaemon(true);
        renewer.start();
        return true;
    }

    /**
     * Why the run may start no new work on the stage: the lease was lost (taken over, or not renewed in time); empty
     * while it is held, and always for a stage without a lease.
     */
    public Optional<String> lost() {
        expireIfSilent();
        return Optional.ofNullable(lost);
    }

    /**
     * How much before its duration a lease not renewed counts as lost here: a sixth of the duration. Others take it over
     * only once they have seen it unchanged for the whole duration, counted from when they read it, which is after the
     * renewal this run counts from; the margin covers clocks that run at different rates and the time between this
     * check and the write it allows.
     */
    static Duration margin(Duration duration) {
        return duration.dividedBy(6);
    }

    /** Whether an abort ended {@link #acquire(Duration, Abort)} before the lease was taken. */
    public boolean stoppedWaiting() {
        return stoppedWaiting;
    }

    /** What is held, or empty before {@link #acquire} and for a stage without a lease. */
    public Optional<StageLease.Holding> holding() {
        return Optional.ofNullable(holding);
    }

    /** One renewal as the thread does it, every third of the duration; visible for tests. */
    void renewOnce() {
        StageLease.Holding held = holding;
        Instant asked = clock.instant();
        try {
            lease.renew();
            // Counted from before the call: a call that hung for most of the duration renewed little.
            if (lost == null) {
                lastRenewed = asked;
            }
        } catch (LeaseHeldException taken) {
            lose("taken over: " + taken.getMessage(), taken.holder());
        } catch (RuntimeException fault) {
            if (closed) {
                return; // interrupted by close(): not a renewal problem
            }
            lastFault = Text.oneLine(fault.getMessage());
            expireIfSilent();
            if (lost == null) {
                say.accept("could not renew lease " + held.lease() + " (" + lastFault + "); it is held until "
                        + lastRenewed.plus(held.duration()) + ", retrying");
            }
        }
    }

    /**
     * Loses the lease once no renewal has succeeded for its duration less the {@link #margin}, counted from the start of
     * the last one that did. Asked by {@link #lost()} on the run's thread too, so that a renewal call that hangs (an API
     * server unplugged) cannot keep the lease looking held while others already see it expired.
     */
    private void expireIfSilent() {
        StageLease.Holding held = holding;
        Instant last = lastRenewed;
        if (held == null || last == null || lost != null || closed) {
            return;
        }
        Duration since = Duration.between(last, clock.instant());
        if (since.compareTo(held.duration().minus(margin(held.duration()))) >= 0) {
            String fault = lastFault;
            lose("not renewed for " + Durations.format(Duration.ofSeconds(since.toSeconds())) + (fault == null ? "" : " (" + fault + ")")
                    + "; it may have expired for other runs", Optional.empty());
        }
    }

    private void renewLoop() {
        Duration every = holding.duration().dividedBy(3);
        while (!closed && lost == null) {
            sleeper.sleep(every);
            if (closed || Thread.currentThread().isInterrupted()) {
                return;
            }
            renewOnce();
        }
    }

    private synchronized void lose(String reason, Optional<String> holder) {
        if (lost != null || closed) {
            return;
        }
        lost = "the lease " + holding.lease() + " on stage " + stage + " was lost (" + reason + "); no new work is started on it";
        say.accept(lost);
        // The reason and the holder quote another holder's record: escaped and capped where the event is made.
        events.accept(new Event.LockLost(run, clock.instant(), Optional.of(stage), Optional.empty(), holding.lease(), Text.line(reason, 1000),
                holder.map(Text::foreign)));
    }

    /**
     * Stops renewing and releases the lease if it is still held (idempotent). A release that fails is said and not
     * thrown: the lease then expires by itself after its duration.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (renewer != null) {
            renewer.interrupt();
            try {
                renewer.join(Duration.ofSeconds(30).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (holding == null || lost != null) {
            return;
        }
        try {
            StageLease.Released released = lease.release();
            if (released.released()) {
                events.accept(new Event.LockLost(run, clock.instant(), Optional.of(stage), Optional.empty(), holding.lease(), Event.LockLost.RELEASED,
                        Optional.empty()));
                return;
            }
            // Taken over (or cleared) since the last renewal, unnoticed: the journal says so, not that this run released it.
            String reason = "lost before it was released: it was held by " + released.holder().orElse("nobody")
                    + " when this run released it";
            say.accept("the lease " + holding.lease() + " on stage " + stage + " was " + reason + "; another run may have changed"
                    + " the stage meanwhile");
            events.accept(new Event.LockLost(run, clock.instant(), Optional.of(stage), Optional.empty(), holding.lease(), reason,
                    released.holder()));
        } catch (RuntimeException fault) {
            say.accept("could not release lease " + holding.lease() + " (" + Text.oneLine(fault.getMessage()) + "); it expires "
                    + Durations.format(holding.duration()) + " after its last renewal");
        }
    }
}
