package dev.dualdeploy.testing;

import dev.dualdeploy.config.EcsSpec;
import dev.dualdeploy.local.EcsSimulator;
import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;

/** Seeds the ECS simulator through the real SDK, as a team's existing service would be. */
public final class EcsFixture {

    public static final String REGION = "eu-west-1";

    private EcsFixture() {
    }

    /** A client of the simulator with throwaway static credentials. */
    public static EcsClient client(EcsSimulator sim) {
        return EcsClient.builder().region(Region.of(REGION)).endpointOverride(sim.endpoint())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClientBuilder(UrlConnectionHttpClient.builder()).build();
    }

    /** The spec of a service in the simulator, polled every 50 ms. */
    public static EcsSpec spec(EcsSimulator sim, String cluster, String service) {
        return new EcsSpec(cluster, service, "app", REGION, Optional.of(sim.endpoint()), Duration.ofMillis(50));
    }

    /** Creates a cluster and a service of {@code desired} tasks on a one-container task definition. */
    public static void seed(EcsClient client, String cluster, String service, String image, int desired, boolean circuitBreaker) {
        seed(client, cluster, service, RegisterTaskDefinitionRequest.builder().family(service)
                .containerDefinitions(c -> c.name("app").image(image).essential(true).memory(512)).build(), desired, circuitBreaker);
    }

    /** Creates a cluster and a service of {@code desired} tasks on the given task definition. */
    public static void seed(EcsClient client, String cluster, String service, RegisterTaskDefinitionRequest definition,
                            int desired, boolean circuitBreaker) {
        client.createCluster(r -> r.clusterName(cluster));
        String arn = client.registerTaskDefinition(definition).taskDefinition().taskDefinitionArn();
        client.createService(r -> r.cluster(cluster).serviceName(service).taskDefinition(arn).desiredCount(desired)
                .deploymentConfiguration(c -> c.deploymentCircuitBreaker(b -> b.enable(circuitBreaker).rollback(false))));
    }
}
