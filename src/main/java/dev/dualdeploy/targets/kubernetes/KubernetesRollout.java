package dev.dualdeploy.targets.kubernetes;

import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.net.Faults;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Abort;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Follows a Deployment rollout through informers (watches that re-list on disconnect), re-evaluating on every change
 * to the Deployment or its pods. It fails fast: a pod of the new ReplicaSet whose container waits for one of
 * {@link #FAILING} ends the rollout at once, without waiting for the progress deadline. An API server that stops
 * answering ends it too, once it has not answered for one whole call ({@link Timeouts#call()}): the informers' resync
 * keeps re-checking from their cache, but nothing can be followed, and waiting for the stage's timeout would hold the
 * run for minutes. Another writer that replaces the release (the container's image or the digest record) ends it at
 * once as superseded ({@link RolloutResult#supersededBy()}). Waiting is for events, in real time; the timeout and
 * that patience are measured in the injected clock, so a test steps them instead of waiting them out.
 */
final class KubernetesRollout implements Rollout {

    /** Waiting reasons from which a pod does not recover without a new release. */
    static final Set<String> FAILING = Set.of("ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff",
            "CreateContainerConfigError", "InvalidImageName", "RunContainerError");
    static final String REVISION = "deployment.kubernetes.io/revision";
    /** A safety re-check in case an event was missed; events, not this, drive the rollout. */
    private static final long RESYNC_MILLIS = 5_000;
    /**
     * The longest real wait for an event before the injected clock is read again. Events end the wait at once; the
     * deadline is the clock's, so a stepped clock in a test is noticed this soon instead of after the real timeout.
     */
    static final Duration WAKE = Duration.ofMillis(100);

    private final KubernetesClient client;
    private final KubernetesSpec spec;
    private final String image;
    private final Optional<String> digestRecord;
    private final Progress progress;
    private final Clock clock;
    private String lastProgress = "";
    private volatile String lastState = "no status yet";

    /**
     * @param image the image the rollout follows, as the Deployment's container must keep it
     * @param digestRecord the {@value KubernetesTarget#DIGEST} record the Deployment must keep (what this run wrote, or
     *                     found when it wrote nothing); empty when it must have none
     */
    KubernetesRollout(KubernetesClient client, KubernetesSpec spec, String image, Optional<String> digestRecord,
                      Progress progress, Clock clock) {
        this.client = client;
        this.spec = spec;
        this.image = image;
        this.digestRecord = digestRecord;
        this.progress = progress;
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
        CompletableFuture<RolloutResult> done = new CompletableFuture<>();
        AtomicReference<Instant> answered = new AtomicReference<>(started);
        Duration patience = Timeouts.current().call();
        ScheduledExecutorService serial = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rollout-" + spec.deployment());
            t.setDaemon(true);
            return t;
        });
        Runnable check = () -> {
            if (done.isDone()) {
                return;
            }
            try {
                Optional<RolloutResult> end = evaluate(started);
                answered.set(clock.instant());
                end.ifPresent(done::complete);
            } catch (KubernetesClientException e) {
                // A transient API fault: keep following; the timeout bounds how long we try, unless the API server
                // itself has stopped answering.
                lastState = "API error: " + KubernetesTarget.summary(client, e);
                if (Faults.network(e) && Duration.between(answered.get(), clock.instant()).compareTo(patience) >= 0) {
                    done.complete(result(RolloutResult.Outcome.FAILED, "the platform stopped answering, so the rollout cannot be"
                            + " followed: " + lastState, started));
                }
            } catch (RuntimeException e) {
                // A bug in following, not a verdict on the release: say so plainly so it is not mistaken for one.
                done.complete(result(RolloutResult.Outcome.FAILED, "internal error while following the rollout: " + e, started));
            }
        };
        ResourceEventHandler<HasMetadata> onChange = new ResourceEventHandler<>() {
            @Override
            public void onAdd(HasMetadata obj) {
                schedule(serial, check);
            }

            @Override
            public void onUpdate(HasMetadata oldObj, HasMetadata newObj) {
                schedule(serial, check);
            }

            @Override
            public void onDelete(HasMetadata obj, boolean deletedFinalStateUnknown) {
                schedule(serial, check);
            }
        };
        List<SharedIndexInformer<?>> informers = new ArrayList<>();
        try {
            // Informers are started, not run: run() (and inform()) waits for the first list without a bound, which
            // held a rollout forever when the API server stopped answering at that moment.
            informers.add(start(client.apps().deployments().inNamespace(spec.namespace()).withName(spec.deployment())
                    .runnableInformer(RESYNC_MILLIS), onChange));
            Deployment deployment = client.apps().deployments().inNamespace(spec.namespace()).withName(spec.deployment()).get();
            Map<String, String> selector = deployment == null || deployment.getSpec().getSelector() == null
                    ? Map.of() : deployment.getSpec().getSelector().getMatchLabels();
            informers.add(start(client.pods().inNamespace(spec.namespace()).withLabels(selector).runnableInformer(RESYNC_MILLIS),
                    onChange));
            // Checked now and then at the resync interval whatever the informers do: one that cannot list or watch
            // delivers nothing, and only a check can see that the API server stopped answering.
            serial.scheduleWithFixedDelay(check, 0, RESYNC_MILLIS, TimeUnit.MILLISECONDS);
            // Events end the wait; the deadline is the injected clock's, read again at least every WAKE.
            for (Instant now = clock.instant(); now.isBefore(deadline); now = clock.instant()) {
                if (abort.requested()) {
                    return done.getNow(result(RolloutResult.Outcome.FAILED, Rollout.stoppedFollowing(abort) + "; " + lastState,
                            started));
                }
                Duration left = Duration.between(now, deadline);
                try {
                    return done.get((left.compareTo(WAKE) < 0 ? left : WAKE).toNanos(), TimeUnit.NANOSECONDS);
                } catch (TimeoutException notYet) {
                    // no verdict yet: read the clock again
                }
            }
            // A verdict reached at the deadline wins over the timeout.
            return done.getNow(result(RolloutResult.Outcome.TIMED_OUT, "not complete after " + timeout.toSeconds() + "s: "
                    + lastState, started));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return result(RolloutResult.Outcome.FAILED, "interrupted while following the rollout", started);
        } catch (ExecutionException e) {
            return result(RolloutResult.Outcome.FAILED, "cannot follow rollout: " + e.getCause(), started);
        } catch (KubernetesClientException e) {
            return result(RolloutResult.Outcome.FAILED, "cannot watch the rollout: " + KubernetesTarget.summary(client, e), started);
        } finally {
            informers.forEach(SharedIndexInformer::close);
            serial.shutdownNow();
        }
    }

    private static <T extends HasMetadata> SharedIndexInformer<T> start(SharedIndexInformer<T> informer,
                                                                         ResourceEventHandler<HasMetadata> handler) {
        informer.addEventHandler(cast(handler));
        informer.start(); // not awaited: a failed start shows in the checks
        return informer;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static <T extends HasMetadata> ResourceEventHandler<T> cast(ResourceEventHandler<HasMetadata> handler) {
        return (ResourceEventHandler) handler;
    }

    private static void schedule(ExecutorService serial, Runnable check) {
        if (!serial.isShutdown()) {
            try {
                serial.execute(check);
            } catch (RejectedExecutionException ignored) {
                // The rollout has ended; late events have nothing to report to.
            }
        }
    }

    private Optional<RolloutResult> evaluate(Instant started) {
        Deployment deployment = client.apps().deployments().inNamespace(spec.namespace()).withName(spec.deployment()).get();
        if (deployment == null) {
            return Optional.of(result(RolloutResult.Outcome.FAILED, "deployment " + spec.namespace() + "/"
                    + spec.deployment() + " was deleted during the rollout", started));
        }
        Optional<RolloutResult> superseded = superseded(deployment, started);
        if (superseded.isPresent()) {
            return superseded;
        }
        Optional<String> deadline = deadlineExceeded(deployment);
        if (deadline.isPresent()) {
            return Optional.of(result(RolloutResult.Outcome.FAILED, deadline.get(), started));
        }
        int desired = Optional.ofNullable(deployment.getSpec().getReplicas()).orElse(1);
        Optional<ReplicaSet> replicaSet = newReplicaSet(client, spec, deployment, image);
        List<Pod> newPods = replicaSet.map(rs -> pods(client, spec, rs)).orElse(List.of());
        Optional<String> failure = failure(newPods);
        if (failure.isPresent()) {
            return Optional.of(result(RolloutResult.Outcome.FAILED, failure.get(), started));
        }
        DeploymentStatus status = Optional.ofNullable(deployment.getStatus()).orElseGet(DeploymentStatus::new);
        long readyNew = newPods.stream().filter(KubernetesRollout::ready).count();
        long oldPods = replicaSet.map(rs -> oldPods(deployment, rs)).orElse(-1L);
        long generation = Optional.ofNullable(deployment.getMetadata().getGeneration()).orElse(0L);
        long observed = Optional.ofNullable(status.getObservedGeneration()).orElse(0L);
        String line = observed < generation ? "waiting for the deployment controller to observe generation " + generation
                : "updated " + n(status.getUpdatedReplicas()) + "/" + desired + ", ready " + n(status.getReadyReplicas())
                + "/" + desired + ", available " + n(status.getAvailableReplicas()) + "/" + desired
                + (oldPods > 0 ? ", old pods " + oldPods : "");
        lastState = line;
        if (!line.equals(lastProgress)) {
            lastProgress = line;
            progress.event(line);
        }
        // The Deployment's counters can be stale until the controller has observed this generation, so success also
        // needs the new ReplicaSet's own pods to be ready and every old pod to be gone.
        if (complete(deployment, desired) && readyNew == desired && oldPods == 0) {
            return Optional.of(result(RolloutResult.Outcome.SUCCEEDED, desired + "/" + desired + " pods ready on " + image, started));
        }
        return Optional.empty();
    }

    /**
     * Ends the rollout at once when another writer replaced the release underneath it (the container's image, or the
     * digest record a deploy writes with it): the pods it would wait for will never come, and waiting for the timeout
     * (then rolling back over the other writer's change) is what two interleaved deploys did before.
     */
    private Optional<RolloutResult> superseded(Deployment deployment, Instant started) {
        Optional<String> now = container(deployment, spec.container()).map(Container::getImage);
        if (!now.equals(Optional.of(image))) {
            String what = Text.foreign(now.orElse("no container " + spec.container()));
            return Optional.of(RolloutResult.superseded(what, "superseded by " + now.map(Release::shortImage).orElse(what)
                    + ": another writer set " + spec.container() + " to " + what + " during the rollout of " + image,
                    Duration.between(started, clock.instant())));
        }
        Optional<String> record = Optional.ofNullable(annotations(deployment).get(KubernetesTarget.DIGEST));
        if (!record.equals(digestRecord)) {
            String what = Text.foreign(record.orElse("no " + KubernetesTarget.DIGEST + " record"));
            return Optional.of(RolloutResult.superseded(what, "superseded by " + record.map(Release::shortDigest).orElse(what)
                    + ": another writer changed " + KubernetesTarget.DIGEST + " from " + digestRecord.map(Text::foreign).orElse("none")
                    + " to " + record.map(Text::foreign).orElse("none") + " during the rollout of " + image,
                    Duration.between(started, clock.instant())));
        }
        return Optional.empty();
    }

    private long oldPods(Deployment deployment, ReplicaSet current) {
        String hash = labels(current).get("pod-template-hash");
        Map<String, String> selector = deployment.getSpec().getSelector().getMatchLabels();
        return client.pods().inNamespace(spec.namespace()).withLabels(selector).list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .filter(p -> !Objects.equals(labels(p).get("pod-template-hash"), hash))
                .count();
    }

    /**
     * Why the release's pods will not recover without a new release (the first pod whose container waits for one of
     * {@link #FAILING}), or empty. The one rule for a broken release: the rollout fails fast on it, and
     * {@link KubernetesTarget#current()} reports such a side DEGRADED, also after a run that died before its rollout saw it.
     */
    static Optional<String> failure(List<Pod> pods) {
        return pods.stream().map(KubernetesRollout::failure).flatMap(Optional::stream).findFirst();
    }

    private static Optional<String> failure(Pod pod) {
        if (pod.getStatus() == null) {
            return Optional.empty();
        }
        List<ContainerStatus> statuses = new ArrayList<>();
        Optional.ofNullable(pod.getStatus().getInitContainerStatuses()).ifPresent(statuses::addAll);
        Optional.ofNullable(pod.getStatus().getContainerStatuses()).ifPresent(statuses::addAll);
        for (ContainerStatus status : statuses) {
            // A waiting state may carry no reason; Set.contains(null) would throw and end the rollout as FAILED.
            String waiting = status.getState() == null || status.getState().getWaiting() == null ? null
                    : status.getState().getWaiting().getReason();
            if (waiting != null && FAILING.contains(waiting)) {
                String message = Objects.requireNonNullElse(status.getState().getWaiting().getMessage(), "");
                return Optional.of("pod " + pod.getMetadata().getName() + " container " + status.getName() + ": "
                        + status.getState().getWaiting().getReason() + (message.isEmpty() ? "" : ": " + message));
            }
        }
        return Optional.empty();
    }

    static boolean complete(Deployment deployment, int desired) {
        DeploymentStatus status = deployment.getStatus();
        if (status == null) {
            return false;
        }
        long generation = Optional.ofNullable(deployment.getMetadata().getGeneration()).orElse(0L);
        long observed = Optional.ofNullable(status.getObservedGeneration()).orElse(-1L);
        return observed >= generation && n(status.getUpdatedReplicas()) == desired && n(status.getReadyReplicas()) == desired
                && n(status.getAvailableReplicas()) == desired && n(status.getReplicas()) == desired;
    }

    static boolean progressing(Deployment deployment) {
        return conditions(deployment).anyMatch(c -> "Progressing".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** The Progressing condition's failure, if the controller has given up on this rollout. */
    static Optional<String> deadlineExceeded(Deployment deployment) {
        return conditions(deployment)
                .filter(c -> "Progressing".equals(c.getType()) && "ProgressDeadlineExceeded".equals(c.getReason()))
                .findFirst()
                .map(c -> "Progressing condition: ProgressDeadlineExceeded: " + Objects.requireNonNullElse(c.getMessage(), ""));
    }

    private static Stream<DeploymentCondition> conditions(Deployment deployment) {
        return deployment.getStatus() == null || deployment.getStatus().getConditions() == null
                ? Stream.empty() : deployment.getStatus().getConditions().stream();
    }

    /** The ReplicaSet owned by the Deployment whose template runs this image; the newest revision if several. */
    static Optional<ReplicaSet> newReplicaSet(KubernetesClient client, KubernetesSpec spec, Deployment deployment, String image) {
        if (deployment.getSpec().getSelector() == null) {
            return Optional.empty();
        }
        String uid = deployment.getMetadata().getUid();
        return client.apps().replicaSets().inNamespace(spec.namespace())
                .withLabels(deployment.getSpec().getSelector().getMatchLabels()).list().getItems().stream()
                .filter(rs -> ownedBy(rs, uid))
                .filter(rs -> rs.getSpec().getTemplate().getSpec().getContainers().stream()
                        .anyMatch(c -> spec.container().equals(c.getName()) && image.equals(c.getImage())))
                .max(Comparator.comparingLong(KubernetesRollout::revision));
    }

    /** The live pods of a ReplicaSet. */
    static List<Pod> pods(KubernetesClient client, KubernetesSpec spec, ReplicaSet replicaSet) {
        String uid = replicaSet.getMetadata().getUid();
        return client.pods().inNamespace(spec.namespace()).withLabels(replicaSet.getSpec().getSelector().getMatchLabels())
                .list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .filter(p -> ownedBy(p, uid))
                .toList();
    }

    static Optional<Container> container(Deployment deployment, String name) {
        return deployment.getSpec().getTemplate().getSpec().getContainers().stream()
                .filter(c -> name.equals(c.getName())).findFirst();
    }

    private static boolean ownedBy(HasMetadata object, String uid) {
        List<OwnerReference> owners = object.getMetadata().getOwnerReferences();
        return uid == null || owners != null && owners.stream().anyMatch(o -> uid.equals(o.getUid()));
    }

    private static boolean ready(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static long revision(ReplicaSet rs) {
        try {
            return Long.parseLong(annotations(rs).getOrDefault(REVISION, "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static Map<String, String> annotations(HasMetadata object) {
        return Objects.requireNonNullElse(object.getMetadata().getAnnotations(), Map.of());
    }

    private static Map<String, String> labels(HasMetadata object) {
        return Objects.requireNonNullElse(object.getMetadata().getLabels(), Map.of());
    }

    private static int n(Integer value) {
        return value == null ? 0 : value;
    }

    private RolloutResult result(RolloutResult.Outcome status, String reason, Instant started) {
        return new RolloutResult(status, reason, Duration.between(started, clock.instant()));
    }
}
