package dev.dualdeploy.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The one router a stage's {@code cutover.router:} names: where the Kubernetes share of its traffic is set and read. */
public sealed interface RouterSpec permits RouterSpec.Cloudflare, RouterSpec.Alb, RouterSpec.Route53, RouterSpec.Nginx {

    /** The router's key in the config: {@code cloudflare}, {@code alb}, {@code route53} or {@code nginx}. */
    String kind();

    /**
     * A Cloudflare load balancer with two origin pools, steered at random by pool weight.
     *
     * @param zoneId the zone the load balancer is in
     * @param loadBalancerId the load balancer
     * @param legacyPool the pool of the legacy side
     * @param kubernetesPool the pool of the Kubernetes side
     * @param tokenEnv the environment variable that holds the API token (the token never goes in the file)
     * @param endpoint the API base URL override; only for local environments and simulators
     */
    record Cloudflare(String zoneId, String loadBalancerId, String legacyPool, String kubernetesPool, String tokenEnv,
                      Optional<URI> endpoint) implements RouterSpec {

        /** The v4 API's base URL. */
        public static final URI API = URI.create("https://api.cloudflare.com/client/v4/");

        @Override
        public String kind() {
            return "cloudflare";
        }
    }

    /**
     * An ALB listener rule (or the listener's default action) that forwards to two weighted target groups.
     *
     * @param region the AWS region
     * @param listenerArn the listener
     * @param ruleArn the rule whose forward action is weighted; empty for the listener's default action
     * @param legacyTargetGroup the target group of the legacy side
     * @param kubernetesTargetGroup the target group of the Kubernetes side
     * @param endpoint an ELBv2 endpoint override; only for local environments and simulators
     */
    record Alb(String region, String listenerArn, Optional<String> ruleArn, String legacyTargetGroup, String kubernetesTargetGroup,
               Optional<URI> endpoint) implements RouterSpec {

        @Override
        public String kind() {
            return "alb";
        }
    }

    /**
     * Two Route53 weighted records of one name and type, told apart by their set identifiers.
     *
     * @param region the AWS region the client signs for (Route53 is global; any region works)
     * @param hostedZoneId the hosted zone
     * @param name the record name, such as {@code api.example.com}
     * @param type the record type, such as {@code CNAME} or {@code A}
     * @param legacySet the set identifier of the legacy side's record
     * @param kubernetesSet the set identifier of the Kubernetes side's record
     * @param endpoint a Route53 endpoint override; only for local environments and simulators
     */
    record Route53(String region, String hostedZoneId, String name, String type, String legacySet, String kubernetesSet,
                   Optional<URI> endpoint) implements RouterSpec {

        @Override
        public String kind() {
            return "route53";
        }
    }

    /**
     * An nginx in front of both sides, splitting requests between two named upstreams by an include file that
     * dual-deploy writes.
     *
     * @param file the include file dual-deploy owns and rewrites (it must be included in nginx's {@code http} block)
     * @param legacyUpstream the upstream block of the legacy side
     * @param kubernetesUpstream the upstream block of the Kubernetes side
     * @param variable the nginx variable (without {@code $}) that holds the chosen upstream, for {@code proxy_pass}
     * @param test the command that tests nginx's configuration, as an argument list (never a shell string)
     * @param reload the command that makes nginx load it, as an argument list (never a shell string)
     * @param probe a URL of the running nginx whose answer carries the split's header; read back from it
     * @param timeout how long the test, the reload and the read-back may take together
     */
    record Nginx(Path file, String legacyUpstream, String kubernetesUpstream, String variable, List<String> test,
                 List<String> reload, URI probe, Duration timeout) implements RouterSpec {

        public static final List<String> DEFAULT_TEST = List.of("nginx", "-t");
        public static final List<String> DEFAULT_RELOAD = List.of("nginx", "-s", "reload");
        public static final String DEFAULT_VARIABLE = "dualdeploy_upstream";
        public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

        public Nginx {
            test = List.copyOf(test);
            reload = List.copyOf(reload);
        }

        @Override
        public String kind() {
            return "nginx";
        }
    }
}
