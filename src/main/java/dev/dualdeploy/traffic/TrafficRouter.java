package dev.dualdeploy.traffic;

/**
 * Sets and reads the share of a stage's traffic that Kubernetes serves. The router is the source of truth for where
 * traffic is: the engine never assumes a {@link #set} took effect, it reads back and compares (a mismatch is an
 * ERROR). Implementations are one per platform, in a package of their own ({@code traffic/<router>/}).
 */
public interface TrafficRouter extends AutoCloseable {

    /**
     * Reads the split the router applies now. Idempotent; never changes anything.
     *
     * @throws TrafficException if it cannot be read, or the router holds something that is not a split between the
     *                          two configured sides (the message says what it found)
     */
    Split read();

    /**
     * Makes the router apply this split, leaving everything else it holds as it was. Idempotent: setting the split it
     * already applies changes nothing a client sees. Returns once the router accepted the change; whether it took
     * effect is for {@link #read} to say.
     *
     * @throws TrafficException if the change was refused or could not be made; the split is then as {@link #read} says
     */
    void set(Split split);

    /** Where the router is, for messages: {@code cloudflare load balancer 699d… in zone 023e…}. Never a secret. */
    String describe();

    /** Releases the router's clients; the split stays as it is. */
    @Override
    default void close() {
    }
}
