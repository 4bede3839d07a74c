package dev.dualdeploy.target.ecs;

import dev.dualdeploy.config.EcsSpec;
import dev.dualdeploy.net.AwsClients;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.target.DeployTarget;
import dev.dualdeploy.target.Progress;
import dev.dualdeploy.target.Rollout;
import dev.dualdeploy.target.Sleeper;
import dev.dualdeploy.target.TargetException;
import dev.dualdeploy.target.TargetState;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.EcsClientBuilder;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.DesiredStatus;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.Deployment;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.Task;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionField;

/**
 * An ECS service as a deploy target. A deploy registers a new revision of the service's current task definition that
 * differs only in the named container's image, then points the service at it. The release version, digest and the
 * previous task definition are recorded as tags on the new revision, so ECS itself says what runs and what to roll
 * back to.
 */
public final class EcsTarget implements DeployTarget {

    public static final String TAG_VERSION = "dualdeploy:version";
    public static final String TAG_DIGEST = "dualdeploy:digest";
    public static final String TAG_PREVIOUS = "dualdeploy:previous-task-definition";
    private static final Set<String> OWN_TAGS = Set.of(TAG_VERSION, TAG_DIGEST, TAG_PREVIOUS);

    private final EcsClient client;
    private final EcsSpec spec;
    private final Progress progress;
    private final Sleeper sleeper;
    private final Clock clock;

    public EcsTarget(EcsClient client, EcsSpec spec, Progress progress, Sleeper sleeper, Clock clock) {
        this.client = client;
        this.spec = spec;
        this.progress = progress;
        this.sleeper = sleeper;
        this.clock = clock;
    }

    /**
     * A client for the spec's region with the default credential chain and the URL-connection HTTP client (set
     * explicitly: with two HTTP clients on the classpath the SDK would silently pick one), the connect and read
     * timeouts of {@link Timeouts#current()}, bounded retries, and errors of one line ({@link AwsClients}).
     */
    public static EcsClient connect(EcsSpec spec) {
        return connect(spec, Timeouts.current());
    }

    static EcsClient connect(EcsSpec spec, Timeouts timeouts) {
        EcsClientBuilder builder = EcsClient.builder()
                .region(Region.of(spec.region()))
                .credentialsProvider(AwsClients.credentials())
                .httpClientBuilder(AwsClients.http(timeouts))
                .overrideConfiguration(AwsClients.override(timeouts,
                        spec.endpoint().map(Object::toString).orElse("ECS in " + spec.region())));
        spec.endpoint().ifPresent(builder::endpointOverride);
        return builder.build();
    }

    @Override
    public String describe() {
        return "ecs " + spec.cluster() + "/" + spec.service();
    }

    @Override
    public TargetState current() {
        Optional<Service> service = service();
        if (service.isEmpty()) {
            return TargetState.absent("service " + spec.cluster() + "/" + spec.service() + " not found");
        }
        DescribeTaskDefinitionResponse definition = taskDefinition(service.get().taskDefinition());
        Optional<String> image = container(definition.taskDefinition()).map(ContainerDefinition::image);
        Set<String> running = runningDigests(service.get());
        Optional<String> digest = running.size() == 1 ? running.stream().findFirst() : image.flatMap(ImageRef::findDigest);
        Optional<String> previousImage = tag(definition, TAG_PREVIOUS).flatMap(arn -> {
            try {
                return container(taskDefinition(arn).taskDefinition()).map(ContainerDefinition::image);
            } catch (TargetException gone) {
                return Optional.empty();
            }
        });
        Service s = service.get();
        TargetState.Health health = health(s, running.size());
        String detail = s.runningCount() + "/" + s.desiredCount() + " running"
                + (running.size() > 1 ? ", tasks run " + running.size() + " digests" : "")
                + ", " + lastSegment(s.taskDefinition());
        return new TargetState(image, digest, tag(definition, TAG_VERSION), previousImage, health, detail);
    }

