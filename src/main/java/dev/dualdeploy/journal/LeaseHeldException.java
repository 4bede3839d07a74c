package dev.dualdeploy.journal;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.text.Text;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Another holder holds a stage's lease (or, from {@link StageLease#renew()}, this run no longer does). The CLI exits
 * with its own code for it. The holder is text read from the platform, written by whoever wrote the lease: it is
 * escaped and capped here, once, so that no reader prints it raw.
 */
public final class LeaseHeldException extends RuntimeException {

    /** The longest holder printed; a Lease written by hand can hold megabytes. */
    public static final int MAX_HOLDER = 200;

    private final String lease;
    private final Optional<String> holder;
    private final Optional<Instant> since;
    private final String detail;

    /**
     * @param lease the lease's name
     * @param holder who holds it, as read (any text; sanitized here), or empty if nobody does
     * @param since when the holder took it, or empty if not known
     */
    public LeaseHeldException(String lease, Optional<String> holder, Optional<Instant> since) {
        this(lease, holder, since, "");
    }

    /**
     * @param detail this run's own words on when the lease may be taken over, appended after {@code ; } (not from the
     *               platform: not escaped), or empty
     */
    public LeaseHeldException(String lease, Optional<String> holder, Optional<Instant> since, String detail) {
        this(lease, holder.map(LeaseHeldException::printable), since, detail, "");
    }

    private LeaseHeldException(String lease, Optional<String> printable, Optional<Instant> since, String detail, String suffix) {
        super(message(lease, printable, since) + (detail.isEmpty() ? "" : "; " + detail) + suffix);
        this.lease = lease;
        this.holder = printable;
        this.since = since;
        this.detail = detail;
    }

    /** The same, saying how long the run waited for the lease. */
    public LeaseHeldException waited(Duration wait) {
        return new LeaseHeldException(lease, holder, since, detail, "; waited " + Durations.format(wait));
    }

    /** The lease's name. */
    public String lease() {
        return lease;
    }

    /** Who holds the lease, escaped and capped for printing; empty if nobody does. */
    public Optional<String> holder() {
        return holder;
    }

    /** When the holder took the lease, or empty if the lease does not say (or says it unreadably). */
    public Optional<Instant> since() {
        return since;
    }

    /** Holder text from a platform as it may be printed: one line, control characters escaped, capped. */
    public static String printable(String holder) {
        return Text.line(holder, MAX_HOLDER);
    }

    private static String message(String lease, Optional<String> holder, Optional<Instant> since) {
        return "lease " + lease + " is " + holder.map(h -> "held by " + h + since.map(s -> " since " + s).orElse(" (since an unknown time)"))
                .orElse("held by nobody (released or deleted by someone else)");
    }
}
