package dev.dualdeploy.local;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A Kubernetes API on loopback (fabric8's mock server in CRUD mode, with server-side apply and generations added by
 * {@link ApplyingCrudDispatcher}) plus a small controller that does what the Deployment, ReplicaSet and kubelet
 * controllers would: it creates a ReplicaSet per pod template, pods for it, moves the pods through
 * Pending → Running/Ready (reporting the image digest as {@code imageID}), scales old ReplicaSets down once the new
 * pods are ready, and keeps the Deployment's status and conditions current. Images the simulator is told are broken
 * fail the way the kubelet reports it: ErrImagePull then ImagePullBackOff, or CrashLoopBackOff. As the deployment
 * controller does, it counts {@code progressDeadlineSeconds} from the last progress (the Progressing condition's
 * {@code lastUpdateTime}). It runs when a Deployment changes (a watch) and while a pod or a deadline is due to move
 * on, and not at all when nothing is moving.
 *
 * <p>Not modelled: scheduling, nodes and resources; surge and unavailability budgets (all new pods start at once,
 * old pods go when every new pod is ready); probes; HPAs acting; Services routing; RBAC and authentication (any
 * token is accepted); {@code .status} protection (a client could write status through the main resource); and
 * merge-patch on lists appends instead of replacing (a mock server limitation).
 */
public final class KubernetesSimulator implements AutoCloseable {

    /** How a broken image fails. */
    public enum Breakage {
        /** ErrImagePull, then ImagePullBackOff. */
        PULL,
        /** Runs, then CrashLoopBackOff. */
        CRASH,
        /** ContainerCreating for ever: neither ready nor failing (an image pull that never ends). */
        STALL
    }

