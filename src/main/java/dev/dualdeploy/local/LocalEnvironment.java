package dev.dualdeploy.local;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;

/**
 * The embedded local environment: a simulated Kubernetes API, a simulated ECS API and a read-only OCI registry on
 * loopback, with a sample service running in four stages on both sides, plus the kubeconfig and
 * {@code dualdeploy.yaml} that point the CLI at them. The CLI reaches all three through its normal code path (a
 * kubeconfig file, an ECS endpoint, an image reference); nothing in the targets knows the environment is local.
 */
public final class LocalEnvironment implements AutoCloseable {

    public static final List<String> STAGES = List.of("sandbox", "preprod", "beta", "prod");
    public static final String SERVICE = "loan-api";
    /** The repository of {@link #sampleRelease}: releases named without the local registry (tests, examples). */
    public static final String REPOSITORY = "registry.example.com/loan-api";
    /** The versions the local registry serves, as tags: those the demo and the README use. */
    public static final List<String> SAMPLE_VERSIONS = List.of("0.9.0", "1.0.0", "1.1.0", "1.1.1", "1.2.0");
    public static final String REGION = "eu-west-1";
    /** Not a secret: the simulators accept any credentials, and these are what the local environment documents. */
    public static final String ACCESS_KEY = "local-environment";

    /** How a sample release is made to fail, on the sides chosen. */
    public enum Breakage {
        /** The image cannot be pulled: ErrImagePull/ImagePullBackOff on Kubernetes, CannotPullContainerError on ECS. */
        PULL,
        /** The container exits soon after starting: CrashLoopBackOff on Kubernetes, essential container exited on ECS. */
        CRASH
    }

    private final RegistrySimulator registry;
    private final KubernetesSimulator kubernetes;
    private final EcsSimulator ecs;
    private final Path kubeconfig;
    private final Path config;

    private LocalEnvironment(Path dir, Release given, String initialVersion, int replicas, int registryPort) throws IOException {
        Files.createDirectories(dir);
        this.registry = RegistrySimulator.start(SERVICE, SAMPLE_VERSIONS, registryPort);
        this.kubernetes = KubernetesSimulator.start();
        this.ecs = EcsSimulator.start(REGION);
        try {
            Release initial = given != null ? given : release(initialVersion);
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
     * Starts the simulators and the registry (on a free port), seeds {@value #SERVICE} at {@code initial} in every
     * stage on both sides, and writes {@code kubeconfig} and {@code dualdeploy.yaml} into {@code dir}.
     */
    public static LocalEnvironment start(Path dir, Release initial, int replicas) {
        return start(dir, initial, null, replicas, 0);
    }

    /**
     * As {@link #start(Path, Release, int)}, seeding the sample release {@code initialVersion} as the local registry
     * serves it ({@link #release}).
     *
     * @param registryPort the registry's loopback port, or 0 for a free one
     */
    public static LocalEnvironment start(Path dir, String initialVersion, int replicas, int registryPort) {
        return start(dir, null, initialVersion, replicas, registryPort);
    }

    private static LocalEnvironment start(Path dir, Release initial, String initialVersion, int replicas, int registryPort) {
        useLocalCredentials();
        try {
            return new LocalEnvironment(dir, initial, initialVersion, replicas, registryPort);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the local environment in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * A release of the sample service named under {@link #REPOSITORY}, with the digest the local registry serves for
     * that version (a version it does not serve gets the digest its manifest would have), so every run names the
     * same digests.
     */
    public static Release sampleRelease(String version) {
        return new Release(REPOSITORY, RegistrySimulator.image(SERVICE, version).digest(), version);
    }

    /** The sample release {@code version} as this environment's registry serves it: {@code 127.0.0.1:<port>/loan-api@sha256:…}. */
    public Release release(String version) {
        return new Release(registry.repository(), RegistrySimulator.image(SERVICE, version).digest(), version);
    }

    /**
     * Makes a sample release fail the given way on the given sides from now on, for pods and tasks started after this
     * call. {@code tagOrDigest} is a tag the registry serves ({@code 1.1.0}) or a {@code sha256:} digest.
     *
     * @return the digest that now fails
     * @throws IllegalArgumentException if the tag is not one the registry serves, or the digest is malformed
     */
    public String breakRelease(String tagOrDigest, Breakage how, Set<Side> sides) {
        String digest;
        if (tagOrDigest.startsWith("sha256:")) {
            digest = ImageRef.findDigest(tagOrDigest).filter(tagOrDigest::equals).orElseThrow(() -> new IllegalArgumentException(
                    "'" + tagOrDigest + "' is not a digest: sha256: and 64 lower-case hex digits"));
        } else {
            digest = registry.tagged(tagOrDigest).map(RegistrySimulator.Image::digest).orElseThrow(() -> new IllegalArgumentException(
                    "'" + tagOrDigest + "' is not a tag of the local registry; its tags are " + registry.tags()));
        }
        if (sides.contains(Side.KUBERNETES)) {
            kubernetes.breakImage(digest, how == Breakage.PULL ? KubernetesSimulator.Breakage.PULL : KubernetesSimulator.Breakage.CRASH);
        }
        if (sides.contains(Side.LEGACY)) {
            ecs.breakImage(digest, how == Breakage.PULL ? EcsSimulator.Breakage.PULL : EcsSimulator.Breakage.CRASH);
        }
        return digest;
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
                .append("image: ").append(registry.repository()).append('\n')
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

    /** The read-only registry that serves the sample releases. */
    public RegistrySimulator registry() {
        return registry;
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
        if (registry != null) {
            registry.close();
        }
    }
}
