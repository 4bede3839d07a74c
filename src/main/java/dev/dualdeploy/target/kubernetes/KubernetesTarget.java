package dev.dualdeploy.target.kubernetes;

import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.target.DeployTarget;
import dev.dualdeploy.target.Progress;
import dev.dualdeploy.target.Rollout;
import dev.dualdeploy.target.Sleeper;
import dev.dualdeploy.target.TargetException;
import dev.dualdeploy.target.TargetState;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.RollableScalableResource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Kubernetes Deployment as a deploy target. With {@code manifests} configured, every YAML document there is
 * server-side applied (field manager {@value #FIELD_MANAGER}) with the release image set on the named container;
 * otherwise only the existing Deployment's image is changed. The release, its digest and the previous image are
 * recorded as annotations on the Deployment, so the cluster itself says what runs and what to roll back to.
 */
public final class KubernetesTarget implements DeployTarget {

    public static final String FIELD_MANAGER = "dualdeploy";
    public static final String VERSION = "dualdeploy.dev/version";
    public static final String DIGEST = "dualdeploy.dev/digest";
    public static final String PREVIOUS_IMAGE = "dualdeploy.dev/previous-image";
    public static final String PREVIOUS_VERSION = "dualdeploy.dev/previous-version";
    public static final String ROLLED_BACK_FROM = "dualdeploy.dev/rolled-back-from";
    public static final String CHANGE_CAUSE = "kubernetes.io/change-cause";
    /** How often a patch is re-read and re-applied after a write conflict before the deploy fails. */
    private static final int CONFLICT_ATTEMPTS = 10;

    private final KubernetesClient client;
    private final KubernetesSpec spec;
    private final Progress progress;

    public KubernetesTarget(KubernetesClient client, KubernetesSpec spec, Progress progress) {
        this.client = client;
        this.spec = spec;
        this.progress = progress;
    }

    /**
     * Connects through the configured kubeconfig file and context; without a file, through {@code KUBECONFIG},
     * {@code ~/.kube/config} or the in-cluster service account, in fabric8's usual order. The kubeconfig is read and
     * checked by {@link Kubeconfig} first, so a context it does not define is an error, never the current context,
     * and no parser message (which can quote a token) reaches a person. Every request has the connect and read
     * timeouts of {@link Timeouts#current()} and a bounded number of retries; watches are not cut by them.
     *
     * @throws ConfigException if the kubeconfig is malformed or lacks the context (bad input, exit 2)
     * @throws TargetException if the client cannot be created from it
     */
    public static KubernetesClient connect(KubernetesSpec spec) {
        return connect(spec, System.getenv(), Path.of(System.getProperty("user.home")), Timeouts.current());
    }

    static KubernetesClient connect(KubernetesSpec spec, Map<String, String> env, Path home, Timeouts timeouts) {
        List<Path> files = Kubeconfig.locate(spec, env, home);
        Config config;
        if (files.isEmpty()) {
            if (spec.context().isPresent()) {
                throw new ConfigException(new ConfigProblem("kubeconfig", "", "context '" + spec.context().get()
                        + "' is named, but there is no kubeconfig: kubeconfig is not set, KUBECONFIG is empty and "
                        + "~/.kube/config does not exist", "kubeconfig: /etc/dualdeploy/kubeconfig"));
            }
            config = Kubeconfig.fabric8(() -> Config.autoConfigure(null));
        } else {
            config = Kubeconfig.read(files).clientConfig(spec);
        }
        config.setConnectionTimeout(Math.toIntExact(timeouts.connect().toMillis()));
        config.setRequestTimeout(Math.toIntExact(timeouts.read().toMillis()));
        // fabric8 retries ten times with doubling pauses by default: minutes against a cluster that does not answer.
        config.setRequestRetryBackoffLimit(timeouts.retries());
        config.setRequestRetryBackoffInterval(500);
        Config finished = config;
        return Kubeconfig.fabric8(() -> new KubernetesClientBuilder().withConfig(finished).build());
    }

    @Override
    public String describe() {
        return "kubernetes " + spec.namespace() + "/" + spec.deployment();
    }

    @Override
    public TargetState current() {
        Deployment deployment = call("read deployment", () -> resource().get());
        if (deployment == null) {
            return TargetState.absent("deployment " + spec.namespace() + "/" + spec.deployment() + " not found");
        }
        Map<String, String> annotations = annotations(deployment);
        Optional<String> image = container(deployment).map(Container::getImage);
        Optional<ReplicaSet> replicaSet = image.flatMap(i -> newReplicaSet(deployment, i));
        Set<String> running = replicaSet.map(rs -> runningDigests(pods(rs))).orElse(Set.of());
        Optional<String> digest = running.size() == 1 ? running.stream().findFirst() : image.flatMap(ImageRef::findDigest);
        DeploymentStatus status = Optional.ofNullable(deployment.getStatus()).orElseGet(DeploymentStatus::new);
        int desired = Optional.ofNullable(deployment.getSpec().getReplicas()).orElse(1);
        int ready = Optional.ofNullable(status.getReadyReplicas()).orElse(0);
        TargetState.Health health = health(deployment, desired, running.size());
        String detail = ready + "/" + desired + " ready" + (running.size() > 1 ? ", pods run " + running.size() + " digests" : "");
        return new TargetState(image, digest, Optional.ofNullable(annotations.get(VERSION)),
                Optional.ofNullable(annotations.get(PREVIOUS_IMAGE)), health, detail);
    }

    @Override
    public Rollout deploy(Release release) {
        Deployment before = call("read deployment", () -> resource().get());
        Optional<String> previousImage = Optional.ofNullable(before).flatMap(this::container).map(Container::getImage);
        if (previousImage.filter(release.image()::equals).isPresent()) {
            progress.event("already runs " + release.version() + " (" + release.digest() + "); checking health only");
            return new KubernetesRollout(client, spec, release.image(), progress);
        }
        Map<String, String> record = new HashMap<>();
        record.put(VERSION, release.version());
        record.put(DIGEST, release.digest());
        record.put(CHANGE_CAUSE, "dualdeploy: release " + release.version() + " (" + release.image() + ")");
        previousImage.ifPresent(image -> record.put(PREVIOUS_IMAGE, image));
        Optional.ofNullable(before).map(d -> annotations(d).get(VERSION))
                .ifPresent(version -> record.put(PREVIOUS_VERSION, version));
        if (spec.manifests().isPresent()) {
            applyManifests(spec.manifests().get(), release.image(), record);
        } else {
            if (before == null) {
                throw new TargetException("deployment " + spec.namespace() + "/" + spec.deployment()
                        + " does not exist and no manifests are configured to create it");
            }
            patch(release.image(), record, Set.of(ROLLED_BACK_FROM));
        }
        progress.event("set " + spec.container() + " to " + release.image()
                + previousImage.map(p -> " (was " + p + ")").orElse(""));
        return new KubernetesRollout(client, spec, release.image(), progress);
    }

    @Override
    public Rollout rollback() {
        Deployment deployment = call("read deployment", () -> resource().get());
        if (deployment == null) {
            throw new TargetException("cannot roll back: deployment " + spec.namespace() + "/" + spec.deployment() + " not found");
        }
        Map<String, String> annotations = annotations(deployment);
        String previous = annotations.get(PREVIOUS_IMAGE);
        if (previous == null) {
            throw new TargetException("cannot roll back " + describe() + ": no previous release is recorded"
                    + Optional.ofNullable(annotations.get(ROLLED_BACK_FROM)).map(f -> " (it was already rolled back from " + f + ")").orElse(""));
        }
        String current = container(deployment).map(Container::getImage).orElse("");
        Map<String, String> record = new HashMap<>();
        record.put(ROLLED_BACK_FROM, current);
        record.put(CHANGE_CAUSE, "dualdeploy: rollback from " + current + " to " + previous);
        Optional.ofNullable(annotations.get(PREVIOUS_VERSION)).ifPresent(v -> record.put(VERSION, v));
        ImageRef.findDigest(previous).ifPresent(d -> record.put(DIGEST, d));
        // Only one step of history is kept: after a rollback there is no "previous" to go back to, so a second
        // rollback is refused instead of silently re-deploying the release that just failed.
        Set<String> remove = new LinkedHashSet<>(List.of(PREVIOUS_IMAGE, PREVIOUS_VERSION));
        if (!annotations.containsKey(PREVIOUS_VERSION)) {
            remove.add(VERSION);
        }
        if (ImageRef.findDigest(previous).isEmpty()) {
            remove.add(DIGEST);
        }
        patch(previous, record, remove);
        progress.event("rolling back " + spec.container() + " from " + current + " to " + previous);
        return new KubernetesRollout(client, spec, previous, progress);
    }

    private void patch(String image, Map<String, String> record, Set<String> remove) {
        // The patch carries the resourceVersion it was made from, and the deployment controller writes status all
        // the time, so a conflict (409) is ordinary: read again and re-apply, as kubectl does, after a short
        // jittered pause that grows with each attempt, so a busy writer cannot win every race.
        for (int attempt = 1; ; attempt++) {
            try {
                resource().edit(d -> {
                    Container container = container(d).orElseThrow(() -> missingContainer(d));
                    container.setImage(image);
                    Map<String, String> annotations = new HashMap<>(annotations(d));
                    annotations.keySet().removeAll(remove);
                    annotations.putAll(record);
                    d.getMetadata().setAnnotations(annotations);
                    return d;
                });
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == CONFLICT_ATTEMPTS) {
                    throw new TargetException(describe() + ": cannot patch deployment: " + summary(e)
                            + (e.getCode() == 409 ? " (after " + attempt + " attempts)" : ""), e);
                }
                Sleeper.SYSTEM.sleep(Duration.ofMillis(20L * attempt + ThreadLocalRandom.current().nextLong(20)));
            }
        }
    }

    private void applyManifests(Path location, String image, Map<String, String> record) {
        List<HasMetadata> items = new ArrayList<>();
        for (Path file : manifestFiles(location)) {
            try (InputStream in = Files.newInputStream(file)) {
                items.addAll(client.load(in).items());
            } catch (IOException | KubernetesClientException e) {
                throw new TargetException("cannot read manifest " + file + ": " + e.getMessage(), e);
            }
        }
        boolean found = false;
        for (HasMetadata item : items) {
            if (item instanceof Deployment d && spec.deployment().equals(d.getMetadata().getName())) {
                Container container = container(d).orElseThrow(() -> missingContainer(d));
                container.setImage(image);
                Map<String, String> annotations = new HashMap<>(annotations(d));
                annotations.putAll(record);
                d.getMetadata().setAnnotations(annotations);
                found = true;
            }
        }
        if (!found) {
            throw new TargetException("manifests in " + location + " do not contain Deployment " + spec.deployment());
        }
        for (HasMetadata item : items) {
            String what = item.getKind() + "/" + item.getMetadata().getName();
            call("apply " + what, () -> client.resource(item).inNamespace(spec.namespace())
                    .fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply());
            progress.event("applied " + what);
        }
    }

    private static List<Path> manifestFiles(Path location) {
        if (Files.isRegularFile(location)) {
            return List.of(location);
        }
        if (!Files.isDirectory(location)) {
            throw new TargetException("manifests path " + location + " does not exist");
        }
        try (Stream<Path> files = Files.list(location)) {
            List<Path> yaml = files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .sorted().collect(Collectors.toList());
            if (yaml.isEmpty()) {
                throw new TargetException("manifests directory " + location + " holds no .yaml or .yml files");
            }
            return yaml;
        } catch (IOException e) {
            throw new TargetException("cannot list manifests in " + location + ": " + e.getMessage(), e);
        }
    }

    private TargetState.Health health(Deployment deployment, int desired, int runningDigests) {
        if (KubernetesRollout.deadlineExceeded(deployment).isPresent()) {
            return TargetState.Health.DEGRADED;
        }
        DeploymentStatus status = deployment.getStatus();
        if (status == null) {
            return TargetState.Health.PROGRESSING;
        }
        boolean complete = KubernetesRollout.complete(deployment, desired);
        if (complete && runningDigests <= 1) {
            return TargetState.Health.HEALTHY;
        }
        int available = Optional.ofNullable(status.getAvailableReplicas()).orElse(0);
        return available < desired && !KubernetesRollout.progressing(deployment)
                ? TargetState.Health.DEGRADED : TargetState.Health.PROGRESSING;
    }

    Optional<ReplicaSet> newReplicaSet(Deployment deployment, String image) {
        return KubernetesRollout.newReplicaSet(client, spec, deployment, image);
    }

    private List<Pod> pods(ReplicaSet replicaSet) {
        return KubernetesRollout.pods(client, spec, replicaSet);
    }

    private Set<String> runningDigests(List<Pod> pods) {
        Set<String> digests = new LinkedHashSet<>();
        for (Pod pod : pods) {
            if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
                continue;
            }
            for (ContainerStatus status : pod.getStatus().getContainerStatuses()) {
                if (spec.container().equals(status.getName()) && status.getState() != null
                        && status.getState().getRunning() != null) {
                    ImageRef.findDigest(status.getImageID()).ifPresent(digests::add);
                }
            }
        }
        return digests;
    }

    private Optional<Container> container(Deployment deployment) {
        return KubernetesRollout.container(deployment, spec.container());
    }

    private TargetException missingContainer(Deployment d) {
        return new TargetException("deployment " + d.getMetadata().getName() + " has no container named '"
                + spec.container() + "'; containers are " + d.getSpec().getTemplate().getSpec().getContainers().stream()
                .map(Container::getName).collect(Collectors.toList()));
    }

    private static Map<String, String> annotations(HasMetadata object) {
        return Objects.requireNonNullElse(object.getMetadata().getAnnotations(), Map.of());
    }

    private RollableScalableResource<Deployment> resource() {
        return client.apps().deployments().inNamespace(spec.namespace()).withName(spec.deployment());
    }

    private <T> T call(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (KubernetesClientException e) {
            throw new TargetException(describe() + ": cannot " + what + ": " + summary(e), e);
        }
    }

    static String summary(KubernetesClientException e) {
        if (e.getStatus() != null && e.getStatus().getMessage() != null) {
            return e.getStatus().getMessage() + " (HTTP " + e.getCode() + ")";
        }
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return Objects.requireNonNullElse(root.getMessage(), root.getClass().getSimpleName());
    }
}
