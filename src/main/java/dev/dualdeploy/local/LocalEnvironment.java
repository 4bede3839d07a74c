package dev.dualdeploy.local;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ActionTypeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ProtocolEnum;

/**
 * The embedded local environment: a simulated Kubernetes API, a simulated ECS API and a read-only OCI registry on
 * loopback, with a sample service running in four stages on both sides, plus the kubeconfig and
 * {@code dualdeploy.yaml} that point the CLI at them. The CLI reaches all three through its normal code path (a
 * kubeconfig file, an ECS endpoint, an image reference); nothing in the targets knows the environment is local. A
 * CloudWatch API answers each stage's request and error counts per side ({@link Traffic}), for the gate that
 * {@code dualdeploy.yaml} has when the environment is started with one.
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
        CRASH,
        /**
         * The release runs and stays healthy, but a share of its requests fail: only a gate's error check (the local
         * CloudWatch's counts, see {@link Traffic}) catches it.
         */
        ERRORS,
        /**
         * The release never starts and never fails (an image pull that never ends): its pods stay ContainerCreating and
         * its tasks PENDING, so a rollout of it is under way until its timeout (tests that interrupt a rollout).
         */
        STALL,
        /**
         * The release runs and passes its gate at low traffic, but serves errors while its side serves more than a
         * capacity: a cutover step that sends it enough of the live traffic fails ({@link Traffic#overload}).
         */
        OVERLOAD
    }

    /** The share of requests a release broken with {@link Breakage#ERRORS} fails when none is given, in percent. */
    public static final double DEFAULT_ERROR_PERCENT = 20;

    /**
     * The requests a second above which a release broken with {@link Breakage#OVERLOAD} fails when none is given: above
     * what a side serves at 25% of a stage's live traffic (200 + 500), below what it serves at 50% (200 + 1,000).
     */
    public static final double DEFAULT_CAPACITY = 800;

    /**
     * The gate {@code dualdeploy.yaml} gives every stage when asked for one: a sequential error check of each side
     * against its own requests before the deploy, soaking {@code soak} in windows of {@code interval}.
     */
    public record GateTiming(Duration soak, Duration interval) {
        /** Short, so a deploy in the local environment stays quick: three windows of two seconds. */
        public static final GateTiming DEFAULT = new GateTiming(Duration.ofSeconds(6), Duration.ofSeconds(2));
    }

    private final RegistrySimulator registry;
    private final KubernetesSimulator kubernetes;
    private final EcsSimulator ecs;
    private final CloudWatchSimulator cloudwatch;
    private final ElbSimulator elb;
    private final CloudflareSimulator cloudflare;
    private final Route53Simulator route53;
    /** Each stage's ALB (sandbox, prod): its listener, and the target groups of its legacy and Kubernetes sides. */
    private final Map<String, Alb> albs = new LinkedHashMap<>();
    /** Each stage's Cloudflare load balancer (beta). */
    private final Map<String, CloudflareLb> cloudflares = new LinkedHashMap<>();
    /** Each stage's weighted DNS records (preprod). */
    private final Map<String, Dns> dns = new LinkedHashMap<>();
    private final GateTiming cutoverTiming;
    private final Traffic traffic = new Traffic(Clock.systemUTC());
    private final Optional<GateTiming> gate;
    private final List<String> stages;
    private final Path kubeconfig;
    private final Path config;

    /** A stage's load balancer in the ELBv2 simulator: where its cutover moves traffic. */
    private record Alb(String listener, String legacy, String kubernetes) {
    }

    /** A stage's load balancer in the Cloudflare simulator, with its two pools. */
    private record CloudflareLb(String zone, String id, String legacyPool, String kubernetesPool) {
    }

    /** A stage's two weighted records in the Route53 simulator. */
    private record Dns(String zone, String name) {
    }

    /** The router each stage's cutover uses: Route53 for preprod, Cloudflare for beta, an ALB for the others. */
    static String router(String stage) {
        return stage.equals("preprod") ? "route53" : stage.equals("beta") ? "cloudflare" : "alb";
    }

    /** The variable {@code dualdeploy.yaml} names for the Cloudflare token (beta's cutover), and the token itself. */
    public static final String CLOUDFLARE_TOKEN_ENV = "LOCAL_CF_API_TOKEN";
    /** Not a secret: the local Cloudflare simulator accepts this token only, and the local environment documents it. */
    public static final String CLOUDFLARE_TOKEN = "local-environment-cloudflare-token";

    private LocalEnvironment(Path dir, Release given, String initialVersion, int replicas, int registryPort,
                             Optional<GateTiming> gate, List<String> stages) throws IOException {
        Files.createDirectories(dir);
        this.gate = gate;
        this.cutoverTiming = gate.orElse(GateTiming.DEFAULT);
        this.stages = List.copyOf(stages);
        this.registry = RegistrySimulator.start(SERVICE, SAMPLE_VERSIONS, registryPort);
        this.kubernetes = KubernetesSimulator.start();
        this.ecs = EcsSimulator.start(REGION);
        this.cloudwatch = CloudWatchSimulator.start();
        this.elb = ElbSimulator.start();
        this.cloudflare = CloudflareSimulator.start(CLOUDFLARE_TOKEN);
        this.route53 = Route53Simulator.start();
        try {
            Release initial = given != null ? given : release(initialVersion);
            // What each side serves is what its platform was last told to run; the local CloudWatch counts from it.
            kubernetes.onServing((namespace, image) -> ImageRef.findDigest(image)
                    .ifPresent(digest -> traffic.runs(namespace, Side.KUBERNETES, digest)));
            ecs.onServing((cluster, image) -> ImageRef.findDigest(image).ifPresent(digest -> traffic.runs(cluster, Side.LEGACY, digest)));
            cloudwatch.compute(this::metric);
            // The live traffic of each stage follows its ALB's weights from the moment they change.
            elb.onModified(arn -> albs.forEach((stage, alb) -> {
                if (alb.listener().equals(arn)) {
                    Map<String, Integer> weights = elb.forwardWeights(arn);
                    int legacy = weights.getOrDefault(alb.legacy(), 0);
                    int kubernetes = weights.getOrDefault(alb.kubernetes(), 0);
                    if (legacy + kubernetes > 0) {
                        traffic.split(stage, 100.0 * kubernetes / (legacy + kubernetes));
                    }
                }
            }));
            Map<String, String> contexts = new LinkedHashMap<>();
            try (EcsClient client = EcsClient.builder().region(Region.of(REGION)).endpointOverride(ecs.endpoint())
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, ACCESS_KEY)))
                    .httpClientBuilder(UrlConnectionHttpClient.builder()).build()) {
                for (String stage : this.stages) {
                    contexts.put(stage, stage);
                    traffic.runs(stage, Side.KUBERNETES, initial.digest());
                    traffic.runs(stage, Side.LEGACY, initial.digest());
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
            seedCloudflare();
            seedRoute53();
            try (ElasticLoadBalancingV2Client client = ElasticLoadBalancingV2Client.builder().region(Region.of(REGION))
                    .endpointOverride(elb.endpoint())
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, ACCESS_KEY)))
                    .httpClientBuilder(UrlConnectionHttpClient.builder()).build()) {
                for (String stage : this.stages.stream().filter(st -> router(st).equals("alb")).toList()) {
                    String legacy = elb.targetGroup(stage + "-legacy");
                    String kubernetes = elb.targetGroup(stage + "-kubernetes");
                    // Before its first cutover a stage's listener forwards to the legacy side alone, as a migrating one does.
                    String listener = client.createListener(r -> r.loadBalancerArn(elb.loadBalancer(stage)).protocol(ProtocolEnum.HTTP)
                            .port(80).defaultActions(a -> a.type(ActionTypeEnum.FORWARD).targetGroupArn(legacy)))
                            .listeners().get(0).listenerArn();
                    albs.put(stage, new Alb(listener, legacy, kubernetes));
                    traffic.split(stage, 0);
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
        return start(dir, initial, null, replicas, 0, Optional.empty(), STAGES);
    }

    /**
     * As {@link #start(Path, Release, int)}, with only {@code stages} (some of {@link #STAGES}) seeded and in
     * {@code dualdeploy.yaml}, in the order given: a test that uses one stage does not pay for seeding the other three.
     *
     * @throws IllegalArgumentException if a stage is not one of {@link #STAGES}
     */
    public static LocalEnvironment start(Path dir, Release initial, int replicas, List<String> stages) {
        return start(dir, initial, null, replicas, 0, Optional.empty(), stages);
    }

    /**
     * As {@link #start(Path, Release, int)}, seeding the sample release {@code initialVersion} as the local registry
     * serves it ({@link #release}).
     *
     * @param registryPort the registry's loopback port, or 0 for a free one
     */
    public static LocalEnvironment start(Path dir, String initialVersion, int replicas, int registryPort) {
        return start(dir, null, initialVersion, replicas, registryPort, Optional.empty(), STAGES);
    }

    /**
     * As {@link #start(Path, String, int, int)}, with a {@code gate:} on every stage of {@code dualdeploy.yaml} when
     * {@code gate} is present: each deploy then soaks, and a release broken with {@link Breakage#ERRORS} fails its gate.
     */
    public static LocalEnvironment start(Path dir, String initialVersion, int replicas, int registryPort, Optional<GateTiming> gate) {
        return start(dir, null, initialVersion, replicas, registryPort, gate, STAGES);
    }

    /**
     * As {@link #start(Path, String, int, int, Optional)}, with only {@code stages} (some of {@link #STAGES}) seeded and
     * in {@code dualdeploy.yaml}.
     *
     * @throws IllegalArgumentException if a stage is not one of {@link #STAGES}
     */
    public static LocalEnvironment start(Path dir, String initialVersion, int replicas, int registryPort, Optional<GateTiming> gate,
                                         List<String> stages) {
        return start(dir, null, initialVersion, replicas, registryPort, gate, stages);
    }

    private static LocalEnvironment start(Path dir, Release initial, String initialVersion, int replicas, int registryPort,
                                          Optional<GateTiming> gate, List<String> stages) {
        if (stages.isEmpty() || !STAGES.containsAll(stages)) {
            throw new IllegalArgumentException("the local environment's stages are " + STAGES + "; " + stages + " is not a part of them");
        }
        useLocalCredentials();
        try {
            return new LocalEnvironment(dir, initial, initialVersion, replicas, registryPort, gate, stages);
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
     * call. {@code tagOrDigest} is a tag the registry serves ({@code 1.1.0}) or a {@code sha256:} digest. A release
     * broken with {@link Breakage#ERRORS} fails {@value #DEFAULT_ERROR_PERCENT}% of its requests.
     *
     * @return the digest that now fails
     * @throws IllegalArgumentException if the tag is not one the registry serves, or the digest is malformed
     */
    public String breakRelease(String tagOrDigest, Breakage how, Set<Side> sides) {
        return breakRelease(tagOrDigest, how, sides, DEFAULT_ERROR_PERCENT);
    }

    /**
     * As {@link #breakRelease(String, Breakage, Set)}; with {@link Breakage#ERRORS}, {@code errorPercent} of the
     * release's requests fail on those sides, in every window a gate asks for from now on (also windows in which it
     * already ran: the counts are computed when asked).
     *
     * @throws IllegalArgumentException also if {@code errorPercent} is not above 0 and at most 100
     */
    public String breakRelease(String tagOrDigest, Breakage how, Set<Side> sides, double errorPercent) {
        if (how == Breakage.ERRORS && !(errorPercent > 0 && errorPercent <= 100)) {
            throw new IllegalArgumentException("an error share of " + errorPercent + "% is not above 0% and at most 100%");
        }
        if (how == Breakage.OVERLOAD) {
            return overloadRelease(tagOrDigest, sides, DEFAULT_CAPACITY, errorPercent);
        }
        String digest = digest(tagOrDigest);
        if (how == Breakage.ERRORS) {
            sides.forEach(side -> traffic.serveErrors(digest, side, errorPercent / 100));
            return digest;
        }
        if (sides.contains(Side.KUBERNETES)) {
            kubernetes.breakImage(digest, how == Breakage.PULL ? KubernetesSimulator.Breakage.PULL
                    : how == Breakage.STALL ? KubernetesSimulator.Breakage.STALL : KubernetesSimulator.Breakage.CRASH);
        }
        if (sides.contains(Side.LEGACY)) {
            ecs.breakImage(digest, how == Breakage.PULL ? EcsSimulator.Breakage.PULL
                    : how == Breakage.STALL ? EcsSimulator.Breakage.STALL : EcsSimulator.Breakage.CRASH);
        }
        return digest;
    }

    /**
     * Makes a sample release serve {@code errorPercent} errors on the given sides while a side serves more than
     * {@code capacity} requests a second ({@link Breakage#OVERLOAD}), in every window a gate asks for from now on.
     *
     * @return the digest that now fails under load
     * @throws IllegalArgumentException if the tag is not one the registry serves, the digest is malformed, or a number is
     *                                  out of range
     */
    public String overloadRelease(String tagOrDigest, Set<Side> sides, double capacity, double errorPercent) {
        if (!(errorPercent > 0 && errorPercent <= 100) || !(capacity >= 1)) {
            throw new IllegalArgumentException("an overload needs a capacity of at least 1 request a second and an error share above"
                    + " 0% and at most 100%");
        }
        String digest = digest(tagOrDigest);
        sides.forEach(side -> traffic.overload(digest, side, capacity, errorPercent / 100));
        return digest;
    }

    private String digest(String tagOrDigest) {
        if (tagOrDigest.startsWith("sha256:")) {
            return ImageRef.findDigest(tagOrDigest).filter(tagOrDigest::equals).orElseThrow(() -> new IllegalArgumentException(
                    "'" + tagOrDigest + "' is not a digest: sha256: and 64 lower-case hex digits"));
        }
        return registry.tagged(tagOrDigest).map(RegistrySimulator.Image::digest).orElseThrow(() -> new IllegalArgumentException(
                "'" + tagOrDigest + "' is not a tag of the local registry; its tags are " + registry.tags()));
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
        for (String stage : stages) {
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
            gate.ifPresent(timing -> yaml.append(gateYaml(timing)));
            yaml.append(cutoverYaml(stage));
        }
        return yaml.toString();
    }

    /**
     * A stage's gate: each side's error share against its own before the deploy (the mixture sequential test, which
     * may fail after the first window), read from the local CloudWatch, which has no publishing delay.
     */
    private String gateYaml(GateTiming timing) {
        return gateYaml("    ", timing, "before-deploy");
    }

    /**
     * A stage's cutover: its router (an ALB, a Cloudflare load balancer or Route53 records, in their simulators), the
     * steps 10 → 25 → 50 → 100, and at each step the error share of kubernetes against legacy's under the same live
     * traffic, from the local CloudWatch.
     */
    private String cutoverYaml(String stage) {
        String router;
        if (albs.containsKey(stage)) {
            Alb alb = albs.get(stage);
            router = "alb: { region: " + REGION + ", listener_arn: '" + alb.listener() + "', legacy_target_group: '" + alb.legacy()
                    + "', kubernetes_target_group: '" + alb.kubernetes() + "', endpoint: '" + elb.endpoint() + "' }";
        } else if (cloudflares.containsKey(stage)) {
            CloudflareLb lb = cloudflares.get(stage);
            router = "cloudflare: { zone_id: " + lb.zone() + ", load_balancer_id: " + lb.id() + ", legacy_pool: " + lb.legacyPool()
                    + ", kubernetes_pool: " + lb.kubernetesPool() + ", token_env: " + CLOUDFLARE_TOKEN_ENV + ", endpoint: '"
                    + cloudflare.endpoint() + "' }";
        } else {
            Dns records = dns.get(stage);
            router = "route53: { region: us-east-1, hosted_zone_id: " + records.zone() + ", name: " + records.name()
                    + ", type: CNAME, legacy_set: legacy, kubernetes_set: kubernetes, endpoint: '" + route53.endpoint() + "' }";
        }
        return "    cutover:\n"
                + "      router:\n"
                + "        " + router + "\n"
                + "      steps: [10, 25, 50, 100]\n"
                + gateYaml("      ", cutoverTiming, "legacy");
    }

    /** Beta's load balancer: steering off, all traffic on the legacy pool, until its first cutover step. */
    private void seedCloudflare() {
        for (String stage : stages.stream().filter(st -> router(st).equals("cloudflare")).toList()) {
            CloudflareLb lb = new CloudflareLb(hex("zone/" + stage), hex("lb/" + stage), hex("pool/legacy/" + stage),
                    hex("pool/kubernetes/" + stage));
            cloudflare.addPools(lb.legacyPool(), lb.kubernetesPool());
            cloudflare.put(lb.zone(), "{\"id\": \"" + lb.id() + "\", \"name\": \"" + stage + "." + SERVICE + ".local\", \"enabled\": true,"
                    + " \"proxied\": true, \"ttl\": 30, \"steering_policy\": \"off\", \"default_pools\": [\"" + lb.legacyPool() + "\", \""
                    + lb.kubernetesPool() + "\"], \"fallback_pool\": \"" + lb.legacyPool() + "\", \"session_affinity\": \"none\"}");
            cloudflares.put(stage, lb);
            traffic.split(stage, 0);
        }
        cloudflare.onPatched((key, lb) -> cloudflares.forEach((stage, mine) -> {
            if (key.equals(mine.zone() + "/" + mine.id())) {
                share(lb, mine).ifPresent(share -> traffic.split(stage, share));
            }
        }));
    }

    /** The Kubernetes share a Cloudflare load balancer sends, as its steering applies the pools' weights. */
    private static OptionalDouble share(ObjectNode lb, CloudflareLb mine) {
        String policy = lb.path("steering_policy").asText("");
        if (policy.equals("off") || policy.isEmpty()) {
            String first = lb.path("default_pools").path(0).asText("");
            return first.equals(mine.kubernetesPool()) ? OptionalDouble.of(100) : OptionalDouble.of(0);
        }
        double fallback = lb.path("random_steering").path("default_weight").asDouble(1);
        double legacy = lb.path("random_steering").path("pool_weights").path(mine.legacyPool()).asDouble(fallback);
        double kubernetes = lb.path("random_steering").path("pool_weights").path(mine.kubernetesPool()).asDouble(fallback);
        return legacy + kubernetes > 0 ? OptionalDouble.of(100 * kubernetes / (legacy + kubernetes)) : OptionalDouble.empty();
    }

    /** Preprod's two weighted CNAME records: all on legacy until its first cutover step. INSYNC at once, to stay quick. */
    private void seedRoute53() {
        route53.pendingPolls(0);
        for (String stage : stages.stream().filter(st -> router(st).equals("route53")).toList()) {
            String zone = "ZLOCAL" + stage.toUpperCase(Locale.ROOT);
            String domain = stage + "." + SERVICE + ".local";
            Dns records = new Dns(zone, "api." + domain);
            route53.addHostedZone(zone, domain + ".");
            route53.put(zone, Route53Simulator.RecordSet.weighted(records.name() + ".", "CNAME", "legacy", 100, 60, "legacy." + domain));
            route53.put(zone, Route53Simulator.RecordSet.weighted(records.name() + ".", "CNAME", "kubernetes", 0, 60, "kubernetes." + domain));
            dns.put(stage, records);
            traffic.split(stage, 0);
        }
        route53.onChanged((zone, batch) -> dns.forEach((stage, records) -> {
            if (records.zone().equals(zone)) {
                long legacy = route53.record(zone, records.name(), "CNAME", "legacy").map(r -> r.weight()).orElse(0L);
                long kubernetes = route53.record(zone, records.name(), "CNAME", "kubernetes").map(r -> r.weight()).orElse(0L);
                if (legacy + kubernetes > 0) {
                    traffic.split(stage, 100.0 * kubernetes / (legacy + kubernetes));
                }
            }
        }));
    }

    /** 32 hex digits derived from the text: a Cloudflare id, the same in every run. */
    private static String hex(String text) {
        return UUID.nameUUIDFromBytes(text.getBytes(StandardCharsets.UTF_8)).toString().replace("-", "");
    }

    /** A {@code gate:} at this indent: the sequential error test against {@code baseline}, on the local CloudWatch's counts. */
    private String gateYaml(String indent, GateTiming timing, String baseline) {
        String dimensions = " Sum Stage={{stage}} Side={{side}}'";
        return indent + "gate:\n"
                + indent + "  soak: " + Durations.format(timing.soak()) + "\n"
                + indent + "  interval: " + Durations.format(timing.interval()) + "\n"
                + indent + "  checks:\n"
                + indent + "    - sequential: { baseline: " + baseline + ", tau: 0.01 }\n"
                + indent + "  metrics:\n"
                + indent + "    provider: cloudwatch\n"
                + indent + "    region: " + REGION + "\n"
                + indent + "    endpoint: '" + cloudwatch.endpoint() + "'\n"
                + indent + "    delay: 0s\n"
                + indent + "    queries:\n"
                + indent + "      requests: '" + Traffic.NAMESPACE + " " + Traffic.REQUESTS + dimensions + "\n"
                + indent + "      errors: '" + Traffic.NAMESPACE + " " + Traffic.ERRORS + dimensions + "\n";
    }

    /**
     * What the local CloudWatch answers: each stage's counts per side in {@code DualDeploy/Local} (by {@code Stage} and
     * {@code Side}), and the same counts as ALB target-group metrics ({@code AWS/ApplicationELB} {@code RequestCount} and
     * {@code HTTPCode_Target_5XX_Count} by {@code TargetGroup}, as {@code targetgroup/<name>/<id>}), which follow the
     * traffic the stage's ALB sends to each side.
     */
    private OptionalDouble metric(String namespace, String name, Map<String, String> dimensions, Instant from,
                                  Instant to) {
        if (Traffic.NAMESPACE.equals(namespace)) {
            return traffic.count(name, dimensions.get("Stage"), dimensions.get("Side"), from, to);
        }
        String group = dimensions.get("TargetGroup");
        if (!"AWS/ApplicationELB".equals(namespace) || group == null) {
            return OptionalDouble.empty();
        }
        String metric = "RequestCount".equals(name) ? Traffic.REQUESTS : "HTTPCode_Target_5XX_Count".equals(name) ? Traffic.ERRORS : null;
        for (Map.Entry<String, Alb> entry : albs.entrySet()) {
            for (Side side : Side.values()) {
                String arn = side == Side.LEGACY ? entry.getValue().legacy() : entry.getValue().kubernetes();
                if (metric != null && arn.endsWith(":" + group)) {
                    return traffic.count(metric, entry.getKey(), side.label(), from, to);
                }
            }
        }
        return OptionalDouble.empty();
    }

    /** The Cloudflare API of beta's load balancer, whose pool weights its cutover sets. */
    public CloudflareSimulator cloudflare() {
        return cloudflare;
    }

    /** The Route53 API of preprod's weighted records, whose weights its cutover sets. */
    public Route53Simulator route53() {
        return route53;
    }

    /** The ELBv2 API of the stages' load balancers, whose weights each stage's cutover sets. */
    public ElbSimulator elb() {
        return elb;
    }

    /** The gate every stage of {@code dualdeploy.yaml} has, if the environment was started with one. */
    public Optional<GateTiming> gate() {
        return gate;
    }

    /** The CloudWatch API that answers each stage's request and error counts (see {@link Traffic}). */
    public CloudWatchSimulator cloudwatch() {
        return cloudwatch;
    }

    /** Each stage's traffic: which release each side was told to run, when ({@link Traffic#served}). */
    public Traffic traffic() {
        return traffic;
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
        if (cloudwatch != null) {
            cloudwatch.close();
        }
        if (elb != null) {
            elb.close();
        }
        if (cloudflare != null) {
            cloudflare.close();
        }
        if (route53 != null) {
            route53.close();
        }
    }
}