    private static final String HASH = "pod-template-hash";
    private static final String REVISION = "deployment.kubernetes.io/revision";
    private static final Duration START_DELAY = Duration.ofMillis(150);
    private static final Duration FAIL_DELAY = Duration.ofMillis(300);
    /** The mock server logs every request at INFO; held here so the level setting is not garbage-collected. */
    private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(Level.WARNING);
    }

    /** The shortest wait between passes while something is moving, so a busy controller still yields. */
    private static final Duration MIN_WAIT = Duration.ofMillis(20);
    /** After a pass that wrote something, the next looks again this soon: a write can make more work. */
    private static final Duration SETTLE = Duration.ofMillis(50);

    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final ScheduledExecutorService loop;
    private final Clock clock;
    private final AtomicLong passes = new AtomicLong();
    /** When the next pass is due, in System.nanoTime(); Long.MAX_VALUE when none is. Guarded by {@code this}. */
    private long dueAt = Long.MAX_VALUE;
    private volatile Watch watch;
    private volatile boolean closed;
    private final Map<String, Breakage> broken = new ConcurrentHashMap<>();
    private final Map<String, Instant> podCreated = new ConcurrentHashMap<>();
    private final Map<String, Instant> failureReported = new ConcurrentHashMap<>();
    private final AtomicLong names = new AtomicLong();
    private volatile BiConsumer<String, String> serving = (namespace, image) -> { };

    private KubernetesSimulator(Clock clock, boolean background) {
        this.clock = clock;
        this.server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new ApplyingCrudDispatcher(), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        this.client = server.createClient();
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "k8s-sim-controller");
            t.setDaemon(true);
            return t;
        });
        // Idle is idle: the controller runs when a Deployment changes (a watch), and otherwise only while a pod or a
        // progress deadline is due to move on (see pass). A fixed-rate poll here cost a third of a core doing nothing.
        if (background) {
            watchDeployments();
            wakeIn(Duration.ZERO);
        } else {
            closed = true; // no background passes: the caller drives the controller
        }
    }

    /** Starts the API server on a free loopback port and the controller. */
    public static KubernetesSimulator start() {
        return new KubernetesSimulator(Clock.systemUTC(), true);
    }

    /**
     * The API server with a controller that runs only when {@link #reconcile()} is called, in {@code clock}'s time
     * (pod start and failure delays, progress deadlines): a test steps the clock and drives every pass itself.
     */
    public static KubernetesSimulator startDriven(Clock clock) {
        return new KubernetesSimulator(clock, false);
    }

    /** How many controller passes have run; an idle environment adds none. */
    long passes() {
        return passes.get();
    }

    private void watchDeployments() {
        if (closed) {
            return;
        }
        watch = client.apps().deployments().inAnyNamespace().watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, Deployment resource) {
                wakeIn(Duration.ZERO);
            }

            @Override
            public void onClose(WatcherException cause) {
                // The watch ended abnormally (the client gave up reconnecting): look now, and watch again.
                if (!closed) {
                    wakeIn(Duration.ZERO);
                    loop.execute(KubernetesSimulator.this::watchDeployments);
                }
            }
        });
    }

    /** Asks for a pass in {@code delay} (wall time), unless one is already due sooner. */
    private synchronized void wakeIn(Duration delay) {
        long at = System.nanoTime() + delay.toNanos();
        if (closed || at >= dueAt) {
            return;
        }
        dueAt = at;
        try {
            loop.schedule(this::pass, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            // Closing.
        }
    }

    private void pass() {
        synchronized (this) {
            if (System.nanoTime() < dueAt) {
                return; // superseded: a sooner pass already ran, and the one due now (if any) is scheduled
            }
            dueAt = Long.MAX_VALUE;
        }
        reconcile().ifPresent(this::wakeIn);
    }
    /** The API server's URL, such as {@code http://127.0.0.1:40123}. */
    public String url() {
        return "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getPort();
    }

    /** A client of the simulated API, for seeding and inspection. */
    public KubernetesClient client() {
        return client;
    }

    /**
     * Tells {@code listener} (namespace, image) the image each Deployment's template names, on every controller pass
     * over it: what that namespace is serving from then on. The listener ignores an image it already had.
     */
    public void onServing(BiConsumer<String, String> listener) {
        this.serving = listener;
    }

    /** Makes every pod whose image contains {@code imageOrDigest} fail the given way from now on. */
    public void breakImage(String imageOrDigest, Breakage breakage) {
        broken.put(imageOrDigest, breakage);
        wakeIn(Duration.ZERO);
    }

    /**
     * When a kubelet-style failure was first reported on a pod of the namespace, or empty; tests measure fail-fast
     * latency from it.
     */
    public Optional<Instant> firstFailureIn(String namespace) {
        return failureReported.entrySet().stream().filter(e -> e.getKey().startsWith(namespace + "/"))
                .map(Map.Entry::getValue).min(Instant::compareTo);
    }

    /**
     * Writes a kubeconfig with one context per name, each pointing at this server with the given namespace.
     */
    public Path writeKubeconfig(Path file, Map<String, String> contextNamespaces) throws IOException {
        StringBuilder yaml = new StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: ")
                .append(url()).append("\nusers:\n- name: local\n  user:\n    token: local-environment\ncontexts:\n");
        String first = null;
        for (Map.Entry<String, String> entry : contextNamespaces.entrySet()) {
            first = first == null ? entry.getKey() : first;
            yaml.append("- name: ").append(entry.getKey()).append("\n  context:\n    cluster: local\n    user: local\n    namespace: ")
                    .append(entry.getValue()).append('\n');
        }
        yaml.append("current-context: ").append(first == null ? "local" : first).append('\n');
        Files.writeString(file, yaml.toString());
        return file;
    }

    /** Creates a namespace and a ready Deployment of {@code replicas} pods running {@code image}. */
    public void seedDeployment(String namespace, String name, String container, String image, int replicas) {
        if (client.namespaces().withName(namespace).get() == null) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build()).create();
        }
        client.apps().deployments().inNamespace(namespace).resource(new DeploymentBuilder()
                .withNewMetadata().withName(name).addToLabels("app", name).endMetadata()
                .withNewSpec().withReplicas(replicas).withNewSelector().addToMatchLabels("app", name).endSelector()
                .withProgressDeadlineSeconds(600)
                .withNewTemplate().withNewMetadata().addToLabels("app", name).endMetadata()
                .withNewSpec().addToContainers(new ContainerBuilder().withName(container).withImage(image).build()).endSpec()
                .endTemplate().endSpec().build()).create();
    }

    /**
     * One pass of the controller over every Deployment, as the background loop runs it (tests with a stepped clock
     * call it directly).
     *
     * @return how long (wall time) until the next pass is due, or empty when nothing will move until something changes
     */
    synchronized Optional<Duration> reconcile() {
        passes.incrementAndGet();
        Pass pass = new Pass();
        try {
            for (Deployment deployment : client.apps().deployments().inAnyNamespace().list().getItems()) {
                try {
                    reconcile(deployment, pass);
                } catch (KubernetesClientException conflict) {
                    // Someone else wrote the same object (a 409): look again soon, at the new version.
                    pass.wrote = true;
                }
            }
        } catch (RuntimeException e) {
            // The controller must outlive any single bad pass, as a real one does; try again shortly.
            pass.wrote = true;
        }
        Optional<Duration> untilDue = pass.due.map(due -> Duration.between(clock.instant(), due));
        if (pass.wrote) {
            untilDue = Optional.of(untilDue.filter(d -> d.compareTo(SETTLE) < 0).orElse(SETTLE));
        }
        return untilDue.map(d -> d.compareTo(MIN_WAIT) < 0 ? MIN_WAIT : d);
    }

    /** What one pass learnt: whether it wrote anything, and the earliest time (in the clock's time) something is due. */
    private static final class Pass {
        boolean wrote;
        Optional<Instant> due = Optional.empty();

        void dueAt(Instant at) {
            due = Optional.of(due.filter(d -> d.isBefore(at)).orElse(at));
        }
    }

    private void reconcile(Deployment deployment, Pass pass) {
        String namespace = deployment.getMetadata().getNamespace();
        int desired = Optional.ofNullable(deployment.getSpec().getReplicas()).orElse(1);
        String hash = templateHash(deployment.getSpec().getTemplate());
        deployment.getSpec().getTemplate().getSpec().getContainers().stream().findFirst()
                .ifPresent(c -> serving.accept(namespace, c.getImage()));
        List<ReplicaSet> owned = client.apps().replicaSets().inNamespace(namespace).list().getItems().stream()
                .filter(rs -> owns(deployment.getMetadata().getUid(), rs.getMetadata().getOwnerReferences())).toList();
        ReplicaSet current = owned.stream().filter(rs -> hash.equals(labels(rs).get(HASH))).findFirst()
                .orElseGet(() -> {
                    pass.wrote = true;
                    return createReplicaSet(deployment, hash, owned);
                });
        List<Pod> pods = client.pods().inNamespace(namespace).list().getItems().stream()
                .filter(p -> owned.stream().anyMatch(rs -> owns(rs.getMetadata().getUid(), p.getMetadata().getOwnerReferences()))
                        || owns(current.getMetadata().getUid(), p.getMetadata().getOwnerReferences()))
                .toList();
        List<Pod> fresh = new ArrayList<>(pods.stream().filter(p -> hash.equals(labels(p).get(HASH))).toList());
        for (int i = fresh.size(); i < desired; i++) {
            fresh.add(createPod(current));
            pass.wrote = true;
        }
        for (int i = desired; i < fresh.size(); i++) {
            client.pods().resource(fresh.get(i)).delete();
            pass.wrote = true;
        }
        fresh = fresh.subList(0, Math.min(desired, fresh.size()));
        int readyFresh = 0;
        for (Pod pod : fresh) {
            if (advance(pod, pass)) {
                readyFresh++;
            }
        }
        List<Pod> old = pods.stream().filter(p -> !hash.equals(labels(p).get(HASH))).toList();
        if (readyFresh == desired) {
            old.forEach(p -> client.pods().resource(p).delete());
            pass.wrote |= !old.isEmpty();
            old = List.of();
        }
        int readyOld = (int) old.stream().filter(KubernetesSimulator::isReady).count();
        updateStatus(deployment, current, desired, fresh.size() + old.size(), fresh.size(), readyFresh + readyOld, pass);
    }

    private ReplicaSet createReplicaSet(Deployment deployment, String hash, List<ReplicaSet> owned) {
        long revision = owned.stream().mapToLong(rs -> Long.parseLong(
                Objects.requireNonNullElse(rs.getMetadata().getAnnotations(), Map.<String, String>of()).getOrDefault(REVISION, "0")))
                .max().orElse(0) + 1;
        PodTemplateSpec template = Serialization.clone(deployment.getSpec().getTemplate());
        template.getMetadata().getLabels().put(HASH, hash);
        Map<String, String> selector = new HashMap<>(deployment.getSpec().getSelector().getMatchLabels());
        selector.put(HASH, hash);
        return client.apps().replicaSets().inNamespace(deployment.getMetadata().getNamespace()).resource(new ReplicaSetBuilder()
                .withNewMetadata().withName(deployment.getMetadata().getName() + "-" + hash)
                .withLabels(template.getMetadata().getLabels()).addToAnnotations(REVISION, Long.toString(revision))
                .withOwnerReferences(owner("Deployment", "apps/v1", deployment.getMetadata().getName(), deployment.getMetadata().getUid()))
                .endMetadata()
                .withNewSpec().withReplicas(deployment.getSpec().getReplicas()).withNewSelector().withMatchLabels(selector).endSelector()
                .withTemplate(template).endSpec().build()).create();
    }

    private Pod createPod(ReplicaSet replicaSet) {
        String name = replicaSet.getMetadata().getName() + "-" + Long.toString(36 * 36 * 36 + names.incrementAndGet(), 36);
        Pod pod = client.pods().inNamespace(replicaSet.getMetadata().getNamespace()).resource(new PodBuilder()
                .withNewMetadata().withName(name).withLabels(replicaSet.getSpec().getTemplate().getMetadata().getLabels())
                .withOwnerReferences(owner("ReplicaSet", "apps/v1", replicaSet.getMetadata().getName(), replicaSet.getMetadata().getUid()))
                .endMetadata()
                .withSpec(Serialization.clone(replicaSet.getSpec().getTemplate().getSpec()))
                .withStatus(new PodStatusBuilder().withPhase("Pending").build())
                .build()).create();
        podCreated.put(key(pod), clock.instant());
        return pod;
    }

    /** Moves a pod's status along by its age and its image; returns whether it is ready. */
    private boolean advance(Pod pod, Pass pass) {
        Instant created = podCreated.computeIfAbsent(key(pod), k -> clock.instant());
        Duration age = Duration.between(created, clock.instant());
        List<ContainerStatus> statuses = new ArrayList<>();
        boolean ready = true;
        boolean failed = false;
        for (Container container : pod.getSpec().getContainers()) {
            String image = container.getImage();
            Breakage breakage = broken.entrySet().stream().filter(e -> image.contains(e.getKey()))
                    .map(Map.Entry::getValue).findFirst().orElse(null);
            ContainerStatusBuilder status = new ContainerStatusBuilder().withName(container.getName()).withImage(image)
                    .withRestartCount(0).withReady(false).withStarted(false);
            if (age.compareTo(START_DELAY) < 0 || breakage == Breakage.STALL) {
                status.withState(waiting("ContainerCreating", null));
            } else if (breakage == Breakage.PULL) {
                status.withState(age.compareTo(FAIL_DELAY) < 0
                        ? waiting("ErrImagePull", "failed to pull and unpack image \"" + image + "\": not found")
                        : waiting("ImagePullBackOff", "Back-off pulling image \"" + image + "\""));
                failed = true;
            } else if (breakage == Breakage.CRASH) {
                status.withImageID(imageId(image)).withRestartCount(age.compareTo(FAIL_DELAY) < 0 ? 0 : 1);
                status.withState(age.compareTo(FAIL_DELAY) < 0 ? running(pod) : waiting("CrashLoopBackOff",
                        "back-off 10s restarting failed container=" + container.getName() + " pod=" + pod.getMetadata().getName()));
                failed = age.compareTo(FAIL_DELAY) >= 0;
            } else {
                status.withImageID(imageId(image)).withReady(true).withStarted(true).withState(running(pod));
            }
            ready &= breakage == null && age.compareTo(START_DELAY) >= 0;
            statuses.add(status.build());
            // The pod moves on again when it is due to start, and a broken one when it is due to fail.
            if (age.compareTo(START_DELAY) < 0) {
                pass.dueAt(created.plus(START_DELAY));
            } else if (breakage != null && breakage != Breakage.STALL && age.compareTo(FAIL_DELAY) < 0) {
                pass.dueAt(created.plus(FAIL_DELAY));
            }
        }
        PodStatus next = new PodStatusBuilder().withPhase(ready || statuses.stream().anyMatch(s -> s.getState().getRunning() != null)
                        ? "Running" : "Pending")
                .withConditions(condition("PodScheduled", true), condition("ContainersReady", ready), condition("Ready", ready))
                .withContainerStatuses(statuses).build();
        if (!Objects.equals(strip(pod.getStatus()), strip(next))) {
            pod.setStatus(next);
            client.pods().resource(pod).updateStatus();
            pass.wrote = true;
            if (failed) {
                failureReported.putIfAbsent(key(pod), clock.instant());
            }
        }
        return ready;
    }

    /**
     * Writes the Deployment's status. As the deployment controller does, the Progressing condition's lastUpdateTime
     * moves whenever the rollout makes progress (another ReplicaSet becomes the current one, or the counts of pods,
     * updated pods or ready pods change), and the progress deadline counts from it, not from the ReplicaSet's
     * creation: a rollback to a ReplicaSet made long ago is a fresh rollout.
     */
    private void updateStatus(Deployment deployment, ReplicaSet current, int desired, int total, int updated, int ready, Pass pass) {
        boolean complete = updated == desired && ready == desired && total == desired;
        int deadline = Optional.ofNullable(deployment.getSpec().getProgressDeadlineSeconds()).orElse(600);
        String rs = "ReplicaSet \"" + current.getMetadata().getName() + "\"";
        DeploymentStatus before = deployment.getStatus();
        Optional<DeploymentCondition> was = Optional.ofNullable(before).map(DeploymentStatus::getConditions).stream()
                .flatMap(List::stream).filter(c -> "Progressing".equals(c.getType())).findFirst();
        boolean progressed = was.isEmpty() || was.get().getLastUpdateTime() == null
                || !Objects.requireNonNullElse(was.get().getMessage(), "").startsWith(rs + " ")
                || !Objects.equals(before.getReplicas(), total) || !Objects.equals(before.getUpdatedReplicas(), updated)
                || !Objects.equals(before.getReadyReplicas(), ready);
        String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
        Instant lastProgress = progressed ? Instant.parse(now) : Instant.parse(was.get().getLastUpdateTime());
        boolean timedOut = !progressed && "ProgressDeadlineExceeded".equals(was.get().getReason());
        String status;
        String reason;
        String message;
        if (complete) {
            status = "True";
            reason = "NewReplicaSetAvailable";
            message = rs + " has successfully progressed.";
        } else if (timedOut || clock.instant().isAfter(lastProgress.plusSeconds(deadline))) {
            status = "False";
            reason = "ProgressDeadlineExceeded";
            message = rs + " has timed out progressing.";
        } else {
            status = "True";
            reason = "ReplicaSetUpdated";
            message = rs + " is progressing.";
            // Without progress, the condition turns at the deadline: the controller must look then.
            pass.dueAt(lastProgress.plusSeconds(deadline).plusSeconds(1));
        }
        boolean same = was.isPresent() && status.equals(was.get().getStatus()) && reason.equals(was.get().getReason())
                && message.equals(was.get().getMessage());
        DeploymentCondition progressing = new DeploymentConditionBuilder().withType("Progressing").withStatus(status)
                .withReason(reason).withMessage(message)
                .withLastUpdateTime(same && !progressed ? was.get().getLastUpdateTime() : now)
                .withLastTransitionTime(was.filter(c -> status.equals(c.getStatus()) && c.getLastTransitionTime() != null)
                        .map(DeploymentCondition::getLastTransitionTime).orElse(now))
                .build();
        DeploymentStatus next = new DeploymentStatusBuilder()
                .withObservedGeneration(Optional.ofNullable(deployment.getMetadata().getGeneration()).orElse(1L))
                .withReplicas(total).withUpdatedReplicas(updated).withReadyReplicas(ready).withAvailableReplicas(ready)
                .withUnavailableReplicas(Math.max(0, desired - ready))
                .withConditions(deploymentCondition("Available", ready >= desired, ready >= desired
                        ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable", "Deployment has " + ready + " available replicas."),
                        progressing)
                .build();
        if (!Objects.equals(before, next)) {
            deployment.setStatus(next);
            client.apps().deployments().resource(deployment).updateStatus();
            pass.wrote = true;
        }
    }

    private static PodStatus strip(PodStatus status) {
        return status == null ? null : new PodStatusBuilder(status).build();
    }

    private static ContainerState waiting(String reason, String message) {
        return new ContainerStateBuilder().withNewWaiting().withReason(reason).withMessage(message).endWaiting().build();
    }

    private ContainerState running(Pod pod) {
        Instant created = podCreated.getOrDefault(key(pod), clock.instant()).plus(START_DELAY);
        return new ContainerStateBuilder().withNewRunning().withStartedAt(created.toString()).endRunning().build();
    }

    private static PodCondition condition(String type, boolean on) {
        return new PodConditionBuilder().withType(type).withStatus(on ? "True" : "False").build();
    }

    private static DeploymentCondition deploymentCondition(String type, boolean on, String reason, String message) {
        return new DeploymentConditionBuilder().withType(type).withStatus(on ? "True" : "False").withReason(reason)
                .withMessage(message).build();
    }

    /** What the kubelet reports as imageID: the repository pinned to the digest that was pulled. */
    static String imageId(String image) {
        int at = image.indexOf('@');
        if (at > 0) {
            return "docker-pullable://" + image;
        }
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        String repository = colon > slash ? image.substring(0, colon) : image;
        return "docker-pullable://" + repository + "@sha256:" + sha256(image);
    }

    private static String templateHash(PodTemplateSpec template) {
        return sha256(Serialization.asJson(template)).substring(0, 10);
    }

    static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static OwnerReference owner(String kind, String apiVersion, String name, String uid) {
        return new OwnerReferenceBuilder().withKind(kind).withApiVersion(apiVersion).withName(name).withUid(uid)
                .withController(true).build();
    }

    private static boolean owns(String uid, List<OwnerReference> owners) {
        return uid != null && owners != null && owners.stream().anyMatch(o -> uid.equals(o.getUid()));
    }

    private static boolean isReady(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static Map<String, String> labels(HasMetadata object) {
        return Objects.requireNonNullElse(object.getMetadata().getLabels(), Map.of());
    }

    private static String key(Pod pod) {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    @Override
    public void close() {
        closed = true;
        Watch open = watch;
        if (open != null) {
            open.close();
        }
        loop.shutdownNow();
        try {
            loop.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        server.destroy();
    }
}
