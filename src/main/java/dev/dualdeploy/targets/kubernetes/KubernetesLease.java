package dev.dualdeploy.targets.kubernetes;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.journal.LeaseHeldException;
import dev.dualdeploy.journal.StageLease;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.text.Text;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A stage lease as a {@code coordination.k8s.io/v1} Lease in the stage's namespace, the object Kubernetes' own leader
 * election uses: {@code holderIdentity}, {@code acquireTime}, {@code renewTime}, {@code leaseDurationSeconds} and
 * {@code leaseTransitions}. Every write is a compare-and-set on the {@code resourceVersion} read just before (a create
 * fails if the object exists), so of two runs that read a free lease at once exactly one gets it.
 *
 * <p>A Lease is an ordinary object anyone with write access to the namespace can edit, so it is read as untyped JSON
 * and every field is treated as untrusted: a missing or non-numeric duration counts as this lease's own, one outside
 * {@link KubernetesSpec#MIN_LEASE_DURATION}..{@link KubernetesSpec#MAX_LEASE_DURATION} (15s..10m, the range a config may
 * set) as the nearest end of it, a holder with no readable time as expired, and the holder is escaped and capped before
 * it is printed ({@link LeaseHeldException}).
 *
 * <p>Another holder's lease expires as Kubernetes' own leader election judges it: once this run has seen it unchanged
 * (the same resourceVersion and spec) for its duration, measured on this run's injected clock from the moment it first
 * read that version. Times written by the holder ({@code renewTime}) are never compared with this run's clock: a holder
 * whose clock is behind would otherwise look dead while it renews, and one whose clock is ahead would block the stage
 * for as long as it is ahead. The price: a run that has not watched the lease for a whole duration (one with no
 * {@code --wait-lock}) never takes over a lease another holder left behind; it waits for it with {@code --wait-lock}.
 */
public final class KubernetesLease implements StageLease {

    /** The longest lease name: a DNS-1123 label, so that it reads whole in {@code kubectl get leases}. */
    public static final int MAX_NAME = 63;
    /** The longest holder identity written. */
    public static final int MAX_HOLDER = 256;

