package dev.dualdeploy.time;

import java.time.Duration;

/** Waits between polls; injected so tests can step time instead of sleeping. */
@FunctionalInterface
public interface Sleeper {

    /** Sleeps for the duration; an interrupt is restored on the thread and ends the sleep early. */
    void sleep(Duration duration);

    /** The real thing. */
    Sleeper SYSTEM = duration -> {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    };
}
