package dev.dualdeploy.config;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * An ECS service that runs the release: the legacy side of a stage on ECS.
 *
 * @param cluster the cluster name or ARN
 * @param service the service name
 * @param container the container in the task definition whose image is the release
 * @param region the AWS region
 * @param endpoint an ECS endpoint override; only for local environments and simulators
 * @param poll how often the service's deployments are read while a rollout runs (ECS has no watch API)
 */
public record EcsSpec(String cluster, String service, String container, String region,
                      Optional<URI> endpoint, Duration poll) implements LegacySpec {

    /** The default poll interval: often enough to fail fast, rare enough to stay far from ECS API rate limits. */
    public static final Duration DEFAULT_POLL = Duration.ofSeconds(3);
    /** The poll interval's range: faster would hit ECS rate limits, slower would notice a broken release too late. */
    public static final Duration MIN_POLL = Duration.ofMillis(100);
    public static final Duration MAX_POLL = Duration.ofMinutes(5);

    @Override
    public <T> T match(Function<EcsSpec, T> ecs) {
        return ecs.apply(this);
    }
}
