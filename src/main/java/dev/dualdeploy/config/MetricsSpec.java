package dev.dualdeploy.config;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Where a gate's metrics come from, and the queries it runs. Credentials are never in the file: {@code auth} names
 * the environment variables that hold them (the Jenkins step binds them there).
 *
 * @param provider prometheus or cloudwatch
 * @param address Prometheus' base URL
 * @param region CloudWatch's region
 * @param endpoint CloudWatch's endpoint, when not the region's default
 * @param auth Prometheus' credentials, by environment variable name
 * @param timeout how long one query may take
 * @param delay how far behind now a window ends, for providers whose data arrives late (CloudWatch: a minute or more)
 * @param queries query templates by metric name; {@code requests} and {@code errors} are counts per window, and any
 *                other name is a value per window (a rate, a latency)
 */
public record MetricsSpec(Provider provider, Optional<URI> address, Optional<String> region, Optional<URI> endpoint,
                          Auth auth, Duration timeout, Duration delay, Map<String, String> queries) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /** The metrics back ends. */
    public enum Provider { PROMETHEUS, CLOUDWATCH }

    /**
     * The names of the environment variables holding Prometheus' credentials: a bearer token, or a user and a
     * password. All empty for none.
     */
    public record Auth(Optional<String> bearerTokenEnv, Optional<String> usernameEnv, Optional<String> passwordEnv) {

        public static final Auth NONE = new Auth(Optional.empty(), Optional.empty(), Optional.empty());
    }

    public MetricsSpec {
        queries = Map.copyOf(queries);
    }
}