    @Override
    public Rollout deploy(Release release) {
        Service service = service().orElseThrow(() -> new TargetException(describe() + ": service not found"));
        DescribeTaskDefinitionResponse current = taskDefinition(service.taskDefinition());
        ContainerDefinition container = container(current.taskDefinition()).orElseThrow(() -> missingContainer(current.taskDefinition()));
        if (release.image().equals(container.image())) {
            progress.event("already runs " + release.version() + " (" + release.digest() + "); checking health only");
            return new EcsRollout(client, spec, service.taskDefinition(), primaryId(service, service.taskDefinition()), progress, sleeper, clock);
        }
        List<Tag> tags = new ArrayList<>(current.tags().stream().filter(t -> !OWN_TAGS.contains(t.key())).toList());
        tags.add(Tag.builder().key(TAG_VERSION).value(release.version()).build());
        tags.add(Tag.builder().key(TAG_DIGEST).value(release.digest()).build());
        tags.add(Tag.builder().key(TAG_PREVIOUS).value(service.taskDefinition()).build());
        String registered = call("register task definition", () -> client.registerTaskDefinition(
                withImage(current.taskDefinition(), release.image(), tags))).taskDefinition().taskDefinitionArn();
        progress.event("registered " + lastSegment(registered) + " with " + spec.container() + "=" + release.image());
        return update(registered, "was " + lastSegment(service.taskDefinition()));
    }

    @Override
    public Rollout rollback() {
        Service service = service().orElseThrow(() -> new TargetException(describe() + ": cannot roll back: service not found"));
        DescribeTaskDefinitionResponse current = taskDefinition(service.taskDefinition());
        String previous = tag(current, TAG_PREVIOUS).orElseThrow(() -> new TargetException("cannot roll back " + describe()
                + ": no previous release is recorded on " + lastSegment(service.taskDefinition())));
        progress.event("rolling back from " + lastSegment(service.taskDefinition()) + " to " + lastSegment(previous));
        return update(previous, "rollback");
    }

    private Rollout update(String taskDefinition, String note) {
        Service updated = call("update service", () -> client.updateService(r -> r.cluster(spec.cluster())
                .service(spec.service()).taskDefinition(taskDefinition))).service();
        String deploymentId = primaryId(updated, taskDefinition);
        progress.event("service now on " + lastSegment(taskDefinition) + " (" + note + "), deployment " + deploymentId);
        return new EcsRollout(client, spec, taskDefinition, deploymentId, progress, sleeper, clock);
    }

    /**
     * The registration request for a copy of {@code definition} in which only the named container's image differs.
     * Every registrable field is carried over; fields ECS sets itself (ARN, revision, status, registration times,
     * compatibilities and required attributes) are not registrable and are left to ECS.
     */
    RegisterTaskDefinitionRequest withImage(TaskDefinition definition, String image, List<Tag> tags) {
        List<ContainerDefinition> containers = definition.containerDefinitions().stream()
                .map(c -> spec.container().equals(c.name()) ? c.toBuilder().image(image).build() : c)
                .collect(Collectors.toList());
        RegisterTaskDefinitionRequest.Builder request = RegisterTaskDefinitionRequest.builder()
                .family(definition.family())
                .taskRoleArn(definition.taskRoleArn())
                .executionRoleArn(definition.executionRoleArn())
                .networkMode(definition.networkModeAsString())
                .containerDefinitions(containers)
                .placementConstraints(definition.hasPlacementConstraints() ? definition.placementConstraints() : null)
                .requiresCompatibilitiesWithStrings(definition.hasRequiresCompatibilities() ? definition.requiresCompatibilitiesAsStrings() : null)
                .cpu(definition.cpu())
                .memory(definition.memory())
                .tags(tags)
                .pidMode(definition.pidModeAsString())
                .ipcMode(definition.ipcModeAsString())
                .proxyConfiguration(definition.proxyConfiguration())
                .inferenceAccelerators(definition.hasInferenceAccelerators() ? definition.inferenceAccelerators() : null)
                .ephemeralStorage(definition.ephemeralStorage())
                .runtimePlatform(definition.runtimePlatform())
                .enableFaultInjection(definition.enableFaultInjection());
        if (definition.hasVolumes()) {
            request.volumes(definition.volumes());
        }
        return request.build();
    }

