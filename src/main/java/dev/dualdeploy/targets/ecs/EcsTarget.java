package dev.dualdeploy.targets.ecs;

import dev.dualdeploy.config.EcsSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.net.AwsClients;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.time.Sleeper;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.EcsClientBuilder;
import software.amazon.awssdk.services.ecs.model.ClientException;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.Deployment;
import software.amazon.awssdk.services.ecs.model.DescribeTaskDefinitionResponse;
import software.amazon.awssdk.services.ecs.model.DesiredStatus;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.ServiceField;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.Task;
import software.amazon.awssdk.services.ecs.model.TaskDefinition;
import software.amazon.awssdk.services.ecs.model.TaskDefinitionField;

/**
 * An ECS service as a deploy target. A deploy registers a new revision of the service's current task definition that
 * differs only in the named container's image, then points the service at it. The release version and digest are
 * recorded as tags on the new revision; the stage's last good task definition and the good one before it as tags on
 * the service, so ECS itself says what runs and what to return to.
 */
public final class EcsTarget implements DeployTarget {

    public static final String TAG_VERSION = "dualdeploy:version";
    public static final String TAG_DIGEST = "dualdeploy:digest";
    /** On the service: the ARN of the task definition of the stage's last good release. */
    public static final String TAG_LAST_GOOD = "dualdeploy:last-good-task-definition";
    /** On the service: the ARN of the task definition of the good release before it. */
    public static final String TAG_PREVIOUS_GOOD = "dualdeploy:previous-good-task-definition";
    /** Service tag: the sides on which the last good release passed when it was recorded, such as {@code legacy+kubernetes}. */
    public static final String TAG_LAST_GOOD_SIDES = "dualdeploy:last-good-sides";
    /** Service tag: the task definition the service was last rolled back from, until a release is next recorded good. */
    public static final String TAG_ROLLED_BACK_FROM = "dualdeploy:rolled-back-from";
    /**
     * Tags a new revision must not inherit from the one it copies; the last is the per-revision record of earlier
     * versions, which the service's tags replace, dropped so that it cannot mislead anyone reading the revision.
     */
    private static final Set<String> OWN_TAGS = Set.of(TAG_VERSION, TAG_DIGEST, "dualdeploy:previous-task-definition");

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
        Map<String, String> records = tags(service.get());
        Optional<String> lastGood = Optional.ofNullable(records.get(TAG_LAST_GOOD)).flatMap(this::imageOf);
        Optional<String> previousGood = Optional.ofNullable(records.get(TAG_PREVIOUS_GOOD)).flatMap(this::imageOf);
        Service s = service.get();
        TargetState.Health health = health(s, running.size());
        String detail = s.runningCount() + "/" + s.desiredCount() + " running"
                + (running.size() > 1 ? ", tasks run " + running.size() + " digests" : "")
                + ", " + lastSegment(s.taskDefinition());
        return new TargetState(image, digest, tag(definition, TAG_VERSION), lastGood, previousGood, health, detail,
                TargetState.parseSidesRecord(records.get(TAG_LAST_GOOD_SIDES)),
                Optional.ofNullable(records.get(TAG_ROLLED_BACK_FROM)).flatMap(this::imageOf));
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
        if (!tags(service).containsKey(TAG_LAST_GOOD)) {
            // First change by dualdeploy: what ran before was serving traffic, so it is what a failure returns to. The
            // record is written before the change, so a run killed in between leaves nothing unrecorded.
            writeRecords(service, Map.of(TAG_LAST_GOOD, service.taskDefinition()));
            progress.event("no last good release is recorded: recording " + lastSegment(service.taskDefinition())
                    + ", which ran before this change, as last good");
        }
        List<Tag> tags = new ArrayList<>(current.tags().stream().filter(t -> !OWN_TAGS.contains(t.key())).toList());
        tags.add(Tag.builder().key(TAG_VERSION).value(release.version()).build());
        tags.add(Tag.builder().key(TAG_DIGEST).value(release.digest()).build());
        String registered = call("register task definition", () -> client.registerTaskDefinition(
                withImage(current.taskDefinition(), release.image(), tags))).taskDefinition().taskDefinitionArn();
        progress.event("registered " + lastSegment(registered) + " with " + spec.container() + "=" + release.image());
        return update(registered, "was " + lastSegment(service.taskDefinition()));
    }

    @Override
    public TargetState markGood(Release release, Set<Side> passedOn) {
        Service service = service().orElseThrow(() -> new TargetException(describe() + ": cannot record the last good release:"
                + " service not found"));
        Optional<String> running = imageOf(service.taskDefinition());
        if (!running.equals(Optional.of(release.image()))) {
            throw new TargetException(describe() + ": cannot record " + release.version() + " as the last good release: the"
                    + " service runs " + running.orElse("nothing") + " (" + lastSegment(service.taskDefinition()) + ")");
        }
        Map<String, String> records = tags(service);
        String last = records.get(TAG_LAST_GOOD);
        String sides = TargetState.sidesRecord(passedOn);
        if (records.containsKey(TAG_ROLLED_BACK_FROM)) {
            call("untag service", () -> client.untagResource(r -> r.resourceArn(service.serviceArn()).tagKeys(TAG_ROLLED_BACK_FROM)));
        }
        if (!service.taskDefinition().equals(last) || !sides.equals(records.getOrDefault(TAG_LAST_GOOD_SIDES, ""))) {
            Map<String, String> record = new LinkedHashMap<>();
            record.put(TAG_LAST_GOOD, service.taskDefinition());
            if (!sides.isEmpty()) {
                record.put(TAG_LAST_GOOD_SIDES, sides);
            }
            boolean shifted = last != null && !imageOf(last).equals(running);
            if (shifted) {
                record.put(TAG_PREVIOUS_GOOD, last);
            }
            writeRecords(service, record);
            progress.event("recorded " + release.version() + " (" + lastSegment(service.taskDefinition()) + ") as the last good release"
                    + (shifted ? " (the one before: " + lastSegment(last) + ")" : ""));
        }
        TargetState state = current();
        if (!state.lastGoodImage().equals(Optional.of(release.image()))) {
            throw new TargetException(describe() + ": the last good release reads back as "
                    + state.lastGoodImage().orElse("nothing") + ", not " + release.image());
        }
        return state;
    }

    @Override
    public Rollout rollback() {
        Service service = service().orElseThrow(() -> new TargetException(describe() + ": cannot roll back: service not found"));
        Map<String, String> records = tags(service);
        String lastGood = records.get(TAG_LAST_GOOD);
        if (lastGood == null) {
            throw new TargetException("cannot roll back " + describe() + ": no last good release is recorded");
        }
        if (!lastGood.equals(service.taskDefinition()) && !imageOf(lastGood).equals(imageOf(service.taskDefinition()))) {
            // A failed or unmarked release runs: return to the last good one; the records stay, so a second rollback
            // converges here instead of re-deploying what failed.
            progress.event("rolling back from " + lastSegment(service.taskDefinition()) + " to the last good " + lastSegment(lastGood));
            return rolledBack(service, update(lastGood, "rollback"));
        }
        String previous = records.get(TAG_PREVIOUS_GOOD);
        // A rollback killed between moving the records and removing the record before (or an untag that failed) leaves
        // the previous record naming the last good release itself: there is nowhere further back to go.
        if (previous == null || imageOf(previous).equals(imageOf(lastGood))) {
            throw new TargetException("cannot roll back " + describe() + ": it runs its last good release ("
                    + lastSegment(lastGood) + ") and no good release before it is recorded");
        }
        // Going one release back: the records move first, so a run killed before the change leaves the service off
        // its last good release, which the next recovery or rollback returns to, never back to the release left.
        // On which sides the release before passed was not kept: that record goes first, so no kill in between leaves
        // it naming the sides of the release left.
        call("untag service", () -> client.untagResource(r -> r.resourceArn(service.serviceArn()).tagKeys(TAG_LAST_GOOD_SIDES)));
        writeRecords(service, Map.of(TAG_LAST_GOOD, previous));
        call("untag service", () -> client.untagResource(r -> r.resourceArn(service.serviceArn()).tagKeys(TAG_PREVIOUS_GOOD)));
        progress.event("rolling back from " + lastSegment(service.taskDefinition()) + " to the good release before it, "
                + lastSegment(previous));
        return rolledBack(service, update(previous, "rollback"));
    }

    /**
     * Records what the service was rolled back from, once the switch is made: written before it, a rollback killed in
     * between would mark a release that never left as rolled back from, and a record another side keeps of it (which
     * is what {@code LastGood} completes after such a kill) would never be completed here.
     */
    private Rollout rolledBack(Service before, Rollout rollout) {
        try {
            writeRecords(before, Map.of(TAG_ROLLED_BACK_FROM, before.taskDefinition()));
        } catch (TargetException e) {
            // The rollback itself is under way and is followed; only a safeguard for a later run is missing.
            progress.event("could not record what the service was rolled back from: " + e.getMessage());
        }
        return rollout;
    }

    private void writeRecords(Service service, Map<String, String> tags) {
        List<Tag> list = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        call("tag service", () -> client.tagResource(r -> r.resourceArn(service.serviceArn()).tags(list)));
    }

    private static Map<String, String> tags(Service service) {
        Map<String, String> tags = new HashMap<>();
        if (service.hasTags()) {
            service.tags().forEach(t -> tags.put(t.key(), t.value()));
        }
        return tags;
    }

    /**
     * The named container's image in a task definition; empty if the definition is gone (ECS answers ClientException)
     * or lacks the container.
     *
     * @throws TargetException if ECS could not be asked (throttled, unreachable): an image that could not be read is
     *         not "no image", or a rollback would take two unknown images for equal and go one release too far
     */
    private Optional<String> imageOf(String taskDefinitionArn) {
        try {
            return container(taskDefinition(taskDefinitionArn).taskDefinition()).map(ContainerDefinition::image);
        } catch (TargetException e) {
            if (e.getCause() instanceof ClientException) {
                return Optional.empty();
            }
            throw e;
        }
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
        var response = call("describe service", () -> client.describeServices(r -> r.cluster(spec.cluster()).services(spec.service())
                .include(ServiceField.TAGS)));
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