    static final ResourceDefinitionContext LEASES = new ResourceDefinitionContext.Builder().withGroup("coordination.k8s.io")
            .withVersion("v1").withPlural("leases").withKind("Lease").withNamespaced(true).build();
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    // MicroTime as the API server writes it.
    private static final DateTimeFormatter MICRO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);
    /** How often a write that lost a compare-and-set race is retried on a fresh read before the lease counts as held. */
    private static final int ATTEMPTS = 3;

    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final String holder;
    private final Duration duration;
    private final Clock clock;
    // What this run last saw of the lease (a digest of its resourceVersion and spec), and when, by its own clock.
    private String observed;
    private Instant observedAt;

    /**
     * @param holder this run's identity in the lease (the run id, plus {@code BUILD_TAG} when set); at most
     *               {@value #MAX_HOLDER} characters
     * @param duration how long the lease lives without renewal, in whole seconds
     */
    public KubernetesLease(KubernetesClient client, String namespace, String name, String holder, Duration duration, Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        if (!DNS_LABEL.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + Text.line(name, 80) + "' is not a lease name: expected a DNS-1123 label");
        }
        this.name = name;
        if (holder.isBlank() || holder.length() > MAX_HOLDER || !Text.escape(holder).equals(holder)) {
            throw new IllegalArgumentException("'" + Text.line(holder, 80) + "' is not a holder identity: expected one line of at most "
                    + MAX_HOLDER + " printable characters");
        }
        this.holder = holder;
        if (duration.toSeconds() < 1) {
            throw new IllegalArgumentException("a lease lives at least 1s, not " + duration);
        }
        this.duration = Duration.ofSeconds(duration.toSeconds());
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * The lease name of a service's stage: {@code dualdeploy-<service>-<stage>}, lower-cased with every character a
     * DNS label cannot hold replaced by {@code -}; when that is too long for a label ({@value #MAX_NAME}) or had to be
     * changed, it is cut and ends with 10 hex digits of the SHA-256 of {@code <service>/<stage>}, so that two stages never
     * share a lease because their names were shortened or rewritten alike.
     */
    public static String name(String service, String stage) {
        String plain = "dualdeploy-" + service + "-" + stage;
        if (DNS_LABEL.matcher(plain).matches()) {
            return plain;
        }
        String cleaned = plain.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        String hash = HexFormat.of().formatHex(sha256(service + "/" + stage)).substring(0, 10);
        String head = cleaned.substring(0, Math.min(cleaned.length(), MAX_NAME - hash.length() - 1)).replaceAll("-+$", "");
        return head + "-" + hash;
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * {@inheritDoc} Another holder's lease is taken over only once this instance has seen it unchanged for its duration
     * (clamped to 15s..10m): the first call that finds a lease held refuses, however old its {@code renewTime} looks.
     */
    @Override
    public synchronized Holding take() {
        for (int attempt = 1; ; attempt++) {
            GenericKubernetesResource current = read();
            Instant now = clock.instant();
            observe(current, now);
            try {
                if (current == null) {
                    write(null, spec(now, now, 0));
                    return new Holding(name, holder, now, duration);
                }
                Fields fields = Fields.of(current, duration);
                if (holder.equals(fields.holder)) {
                    Instant since = fields.acquired.orElse(now);
                    write(current, spec(since, now, fields.transitions));
                    return new Holding(name, holder, since, duration);
                }
                if (fields.holder != null && !fields.holder.isEmpty() && !expired(fields, now)) {
                    throw new LeaseHeldException(name, Optional.of(fields.holder), fields.acquired.or(() -> fields.renewed),
                            "this run has seen it unchanged since " + observedAt + " and would take it over once it stays unchanged for "
                                    + Durations.format(fields.duration));
                }
                write(current, spec(now, now, fields.transitions + 1));
                return new Holding(name, holder, now, duration);
            } catch (Conflict conflict) {
                if (attempt >= ATTEMPTS) {
                    // Another writer kept winning: report whoever holds it now.
                    Fields fields = Fields.of(read(), duration);
                    throw new LeaseHeldException(name, Optional.ofNullable(fields.holder).filter(h -> !h.isEmpty()),
                            fields.acquired.or(() -> fields.renewed));
                }
            }
        }
    }

    /** Notes when this run first saw the lease as it is now (by resourceVersion and spec); a lease that changed starts anew. */
    private void observe(GenericKubernetesResource current, Instant now) {
        String seen = current == null ? "" : HexFormat.of().formatHex(sha256(String.valueOf(
                current.getMetadata() == null ? null : current.getMetadata().getResourceVersion()) + "\n"
                + current.getAdditionalProperties().get("spec")));
        if (!seen.equals(observed)) {
            observed = seen;
            observedAt = now;
        }
    }

    /**
     * Whether another holder's lease may be taken over: it names no readable time (no run of this tool wrote it), or this
     * run has seen it unchanged for longer than its duration.
     */
    private boolean expired(Fields fields, Instant now) {
        return fields.renewed.or(() -> fields.acquired).isEmpty() || observedAt.plus(fields.duration).isBefore(now);
    }

    @Override
    public void renew() {
        GenericKubernetesResource current = read();
        Fields fields = Fields.of(current, duration);
        if (current == null || !holder.equals(fields.holder)) {
            throw new LeaseHeldException(name, Optional.ofNullable(fields.holder).filter(h -> !h.isEmpty()),
                    fields.acquired.or(() -> fields.renewed));
        }
        try {
            write(current, spec(fields.acquired.orElse(clock.instant()), clock.instant(), fields.transitions));
        } catch (Conflict conflict) {
            // Written in between: ours still if the holder is (someone edited another field), lost otherwise.
            GenericKubernetesResource again = read();
            Fields now = Fields.of(again, duration);
            if (again == null || !holder.equals(now.holder)) {
                throw new LeaseHeldException(name, Optional.ofNullable(now.holder).filter(h -> !h.isEmpty()),
                        now.acquired.or(() -> now.renewed));
            }
            try {
                write(again, spec(now.acquired.orElse(clock.instant()), clock.instant(), now.transitions));
            } catch (Conflict twice) {
                throw new TargetException("cannot renew lease " + where() + ": it changed twice while being renewed");
            }
        }
    }

    /** Clears the holder (a compare-and-set); the object stays, as Kubernetes' own leases do, with its transition count. */
    @Override
    public Released release() {
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            GenericKubernetesResource current = read();
            Fields fields = Fields.of(current, duration);
            if (current == null || !holder.equals(fields.holder)) {
                return new Released(false, Optional.ofNullable(fields.holder).filter(h -> !h.isEmpty()).map(LeaseHeldException::printable));
            }
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("leaseDurationSeconds", duration.toSeconds());
            spec.put("leaseTransitions", fields.transitions);
            try {
                write(current, spec);
                return new Released(true, Optional.empty());
            } catch (Conflict conflict) {
                // read again: it may be ours still
            }
        }
        throw new TargetException("cannot release lease " + where() + ": it kept changing while being released");
    }

    private Map<String, Object> spec(Instant acquired, Instant renewed, long transitions) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("holderIdentity", holder);
        spec.put("leaseDurationSeconds", duration.toSeconds());
        spec.put("acquireTime", MICRO_TIME.format(acquired));
        spec.put("renewTime", MICRO_TIME.format(renewed));
        spec.put("leaseTransitions", transitions);
        return spec;
    }

    private GenericKubernetesResource read() {
        return call("read", () -> client.genericKubernetesResources(LEASES).inNamespace(namespace).withName(name).get());
    }

    /** Creates the lease ({@code current} null) or replaces it at the resourceVersion read; {@link Conflict} if it changed. */
    private void write(GenericKubernetesResource current, Map<String, Object> spec) {
        GenericKubernetesResource lease = new GenericKubernetesResource();
        lease.setApiVersion("coordination.k8s.io/v1");
        lease.setKind("Lease");
        ObjectMeta meta = current == null || current.getMetadata() == null ? new ObjectMetaBuilder().build()
                : new ObjectMetaBuilder(current.getMetadata()).build();
        meta.setName(name);
        meta.setNamespace(namespace);
        if (current == null) {
            meta.setResourceVersion(null);
        } else if (meta.getResourceVersion() == null) {
            throw new TargetException("cannot write lease " + where() + ": the API server gave it no resourceVersion to compare");
        }
        lease.setMetadata(meta);
        lease.setAdditionalProperty("spec", spec);
        try {
            if (current == null) {
                client.genericKubernetesResources(LEASES).inNamespace(namespace).resource(lease).create();
            } else {
                client.genericKubernetesResources(LEASES).inNamespace(namespace).resource(lease).update();
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                throw new Conflict();
            }
            throw new TargetException("cannot write lease " + where() + ": " + KubernetesTarget.summary(client, e), e);
        }
    }

    private <T> T call(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (KubernetesClientException e) {
            throw new TargetException("cannot " + what + " lease " + where() + ": " + KubernetesTarget.summary(client, e), e);
        }
    }

    private String where() {
        return namespace + "/" + name;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** A compare-and-set lost: the object changed (or appeared) since it was read. */
    private static final class Conflict extends RuntimeException {
        Conflict() {
            super(null, null, false, false);
        }
    }

    /** The fields of a Lease as read, every one of them untrusted. */
    private record Fields(String holder, Optional<Instant> acquired, Optional<Instant> renewed, Duration duration, long transitions) {

        static Fields of(GenericKubernetesResource lease, Duration fallback) {
            Object spec = lease == null ? null : lease.getAdditionalProperties().get("spec");
            if (!(spec instanceof Map<?, ?> map)) {
                return new Fields(null, Optional.empty(), Optional.empty(), fallback, 0);
            }
            Object holder = map.get("holderIdentity");
            return new Fields(holder instanceof String text ? text : holder == null ? null : String.valueOf(holder),
                    instant(map.get("acquireTime")), instant(map.get("renewTime")), seconds(map.get("leaseDurationSeconds"), fallback),
                    count(map.get("leaseTransitions")));
        }

        private static Optional<Instant> instant(Object value) {
            if (!(value instanceof String text) || text.length() > 64) {
                return Optional.empty();
            }
            try {
                return Optional.of(Instant.parse(text));
            } catch (DateTimeException e) {
                return Optional.empty();
            }
        }

        /**
         * The holder's duration, within the range a config may set: a longer one (up to the API's limit of years) would
         * block the stage for that long after its holder died, a shorter one would let a holder that renews every few
         * seconds, as some leader elections do, look dead between two reads. Not a positive number: this lease's own.
         */
        private static Duration seconds(Object value, Duration fallback) {
            if (!(value instanceof Number n) || n.longValue() <= 0) {
                return fallback;
            }
            long seconds = Math.max(KubernetesSpec.MIN_LEASE_DURATION.toSeconds(), Math.min(KubernetesSpec.MAX_LEASE_DURATION.toSeconds(),
                    n.longValue()));
            return Duration.ofSeconds(seconds);
        }

        private static long count(Object value) {
            return value instanceof Number n && n.longValue() >= 0 && n.longValue() < Integer.MAX_VALUE ? n.longValue() : 0;
        }
    }
}
