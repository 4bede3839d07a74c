package dev.dualdeploy.targets.ecs;

import dev.dualdeploy.config.EcsSpec;
import dev.dualdeploy.net.Faults;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.Container;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.Deployment;
import software.amazon.awssdk.services.ecs.model.DesiredStatus;
import software.amazon.awssdk.services.ecs.model.Service;
import software.amazon.awssdk.services.ecs.model.Task;

/**
 * Follows one ECS service deployment by polling (ECS has no watch API) until it is complete, has failed or has run
 * out of time. It fails fast: the first stopped task of this deployment whose stop code or reason shows it cannot
 * start (an image that cannot be pulled, a container that cannot start, an essential container that exited) ends the
 * rollout at once instead of waiting for the deployment circuit breaker. Tasks replaced for failing health checks
 * are left to the circuit breaker, because a slow start can fail a few checks and still succeed; when the breaker
 * marks the deployment FAILED first, that ends the rollout too. A platform that stops answering ends it as well, once
 * it has not answered for one whole call ({@link Timeouts#call()}): the rollout cannot be followed, and polling a
 * dead platform until the stage's timeout would hold the run for minutes. Another writer's UpdateService to another
 * task definition ends it at once as superseded ({@link RolloutResult#supersededBy()}).
 */
final class EcsRollout implements Rollout {

    private static final List<String> START_FAILURES = List.of("CannotPullContainerError", "CannotStartContainerError",
            "CannotCreateContainerError", "CannotInspectContainerError", "ResourceInitializationError",
            "Essential container in task exited");

    private final EcsClient client;
    private final EcsSpec spec;
    /** The task definition followed: ours, or one another writer registered with the same image (see {@link #poll()}). */
    private String taskDefinition;
    private String deploymentId;
    /** Our task definition's image for the container, read when first needed; empty until then or if unreadable. */
    private Optional<String> ourImage;
    private final Progress progress;
    private final Sleeper sleeper;
    private final Clock clock;
    private final Set<String> seenStopped = new HashSet<>();
    private String lastProgress = "";
    private String lastState = "no deployment state read yet";
    /** What the service runs now, once another writer replaced the task definition this rollout follows. */
    private Optional<String> supersededBy = Optional.empty();

    EcsRollout(EcsClient client, EcsSpec spec, String taskDefinition, String deploymentId, Progress progress,
               Sleeper sleeper, Clock clock) {
        this.client = client;
        this.spec = spec;
        this.taskDefinition = taskDefinition;
        this.deploymentId = deploymentId;
        this.progress = progress;
        this.sleeper = sleeper;
        this.clock = clock;
    }

    @Override
    public RolloutResult await(Duration timeout) {
        return await(timeout, Abort.none());
    }

    @Override
    public RolloutResult await(Duration timeout, Abort abort) {
        Instant started = clock.instant();
        Instant deadline = started.plus(timeout);
        Instant answered = started;
        Duration patience = Timeouts.current().call();
        while (true) {
            try {
                Optional<RolloutResult.Outcome> end = poll();
                answered = clock.instant();
                if (end.isPresent()) {
                    return new RolloutResult(end.get(), lastState, Duration.between(started, clock.instant()), supersededBy);
                }
            } catch (TargetException e) {
                // The SDK has already retried throttling and transient faults; keep following until the deadline,
                // unless the platform itself has stopped answering: then nothing can be followed.
                lastState = e.getMessage();
                if (e.getCause() != null && Faults.network(e.getCause())
                        && Duration.between(answered, clock.instant()).compareTo(patience) >= 0) {
                    return new RolloutResult(RolloutResult.Outcome.FAILED, "the platform stopped answering, so the rollout cannot"
                            + " be followed: " + lastState, Duration.between(started, clock.instant()));
                }
            }
            if (Thread.currentThread().isInterrupted()) {
                return new RolloutResult(RolloutResult.Outcome.FAILED, "interrupted while following the rollout",
                        Duration.between(started, clock.instant()));
            }
            if (abort.requested()) {
                return new RolloutResult(RolloutResult.Outcome.FAILED, Rollout.stoppedFollowing(abort) + "; " + lastState,
                        Duration.between(started, clock.instant()));
            }
            if (!clock.instant().isBefore(deadline)) {
                return new RolloutResult(RolloutResult.Outcome.TIMED_OUT, "not complete after " + timeout.toSeconds()
                        + "s: " + lastState, Duration.between(started, clock.instant()));
            }
            abort.sleep(sleeper, spec.poll());
        }
    }

