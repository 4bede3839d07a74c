package dev.dualdeploy.targets.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.net.Faults;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Preflight;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.text.Secrets;
import dev.dualdeploy.time.Sleeper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.RollableScalableResource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
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
 * otherwise only the existing Deployment's image is changed. When a HorizontalPodAutoscaler scales the Deployment,
 * the live replica count is first applied alone under the field manager {@value #REPLICAS_HANDOVER} and the
 * manifests' {@code replicas} is not applied, so the count stays the autoscaler's. The release, its digest, the stage's last good release and the good
 * one before it are recorded as annotations on the Deployment, so the cluster itself says what runs and what to
 * return to.
 */
public final class KubernetesTarget implements DeployTarget, Preflight {

    public static final String FIELD_MANAGER = "dualdeploy";
    /** The field manager that keeps a Deployment's replicas co-owned when a HorizontalPodAutoscaler scales it. */
    public static final String REPLICAS_HANDOVER = "dualdeploy-replicas-handover";
    public static final String VERSION = "dualdeploy.dev/version";
    public static final String DIGEST = "dualdeploy.dev/digest";
    public static final String LAST_GOOD_IMAGE = "dualdeploy.dev/last-good-image";
    public static final String LAST_GOOD_VERSION = "dualdeploy.dev/last-good-version";
    /** The sides on which the last good release passed when it was recorded, such as {@code legacy+kubernetes}. */
    public static final String LAST_GOOD_SIDES = "dualdeploy.dev/last-good-sides";
    public static final String PREVIOUS_GOOD_IMAGE = "dualdeploy.dev/previous-good-image";
    public static final String PREVIOUS_GOOD_VERSION = "dualdeploy.dev/previous-good-version";
    public static final String ROLLED_BACK_FROM = "dualdeploy.dev/rolled-back-from";
    public static final String CHANGE_CAUSE = "kubernetes.io/change-cause";
    /** How often a patch is re-read and re-applied after a write conflict before the deploy fails. */
    private static final int CONFLICT_ATTEMPTS = 10;
    private static final List<String> GOOD_RECORDS = List.of(LAST_GOOD_IMAGE, LAST_GOOD_VERSION, LAST_GOOD_SIDES, PREVIOUS_GOOD_IMAGE, PREVIOUS_GOOD_VERSION,
            ROLLED_BACK_FROM);
    /** The most one manifest file may hold: manifests are small, and a wrong path (a device, a dump) must fail fast. */
    private static final long MAX_MANIFEST_BYTES = 4L * 1024 * 1024;
    private static final ObjectMapper MANIFEST_YAML = new YAMLMapper();
    private static final String MANIFESTS_EXAMPLE = "manifests: deploy/k8s, a .yaml file or a directory of them, relative to"
            + " the config file";

    private final KubernetesClient client;
    private final KubernetesSpec spec;
    private final Progress progress;
    private final Sleeper sleeper;
    private final Clock clock;

    /**
     * @param sleeper pauses between attempts of a write that met a conflict
     * @param clock the time a rollout's timeout and patience are measured in (a stepped clock in tests)
     */
    public KubernetesTarget(KubernetesClient client, KubernetesSpec spec, Progress progress, Sleeper sleeper, Clock clock) {
        this.client = client;
        this.spec = spec;
        this.progress = progress;
        this.sleeper = sleeper;
        this.clock = clock;
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
        // What fabric8 resolved (a service account's token, a token file's content) besides what the files hold.
        Secrets.register(config.getOauthToken());
        Secrets.register(config.getPassword());
        Secrets.register(config.getClientKeyData());
        Config finished = config;
        return Kubeconfig.fabric8(() -> new KubernetesClientBuilder().withConfig(finished).build());
    }

    @Override
    public String describe() {
        return "kubernetes " + spec.namespace() + "/" + spec.deployment();
    }

    @Override
    public void preflight() {
        spec.manifests().ifPresent(this::loadManifests);
    }

    @Override
    public boolean creates() {
        return spec.manifests().isPresent();
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
        List<Pod> pods = replicaSet.map(this::pods).orElse(List.of());
        Set<String> running = runningDigests(pods);
        // The rollout's fail-fast rule: a killed run may have left pods crash-looping that no rollout saw.
        Optional<String> failing = KubernetesRollout.failure(pods);
        Optional<String> digest = running.size() == 1 ? running.stream().findFirst() : image.flatMap(ImageRef::findDigest);
        DeploymentStatus status = Optional.ofNullable(deployment.getStatus()).orElseGet(DeploymentStatus::new);
        int desired = Optional.ofNullable(deployment.getSpec().getReplicas()).orElse(1);
        int ready = Optional.ofNullable(status.getReadyReplicas()).orElse(0);
        TargetState.Health health = failing.isPresent() ? TargetState.Health.DEGRADED : health(deployment, desired, running.size());
        String detail = ready + "/" + desired + " ready" + (running.size() > 1 ? ", pods run " + running.size() + " digests" : "")
                + failing.or(() -> KubernetesRollout.deadlineExceeded(deployment)).map(f -> ", failing: " + f).orElse("");
        return new TargetState(image, digest, Optional.ofNullable(annotations.get(VERSION)),
                Optional.ofNullable(annotations.get(LAST_GOOD_IMAGE)), Optional.ofNullable(annotations.get(PREVIOUS_GOOD_IMAGE)),
                health, detail, TargetState.parseSidesRecord(annotations.get(LAST_GOOD_SIDES)),
                Optional.ofNullable(annotations.get(ROLLED_BACK_FROM)));
    }

    @Override
    public Rollout deploy(Release release) {
        Deployment before = call("read deployment", () -> resource().get());
        Optional<String> running = Optional.ofNullable(before).flatMap(this::container).map(Container::getImage);
        if (running.filter(release.image()::equals).isPresent()) {
            // Nothing is applied, so the manifests are not read: a rollback checks the health of a side that stays
            // this way, and manifests that no longer hold the Deployment must not fail it after the other side moved.
            progress.event("already runs " + release.version() + " (" + release.digest() + "); checking health only");
            return new KubernetesRollout(client, spec, release.image(), Optional.ofNullable(annotations(before).get(DIGEST)),
                    progress, clock);
        }
        // Manifests are read before anything is written: a malformed file must leave the deployment as it is.
        List<Manifest> manifests = spec.manifests().map(this::loadManifests).orElse(List.of());
        Map<String, String> existing = before == null ? Map.of() : annotations(before);
        Map<String, String> record = new HashMap<>();
        // rolled-back-from stays until a release is recorded good: a deploy alone does not make it good again.
        Set<String> remove = new LinkedHashSet<>();
        record.put(VERSION, release.version());
        record.put(DIGEST, release.digest());
        record.put(CHANGE_CAUSE, "dualdeploy: release " + release.version() + " (" + release.image() + ")");
        // The good-release records travel with every write, so that a server-side apply keeps them owned (a real API
        // server drops fields a manager stops applying).
        for (String key : GOOD_RECORDS) {
            Optional.ofNullable(existing.get(key)).ifPresent(value -> record.put(key, value));
        }
        if (!existing.containsKey(LAST_GOOD_IMAGE) && running.isPresent()) {
            // First change by dualdeploy: what ran before was serving traffic, so it is what a failure returns to.
            record.put(LAST_GOOD_IMAGE, running.get());
            putOrRemove(record, remove, LAST_GOOD_VERSION, existing.get(VERSION));
            putOrRemove(record, remove, LAST_GOOD_SIDES, null); // on which sides it passed is not known
            progress.event("no last good release is recorded: recording " + running.get() + ", which ran before this change, as last good");
        }
        if (spec.manifests().isPresent()) {
            applyManifests(manifests, release.image(), record);
        } else {
            if (before == null) {
                throw new TargetException("deployment " + spec.namespace() + "/" + spec.deployment()
                        + " does not exist and no manifests are configured to create it");
            }
            patch(Optional.of(release.image()), record, remove);
        }
        progress.event("set " + spec.container() + " to " + release.image() + running.map(p -> " (was " + p + ")").orElse(""));
        return new KubernetesRollout(client, spec, release.image(), Optional.of(release.digest()), progress, clock);
    }

    @Override
    public TargetState markGood(Release release, Set<Side> passedOn) {
        Deployment deployment = call("read deployment", () -> resource().get());
        Optional<String> running = Optional.ofNullable(deployment).flatMap(this::container).map(Container::getImage);
        if (!running.equals(Optional.of(release.image()))) {
            throw new TargetException(describe() + ": cannot record " + release.version() + " as the last good release: the"
                    + " deployment runs " + running.orElse("nothing"));
        }
        Map<String, String> annotations = annotations(deployment);
        String last = annotations.get(LAST_GOOD_IMAGE);
        String sides = TargetState.sidesRecord(passedOn);
        if (!release.image().equals(last) || !release.version().equals(annotations.get(LAST_GOOD_VERSION))
                || !sides.equals(annotations.getOrDefault(LAST_GOOD_SIDES, "")) || annotations.containsKey(ROLLED_BACK_FROM)) {
            Map<String, String> record = new HashMap<>();
            Set<String> remove = new LinkedHashSet<>();
            record.put(LAST_GOOD_IMAGE, release.image());
            record.put(LAST_GOOD_VERSION, release.version());
            putOrRemove(record, remove, LAST_GOOD_SIDES, sides.isEmpty() ? null : sides);
            remove.add(ROLLED_BACK_FROM);
            boolean shifted = last != null && !last.equals(release.image());
            if (shifted) {
                record.put(PREVIOUS_GOOD_IMAGE, last);
                putOrRemove(record, remove, PREVIOUS_GOOD_VERSION, annotations.get(LAST_GOOD_VERSION));
            }
            patch(Optional.empty(), record, remove);
            progress.event("recorded " + release.version() + " as the last good release" + (shifted ? " (the one before: " + last + ")" : ""));
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
        Deployment deployment = call("read deployment", () -> resource().get());
        if (deployment == null) {
            throw new TargetException("cannot roll back: deployment " + spec.namespace() + "/" + spec.deployment() + " not found");
        }
        Map<String, String> annotations = annotations(deployment);
        String current = container(deployment).map(Container::getImage).orElse("");
        String lastGood = annotations.get(LAST_GOOD_IMAGE);
        if (lastGood == null) {
            throw new TargetException("cannot roll back " + describe() + ": no last good release is recorded");
        }
        Map<String, String> record = new HashMap<>();
        Set<String> remove = new LinkedHashSet<>();
        String to;
        String toVersion;
        if (!lastGood.equals(current)) {
            // A failed or unmarked release runs: return to the last good one; the records stay as they are, so a second
            // rollback converges here instead of re-deploying what failed.
            to = lastGood;
            toVersion = annotations.get(LAST_GOOD_VERSION);
        } else {
            to = annotations.get(PREVIOUS_GOOD_IMAGE);
            if (to == null) {
                throw new TargetException("cannot roll back " + describe() + ": it runs its last good release " + lastGood
                        + " and no good release before it is recorded");
            }
            // Going one release back: the release left is no longer the last good one.
            toVersion = annotations.get(PREVIOUS_GOOD_VERSION);
            record.put(LAST_GOOD_IMAGE, to);
            putOrRemove(record, remove, LAST_GOOD_VERSION, toVersion);
            remove.add(LAST_GOOD_SIDES); // on which sides the release before passed was not kept
            remove.add(PREVIOUS_GOOD_IMAGE);
            remove.add(PREVIOUS_GOOD_VERSION);
        }
        record.put(ROLLED_BACK_FROM, current);
        record.put(CHANGE_CAUSE, "dualdeploy: rollback from " + current + " to " + to);
        putOrRemove(record, remove, VERSION, toVersion);
        putOrRemove(record, remove, DIGEST, ImageRef.findDigest(to).orElse(null));
        patch(Optional.of(to), record, remove);
        progress.event("rolling back " + spec.container() + " from " + current + " to " + to);
        return new KubernetesRollout(client, spec, to, ImageRef.findDigest(to), progress, clock);
    }

    private static void putOrRemove(Map<String, String> record, Set<String> remove, String key, String value) {
        if (value == null) {
            record.remove(key);
            remove.add(key);
        } else {
            record.put(key, value);
            remove.remove(key);
        }
    }

    /** Writes the annotations and, if given, the container's image in one change, retried on write conflicts. */
    private void patch(Optional<String> image, Map<String, String> record, Set<String> remove) {
        // The patch carries the resourceVersion it was made from, and the deployment controller writes status all
        // the time, so a conflict (409) is ordinary: read again and re-apply, as kubectl does, after a short
        // jittered pause that grows with each attempt, so a busy writer cannot win every race.
        for (int attempt = 1; ; attempt++) {
            try {
                resource().edit(d -> {
                    Container container = container(d).orElseThrow(() -> missingContainer(d));
                    image.ifPresent(container::setImage);
                    Map<String, String> annotations = new HashMap<>(annotations(d));
                    annotations.keySet().removeAll(remove);
                    annotations.putAll(record);
                    d.getMetadata().setAnnotations(annotations);
                    return d;
                });
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == CONFLICT_ATTEMPTS) {
                    throw new TargetException(describe() + ": cannot patch deployment: " + summary(client, e)
                            + (e.getCode() == 409 ? " (after " + attempt + " attempts)" : ""), e);
                }
                sleeper.sleep(Duration.ofMillis(20L * attempt + ThreadLocalRandom.current().nextLong(20)));
            }
        }
    }

    private void applyManifests(List<Manifest> manifests, String image, Map<String, String> record) {
        Optional<String> autoscaler = autoscaler();
        for (Manifest manifest : manifests) {
            if (manifest.item() instanceof Deployment d && spec.deployment().equals(d.getMetadata().getName())) {
                Container container = container(d).orElseThrow(() -> manifest.problem("Deployment " + spec.deployment()
                        + " has no container named '" + spec.container() + "'", "containers: [{name: " + spec.container() + ", image: placeholder}]"));
                container.setImage(image);
                Map<String, String> annotations = new HashMap<>(annotations(d));
                annotations.putAll(record);
                d.getMetadata().setAnnotations(annotations);
                if (autoscaler.isPresent()) {
                    // Applying replicas would reset the count the autoscaler chose at every release (a capacity drop
                    // at peak), so the applied object leaves the field out. But if this field manager was the field's
                    // only owner (it applied replicas before the autoscaler existed, and the autoscaler never changed
                    // the count), an apply without the field removes it and the Deployment falls to 1 replica. So
                    // first, as Kubernetes documents for handing replicas to an autoscaler, a second field manager
                    // applies the live count alone: the field stays co-owned and the omission below leaves it.
                    Integer manifestReplicas = d.getSpec() == null ? null : d.getSpec().getReplicas();
                    Optional<Integer> kept = handOverReplicas();
                    progress.event("HorizontalPodAutoscaler " + autoscaler.get() + " scales " + spec.deployment() + ": leaving replicas to it ("
                            + kept.map(n -> "kept at " + n + " under field manager " + REPLICAS_HANDOVER).orElse("the deployment has no replicas yet")
                            + (manifestReplicas == null ? "" : "; not applying replicas: " + manifestReplicas + " from " + manifest.file()) + ")");
                    if (d.getSpec() != null) {
                        d.getSpec().setReplicas(null);
                    }
                }
            }
        }
        for (Manifest manifest : manifests) {
            HasMetadata item = manifest.item();
            String what = item.getKind() + "/" + item.getMetadata().getName();
            call("apply " + what, () -> client.resource(item).inNamespace(spec.namespace())
                    .fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply());
            progress.event("applied " + what);
        }
    }

    /**
     * Server-side applies only the Deployment's live {@code spec.replicas} with the field manager
     * {@value #REPLICAS_HANDOVER}, so that manager co-owns the field; idempotent. Returns the count, or empty when the
     * Deployment does not exist or has no replicas.
     */
    private Optional<Integer> handOverReplicas() {
        for (int attempt = 1; ; attempt++) {
            Deployment live = call("read deployment", () -> resource().get());
            if (live == null || live.getSpec() == null || live.getSpec().getReplicas() == null) {
                return Optional.empty();
            }
            int replicas = live.getSpec().getReplicas();
            Deployment replicasOnly = new DeploymentBuilder().withApiVersion("apps/v1").withKind("Deployment")
                    .withNewMetadata().withName(spec.deployment()).withNamespace(spec.namespace()).endMetadata()
                    .withNewSpec().withReplicas(replicas).endSpec().build();
            try {
                // Without force: if the autoscaler changed the count since the read, the apply conflicts instead of
                // writing back a stale count; read again.
                client.apps().deployments().inNamespace(spec.namespace()).resource(replicasOnly)
                        .fieldManager(REPLICAS_HANDOVER).serverSideApply();
                return Optional.of(replicas);
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == CONFLICT_ATTEMPTS) {
                    throw new TargetException(describe() + ": cannot hand replicas to the autoscaler: " + summary(client, e)
                            + (e.getCode() == 409 ? " (after " + attempt + " attempts)" : ""), e);
                }
            }
        }
    }

    /** The name of a HorizontalPodAutoscaler in the namespace that scales this Deployment, or empty. */
    private Optional<String> autoscaler() {
        try {
            return client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(spec.namespace()).list().getItems().stream()
                    .filter(h -> h.getSpec() != null && h.getSpec().getScaleTargetRef() != null)
                    .filter(h -> "Deployment".equals(h.getSpec().getScaleTargetRef().getKind())
                            && spec.deployment().equals(h.getSpec().getScaleTargetRef().getName()))
                    .map(h -> h.getMetadata().getName()).findFirst();
        } catch (KubernetesClientException e) {
            // Without permission to list autoscalers the deploy still works as before; say so instead of failing.
            progress.event("cannot list HorizontalPodAutoscalers (" + summary(client, e) + "); applying replicas as the manifests say");
            return Optional.empty();
        }
    }

    /**
     * One Kubernetes object read from a manifest file.
     *
     * @param file the file it came from
     * @param document its YAML document number in the file, from 1
     * @param item the object
     */
    private record Manifest(Path file, int document, HasMetadata item) {
        ConfigException problem(String problem, String example) {
            return new ConfigException(new ConfigProblem(file.toString(), "document " + document, problem, example));
        }
    }

    /**
     * Reads every YAML document of the manifests. The files are bad input, not a platform fault, so what is wrong is
     * a {@link ConfigException} naming the file and the document (or line), and never quoting the file: a manifest
     * may hold a Secret.
     */
    private List<Manifest> loadManifests(Path location) {
        List<Manifest> manifests = new ArrayList<>();
        for (Path file : manifestFiles(location)) {
            manifests.addAll(parse(file));
        }
        boolean found = manifests.stream().anyMatch(m -> m.item() instanceof Deployment d
                && spec.deployment().equals(d.getMetadata().getName()));
        if (!found) {
            throw new ConfigException(new ConfigProblem(location.toString(), "", "the manifests hold no Deployment named "
                    + spec.deployment(), "apiVersion: apps/v1, kind: Deployment, metadata: {name: " + spec.deployment() + "}"));
        }
        return manifests;
    }

    private List<Manifest> parse(Path file) {
        String name = file.toString();
        String text;
        try {
            if (Files.size(file) > MAX_MANIFEST_BYTES) {
                throw new ConfigException(new ConfigProblem(name, "", "is larger than " + MAX_MANIFEST_BYTES / (1024 * 1024)
                        + " MiB, the most a manifest file may hold", ""));
            }
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(new ConfigProblem(name, "", "is not UTF-8 text, so not a YAML manifest", ""));
        } catch (IOException e) {
            throw new TargetException("cannot read manifest " + name + ": " + e.getClass().getSimpleName(), e);
        }
        List<JsonNode> documents;
        try (MappingIterator<JsonNode> values = MANIFEST_YAML.readerFor(JsonNode.class).readValues(text)) {
            documents = values.readAll();
        } catch (IOException e) {
            // The parser's message can quote the file; only the line is reported.
            String line = e instanceof JsonProcessingException p && p.getLocation() != null && p.getLocation().getLineNr() > 0
                    ? "line " + p.getLocation().getLineNr() : "";
            throw new ConfigException(new ConfigProblem(name, line, "is not valid YAML", ""));
        }
        List<Manifest> manifests = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            JsonNode document = documents.get(i);
            if (document == null || document.isNull() || document.isMissingNode()) {
                continue; // an empty document, as between two "---", is skipped as kubectl does
            }
            Manifest where = new Manifest(file, i + 1, null);
            if (!document.isObject() || !document.path("apiVersion").isTextual() || !document.path("kind").isTextual()
                    || !document.path("metadata").path("name").isTextual()) {
                throw where.problem("is not a Kubernetes object: it needs apiVersion, kind and metadata.name",
                        "apiVersion: apps/v1, kind: Deployment, metadata: {name: " + spec.deployment() + "}");
            }
            Object item;
            try {
                item = client.getKubernetesSerialization().unmarshal(document.toString());
            } catch (RuntimeException e) {
                throw where.problem("is not a valid " + document.get("kind").asText() + " (a field has the wrong type)", "");
            }
            if (!(item instanceof HasMetadata object)) {
                throw where.problem("is not a Kubernetes object", "");
            }
            manifests.add(new Manifest(file, i + 1, object));
        }
        return manifests;
    }

    private static List<Path> manifestFiles(Path location) {
        if (Files.isRegularFile(location)) {
            return List.of(location);
        }
        if (!Files.isDirectory(location)) {
            // A path the config names that is not there is bad input, like a malformed file: exit 2 before any change.
            throw new ConfigException(new ConfigProblem(location.toString(), "", Files.exists(location)
                    ? "the manifests path is neither a file nor a directory" : "the manifests path does not exist", MANIFESTS_EXAMPLE));
        }
        try (Stream<Path> files = Files.list(location)) {
            List<Path> yaml = files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .sorted().collect(Collectors.toList());
            if (yaml.isEmpty()) {
                throw new ConfigException(new ConfigProblem(location.toString(), "", "the manifests directory holds no .yaml"
                        + " or .yml files", MANIFESTS_EXAMPLE));
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
            throw new TargetException(describe() + ": cannot " + what + ": " + summary(client, e), e);
        }
    }

    /**
     * One line for a failed call: a network fault in words with the API server's URL ({@code no answer from … within
     * 10s}, {@code connection refused by …}), else the API server's own message, else the root cause's.
     */
    static String summary(KubernetesClient client, KubernetesClientException e) {
        if (Faults.network(e)) {
            String where = String.valueOf(client.getMasterUrl());
            return Faults.describe(e, where.endsWith("/") ? where.substring(0, where.length() - 1) : where, Timeouts.current().read());
        }
        return apiMessage(e);
    }

    private static String apiMessage(KubernetesClientException e) {
        if (e.getStatus() != null && e.getStatus().getMessage() != null) {
            return e.getStatus().getMessage() + " (HTTP " + e.getCode() + ")";
        }
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        if (root.getMessage() == null) {
            // A bare class name ("ClosedChannelException", when the API server goes away mid-watch) is no reason a
            // person can act on (issue 8 item 16): say what happened to the connection instead.
            return Faults.describe(e, "the Kubernetes API server", Timeouts.current().read());
        }
        return root.getMessage();
    }
}
