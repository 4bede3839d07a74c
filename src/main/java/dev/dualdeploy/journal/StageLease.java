package dev.dualdeploy.journal;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A lease on one stage of one service, held on the platform by one run at a time, so that two runs (two Jenkins
 * controllers, a person at a terminal, a cutover started elsewhere) never change a stage at once. The lease names its
 * holder when it is constructed; it expires {@link Holding#duration()} after its last renewal, so a holder that dies
 * (kill -9, a lost agent) blocks the stage for at most that long. {@link LeaseKeeper} renews it while the run lives.
 */
public interface StageLease {

    /** The lease's name on the platform, such as {@code dualdeploy-loan-api-prod} (idempotent, reads nothing). */
    String name();

    /**
     * Takes the lease for this holder when it is free, released, expired, or already this holder's (then it is
     * renewed: idempotent for one holder).
     *
     * @return what this holder now holds
     * @throws LeaseHeldException if another holder holds it and it has not expired
     * @throws RuntimeException (the platform's own, such as {@code TargetException}) if the platform could not be read
     *                          or written
     */
    Holding take();

    /**
     * Renews the lease this holder holds (idempotent). Never takes a lease this holder no longer holds: a lease that
     * was released, deleted or taken over since is lost, even if it is free now, as another run may have changed the
     * stage in between.
     *
     * @throws LeaseHeldException if this holder no longer holds it (the exception names who does, if anyone)
     * @throws RuntimeException (the platform's own) if the platform could not be read or written; the lease may still
     *                          be held
     */
    void renew();

    /**
     * Gives the lease up if this holder holds it, as a compare-and-set on what was read, so that a lease taken over
     * meanwhile is never cleared; does nothing otherwise (idempotent).
     *
     * @return whether this holder held it and gave it up, or who held it instead (empty: nobody)
     * @throws RuntimeException (the platform's own) if the platform could not be read or written
     */
    Released release();

    /**
     * What a {@link #release()} found.
     *
     * @param released true if this holder held the lease and it is free now; false if it was no longer this holder's
     * @param holder who held it instead, escaped for printing; empty if it was released or nobody held it
     */
    record Released(boolean released, Optional<String> holder) {
        public Released {
            Objects.requireNonNull(holder, "holder");
        }
    }

    /**
     * A lease as held.
     *
     * @param lease the lease's name
     * @param holder the holder written into it
     * @param since when the holder took it
     * @param duration how long it lives without renewal
     */
    record Holding(String lease, String holder, Instant since, Duration duration) {
        public Holding {
            Objects.requireNonNull(lease, "lease");
            Objects.requireNonNull(holder, "holder");
            Objects.requireNonNull(since, "since");
            Objects.requireNonNull(duration, "duration");
        }
    }
}