    private Optional<RolloutResult.Outcome> poll() {
        Service service = call("describe service", () -> client.describeServices(r -> r.cluster(spec.cluster())
                .services(spec.service()))).services().stream().findFirst()
                .orElseThrow(() -> new TargetException("service " + spec.cluster() + "/" + spec.service() + " not found"));
        // Compared by family:revision, which is how a task definition may also be named where an ARN is expected.
        if (service.taskDefinition() != null
                && !EcsTarget.lastSegment(taskDefinition).equals(EcsTarget.lastSegment(service.taskDefinition()))) {
            if (!follow(service)) {
                superseded(service.taskDefinition());
                return Optional.of(RolloutResult.Outcome.FAILED);
            }
        }
        Optional<Deployment> ours = service.deployments().stream()
                .filter(d -> deploymentId.isEmpty() ? taskDefinition.equals(d.taskDefinition()) : deploymentId.equals(d.id()))
                .findFirst();
        if (ours.isEmpty()) {
            if (service.deployments().size() == 1 && taskDefinition.equals(service.deployments().get(0).taskDefinition())) {
                ours = Optional.of(service.deployments().get(0));
            } else {
                lastState = "deployment " + deploymentId + " was replaced by another deployment of the service";
                return Optional.of(RolloutResult.Outcome.FAILED);
            }
        }
        Deployment deployment = ours.get();
        // A task that could not start names the cause (the image, the exit code); the circuit breaker only counts. So
        // when a slow poll sees both, the task is the reason, and the breaker's verdict is what ends the rollout else.
        Optional<String> failure = startFailure(deployment.id());
        if (failure.isPresent()) {
            lastState = failure.get();
            return Optional.of(RolloutResult.Outcome.FAILED);
        }
        if ("FAILED".equals(deployment.rolloutStateAsString())) {
            lastState = "deployment circuit breaker: " + Optional.ofNullable(deployment.rolloutStateReason()).orElse("FAILED")
                    + " (" + deployment.failedTasks() + " failed tasks)";
            return Optional.of(RolloutResult.Outcome.FAILED);
        }
        int others = service.deployments().size() - 1;
        String line = "running " + deployment.runningCount() + "/" + deployment.desiredCount() + ", pending "
                + deployment.pendingCount() + (deployment.failedTasks() != null && deployment.failedTasks() > 0
                ? ", failed " + deployment.failedTasks() : "") + (others > 0 ? ", old deployments " + others : "");
        lastState = line;
        if (!line.equals(lastProgress)) {
            lastProgress = line;
            progress.event(line);
        }
        boolean complete = "PRIMARY".equals(deployment.status()) && others == 0
                && deployment.runningCount() >= deployment.desiredCount()
                && (deployment.rolloutState() == null || "COMPLETED".equals(deployment.rolloutStateAsString()));
        if (complete) {
            lastState = deployment.runningCount() + "/" + deployment.desiredCount() + " tasks running "
                    + EcsTarget.lastSegment(taskDefinition);
            return Optional.of(RolloutResult.Outcome.SUCCEEDED);
        }
        return Optional.empty();
    }

