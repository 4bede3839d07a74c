package dev.dualdeploy.net;

import dev.dualdeploy.config.Durations;
import java.time.Duration;
import java.util.Optional;

/**
 * How long the CLI waits for a platform (Kubernetes, ECS, CloudWatch, a registry) before it says the platform did not
 * answer. A platform that accepts connections and never answers would otherwise hold a run for minutes: the clients'
 * own defaults retry up to ten times with growing pauses. The defaults are {@value #CONNECT_PROPERTY} {@code 5s},
 * {@value #READ_PROPERTY} {@code 10s} and {@value #RETRIES_PROPERTY} {@code 1}; each can be changed with a JVM system
 * property of that name (tests shorten them; a slow network lengthens them).
 *
 * @param connect how long opening a connection may take
 * @param read how long one request may wait for its answer
 * @param retries how often a failed request is tried again (0 to 5)
 */
public record Timeouts(Duration connect, Duration read, int retries) {

    public static final String CONNECT_PROPERTY = "dualdeploy.timeout.connect";
    public static final String READ_PROPERTY = "dualdeploy.timeout.read";
    public static final String RETRIES_PROPERTY = "dualdeploy.timeout.retries";
    /** The longest a timeout may be set to, so that no setting can make a run wait for hours. */
    public static final Duration MAX = Duration.ofMinutes(10);

    /** The documented defaults. */
    public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), 1);

    /** The defaults, each overridden by its system property when set. */
    public static Timeouts current() {
        return new Timeouts(duration(CONNECT_PROPERTY, DEFAULT.connect), duration(READ_PROPERTY, DEFAULT.read),
                retries(DEFAULT.retries));
    }

    /**
     * How long one call may take with its retries: every attempt's connect and read, plus the pauses between them.
     * The bound a caller can promise a person ("no answer within …").
     */
    public Duration call() {
        return connect.plus(read).multipliedBy(retries + 1L).plus(Duration.ofSeconds(retries));
    }

    private static Duration duration(String property, Duration fallback) {
        String value = System.getProperty(property);
        if (value == null) {
            return fallback;
        }
        Optional<Duration> parsed = Durations.parse(value.trim()).filter(d -> d.compareTo(MAX) <= 0);
        return parsed.orElseThrow(() -> new IllegalArgumentException("system property " + property
                + " must be a duration from 1ms to 10m, such as 10s"));
    }

    private static int retries(int fallback) {
        String value = System.getProperty(RETRIES_PROPERTY);
        if (value == null) {
            return fallback;
        }
        if (!value.trim().matches("[0-5]")) {
            throw new IllegalArgumentException("system property " + RETRIES_PROPERTY + " must be a number from 0 to 5");
        }
        return Integer.parseInt(value.trim());
    }
}
