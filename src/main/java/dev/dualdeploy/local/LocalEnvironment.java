package dev.dualdeploy.local;

import dev.dualdeploy.release.Release;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;

/**
 * The embedded local environment: a simulated Kubernetes API and a simulated ECS API on loopback, with a sample
 * service running in four stages on both, plus the kubeconfig and {@code dualdeploy.yaml} that point the CLI at
 * them. The CLI reaches both through its normal code path (a kubeconfig file and an ECS endpoint); nothing in the
 * targets knows the environment is local.
 */
public final class LocalEnvironment implements AutoCloseable {

    public static final List<String> STAGES = List.of("sandbox", "preprod", "beta", "prod");
    public static final String SERVICE = "loan-api";
    public static final String REPOSITORY = "registry.example.com/loan-api";
    public static final String REGION = "eu-west-1";
    /** Not a secret: the simulators accept any credentials, and these are what the local environment documents. */
    public static final String ACCESS_KEY = "local-environment";

    private final KubernetesSimulator kubernetes;
    private final EcsSimulator ecs;
    private final Path kubeconfig;
    private final Path config;

    private LocalEnvironment(Path dir, Release initial, int replicas) throws IOException {
        Files.createDirectories(dir);
        this.kubernetes = KubernetesSimulator.start();
        this.ecs = EcsSimulator.start(REGION);
        try {
            Map<String, String> contexts = new LinkedHashMap<>();
            try (EcsClient client = EcsClient.builder().region(Region.of(REGION)).endpointOverride(ecs.endpoint())
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, ACCESS_KEY)))
                    .httpClientBuilder(UrlConnectionHttpClient.builder()).build()) {
                for (String stage : STAGES) {
                    contexts.put(stage, stage);
                    kubernetes.seedDeployment(stage, SERVICE, "app", initial.image(), replicas);
                    client.createCluster(r -> r.clusterName(stage));
                    String definition = client.registerTaskDefinition(r -> r.family(SERVICE).networkMode("awsvpc")
                            .requiresCompatibilitiesWithStrings("FARGATE").cpu("256").memory("512")
                            .containerDefinitions(c -> c.name("app").image(initial.image()).essential(true)
                                    .portMappings(p -> p.containerPort(8080))))
                            .taskDefinition().taskDefinitionArn();
                    client.createService(r -> r.cluster(stage).serviceName(SERVICE).taskDefinition(definition)
                            .desiredCount(replicas).launchType("FARGATE")
                            .deploymentConfiguration(d -> d.deploymentCircuitBreaker(b -> b.enable(true).rollback(false))));
                }
            }
            this.kubeconfig = kubernetes.writeKubeconfig(dir.resolve("kubeconfig"), contexts);
            this.config = dir.resolve("dualdeploy.yaml");
            Files.writeString(config, configYaml());
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Starts the simulators, seeds {@value #SERVICE} at {@code initial} in every stage on both sides, and writes
     * {@code kubeconfig} and {@code dualdeploy.yaml} into {@code dir}.
     */
    public static LocalEnvironment start(Path dir, Release initial, int replicas) {
        useLocalCredentials();
        try {
            return new LocalEnvironment(dir, initial, replicas);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the local environment's files in " + dir, e);
        }
    }

    /** A release of the sample service whose digest is derived from its version, so every run names the same digests. */
    public static Release sampleRelease(String version) {
        return new Release(REPOSITORY, "sha256:" + KubernetesSimulator.sha256(SERVICE + " " + version), version);
    }

    /**
     * Makes the AWS default credential chain of this process find the local environment's credentials before
     * anything else, and never ask an instance metadata endpoint (which would leave the machine).
     */
    public static void useLocalCredentials() {
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", ACCESS_KEY);
        System.setProperty("aws.disableEc2Metadata", "true");
    }

    private String configYaml() {
        StringBuilder yaml = new StringBuilder()
                .append("# Written by `dualdeploy local`: the sample service in the embedded local environment.\n")
                .append("service: ").append(SERVICE).append('\n')
                .append("image: ").append(REPOSITORY).append('\n')
                .append("stages:\n");
        for (String stage : STAGES) {
            yaml.append("  - name: ").append(stage).append('\n')
                    .append("    deploy: { legacy: true, kubernetes: true }\n")
                    .append("    legacy:\n")
                    .append("      ecs: { cluster: ").append(stage).append(", service: ").append(SERVICE)
                    .append(", container: app, region: ").append(REGION).append(", endpoint: '").append(ecs.endpoint())
                    .append("', poll: 100ms }\n")
                    .append("    kubernetes: { context: ").append(stage).append(", namespace: ").append(stage)
                    .append(", deployment: ").append(SERVICE).append(", container: app, kubeconfig: '")
                    .append(kubeconfig.toAbsolutePath()).append("' }\n")
                    .append("    timeout: 2m\n");
        }
        return yaml.toString();
    }

    public KubernetesSimulator kubernetes() {
        return kubernetes;
    }

    public EcsSimulator ecs() {
        return ecs;
    }

    /** The generated {@code dualdeploy.yaml}. */
    public Path config() {
        return config;
    }

    /** The generated kubeconfig, with one context per stage. */
    public Path kubeconfig() {
        return kubeconfig;
    }

    @Override
    public void close() {
        if (kubernetes != null) {
            kubernetes.close();
        }
        if (ecs != null) {
            ecs.close();
        }
    }
}