    private Set<String> runningDigests(Service service) {
        List<String> arns = new ArrayList<>();
        call("list tasks", () -> {
            client.listTasksPaginator(r -> r.cluster(spec.cluster()).serviceName(spec.service()).desiredStatus(DesiredStatus.RUNNING))
                    .taskArns().forEach(arns::add);
            return null;
        });
        Set<String> digests = new LinkedHashSet<>();
        for (Task task : describeTasks(client, spec, arns, this::call)) {
            if (!"RUNNING".equals(task.lastStatus())) {
                continue;
            }
            task.containers().stream().filter(c -> spec.container().equals(c.name()))
                    .map(c -> c.imageDigest() != null ? c.imageDigest() : ImageRef.findDigest(c.image()).orElse(null))
                    .filter(d -> d != null).forEach(digests::add);
        }
        return digests;
    }

    /** Describes tasks in batches of 100, the API's limit. */
    static List<Task> describeTasks(EcsClient client, EcsSpec spec, List<String> arns, Caller caller) {
        List<Task> tasks = new ArrayList<>();
        for (int from = 0; from < arns.size(); from += 100) {
            List<String> batch = arns.subList(from, Math.min(arns.size(), from + 100));
            tasks.addAll(caller.call("describe tasks", () -> client.describeTasks(r -> r.cluster(spec.cluster()).tasks(batch))).tasks());
        }
        return tasks;
    }

    private TargetState.Health health(Service service, int runningDigests) {
        List<Deployment> deployments = service.deployments();
        Deployment primary = deployments.stream().filter(d -> "PRIMARY".equals(d.status())).findFirst().orElse(null);
        if (primary == null) {
            return TargetState.Health.DEGRADED;
        }
        if ("FAILED".equals(primary.rolloutStateAsString())) {
            return TargetState.Health.DEGRADED;
        }
        if (deployments.size() == 1 && primary.runningCount() >= primary.desiredCount() && runningDigests <= 1) {
            return TargetState.Health.HEALTHY;
        }
        return TargetState.Health.PROGRESSING;
    }

    private Optional<Service> service() {
        var response = call("describe service", () -> client.describeServices(r -> r.cluster(spec.cluster()).services(spec.service())));
        return response.services().stream().filter(s -> !"INACTIVE".equals(s.status())).findFirst();
    }

    private DescribeTaskDefinitionResponse taskDefinition(String arn) {
        return call("describe task definition " + lastSegment(arn), () -> client.describeTaskDefinition(r -> r.taskDefinition(arn)
                .include(TaskDefinitionField.TAGS)));
    }

    private Optional<ContainerDefinition> container(TaskDefinition definition) {
        return definition.containerDefinitions().stream().filter(c -> spec.container().equals(c.name())).findFirst();
    }

    private TargetException missingContainer(TaskDefinition definition) {
        return new TargetException(describe() + ": task definition " + lastSegment(definition.taskDefinitionArn())
                + " has no container named '" + spec.container() + "'; containers are "
                + definition.containerDefinitions().stream().map(ContainerDefinition::name).toList());
    }

    private static Optional<String> tag(DescribeTaskDefinitionResponse response, String key) {
        return response.tags().stream().filter(t -> key.equals(t.key())).map(Tag::value).findFirst();
    }

    private static String primaryId(Service service, String taskDefinition) {
        return service.deployments().stream().filter(d -> "PRIMARY".equals(d.status()) && taskDefinition.equals(d.taskDefinition()))
                .map(Deployment::id).findFirst().orElse("");
    }

    static String lastSegment(String arn) {
        return arn == null ? "" : arn.substring(arn.lastIndexOf('/') + 1);
    }

    private <T> T call(String what, Supplier<T> action) {
        return call(describe(), what, action);
    }

    static <T> T call(String target, String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (SdkException e) {
            throw new TargetException(target + ": cannot " + what + ": " + e.getMessage(), e);
        }
    }

    /** Runs one SDK call, turning SDK faults into {@link TargetException}. */
    @FunctionalInterface
    interface Caller {
        <T> T call(String what, Supplier<T> action);
    }
}