    /**
     * Another writer moved the service to another task definition whose container runs the very image this rollout
     * deploys (a task definition re-registered with other environment variables, or identically): the release is
     * still the one being rolled out, so the rollout follows that task definition's deployment instead of ending as
     * superseded. Returns false when the images differ or either cannot be read (then it is superseded).
     */
    private boolean follow(Service service) {
        String now = service.taskDefinition();
        if (ourImage == null) {
            ourImage = imageOf(taskDefinition);
        }
        Optional<String> theirs = imageOf(now);
        if (ourImage.isEmpty() || !ourImage.equals(theirs)) {
            return false;
        }
        String was = EcsTarget.lastSegment(taskDefinition);
        taskDefinition = now;
        deploymentId = service.deployments().stream().filter(d -> now.equals(d.taskDefinition()))
                .filter(d -> "PRIMARY".equals(d.status())).map(Deployment::id).findFirst().orElse("");
        progress.event("another writer moved the service from " + was + " to " + Text.foreign(EcsTarget.lastSegment(now))
                + ", which runs the same image; following its deployment" + (deploymentId.isEmpty() ? "" : " " + Text.foreign(deploymentId)));
        return true;
    }

    /**
     * Another UpdateService moved the service to another task definition: its deployment is now the primary one, and
     * this one will be drained. The rollout ends at once, naming what the service runs now; waiting for the old
     * deployment to vanish (or for the timeout) and then rolling back would undo the other writer's change.
     */
    private void superseded(String now) {
        Optional<String> image = imageOf(now);
        supersededBy = Optional.of(Text.foreign(image.orElse(now)));
        String definition = Text.foreign(EcsTarget.lastSegment(now));
        lastState = "superseded by " + image.map(Release::shortImage).orElse(definition) + " (task definition "
                + definition + image.map(i -> ", " + spec.container() + "=" + Text.foreign(i)).orElse("") + "): another writer"
                + " updated the service during the rollout of " + EcsTarget.lastSegment(taskDefinition);
    }

    /** The container's image in a task definition; empty if it cannot be read (naming it is a courtesy, not the verdict). */
    private Optional<String> imageOf(String arn) {
        try {
            return call("describe task definition " + EcsTarget.lastSegment(arn),
                    () -> client.describeTaskDefinition(r -> r.taskDefinition(arn))).taskDefinition().containerDefinitions().stream().filter(c -> spec.container().equals(c.name()))
                    .map(ContainerDefinition::image).filter(Objects::nonNull).findFirst();
        } catch (TargetException e) {
            return Optional.empty();
        }
    }

    /** The first stopped task of this deployment that cannot start, described for a person. */
    private Optional<String> startFailure(String deployment) {
        List<String> arns = new ArrayList<>();
        call("list stopped tasks", () -> {
            client.listTasksPaginator(r -> r.cluster(spec.cluster()).startedBy(deployment).desiredStatus(DesiredStatus.STOPPED))
                    .taskArns().forEach(arns::add);
            return null;
        });
        arns.removeAll(seenStopped);
        if (arns.isEmpty()) {
            return Optional.empty();
        }
        for (Task task : EcsTarget.describeTasks(client, spec, arns, this::call)) {
            seenStopped.add(task.taskArn());
            String reason = Optional.ofNullable(task.stoppedReason()).orElse("");
            boolean cannotStart = "TaskFailedToStart".equals(task.stopCodeAsString())
                    || "EssentialContainerExited".equals(task.stopCodeAsString())
                    || START_FAILURES.stream().anyMatch(reason::contains);
            if (cannotStart) {
                String containers = task.containers().stream()
                        .filter(c -> c.exitCode() != null && c.exitCode() != 0 || c.reason() != null && !reason.contains(c.reason()))
                        .map(c -> describe(c, reason)).collect(Collectors.joining("; "));
                return Optional.of("task " + EcsTarget.lastSegment(task.taskArn()) + " stopped: " + task.stopCodeAsString()
                        + ": " + reason + (containers.isEmpty() ? "" : " (" + containers + ")"));
            }
        }
        return Optional.empty();
    }

    private static String describe(Container container, String taskReason) {
        StringBuilder out = new StringBuilder("container ").append(container.name());
        if (container.exitCode() != null) {
            out.append(" exit ").append(container.exitCode());
        }
        if (container.reason() != null && !taskReason.contains(container.reason())) {
            out.append(": ").append(container.reason());
        }
        return out.toString();
    }

    private <T> T call(String what, Supplier<T> action) {
        return EcsTarget.call("ecs " + spec.cluster() + "/" + spec.service(), what, action);
    }
}
