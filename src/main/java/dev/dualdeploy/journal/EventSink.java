package dev.dualdeploy.journal;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Where the engine says what it does: one {@link Event} per call, and nothing else. It carries the run id and the
 * injected clock, so that engine code can make the events it emits. A plain {@code Consumer<Event>}: whatever takes
 * one (a lease, an abort handler) can be handed a sink.
 */
public interface EventSink extends Consumer<Event> {

    /** The run the events belong to. */
    String run();

    /** The engine's injected clock, which every event's instant is taken from. */
    Clock clock();

    /**
     * Records one event and returns once it is recorded (in the CLI: journaled, fsynced and printed), so the engine
     * acts on its next decision only afterwards. Not idempotent: each call records one more event.
     */
    @Override
    void accept(Event event);

    /** The instant for an event made now, from {@link #clock()}. */
    default Instant now() {
        return clock().instant();
    }

    /** A sink of a new run on this clock that records nothing: for a benchmark, or a read that says nothing. */
    static EventSink discarding(Clock clock) {
        return of(RunIds.next(clock), clock, event -> { });
    }

    /** A sink of this run, on this clock, that hands each event to {@code consumer}. */
    static EventSink of(String run, Clock clock, Consumer<? super Event> consumer) {
        RunIds.check(run);
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(consumer, "consumer");
        return new EventSink() {
            @Override
            public String run() {
                return run;
            }

            @Override
            public Clock clock() {
                return clock;
            }

            @Override
            public void accept(Event event) {
                consumer.accept(event);
            }
        };
    }
}
