package dev.dualdeploy.traffic.route53;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.net.AwsClients;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import dev.dualdeploy.traffic.TrafficRouter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.route53.Route53Client;
import software.amazon.awssdk.services.route53.Route53ClientBuilder;
import software.amazon.awssdk.services.route53.model.ChangeAction;
import software.amazon.awssdk.services.route53.model.ChangeInfo;
import software.amazon.awssdk.services.route53.model.ChangeStatus;
import software.amazon.awssdk.services.route53.model.ListResourceRecordSetsRequest;
import software.amazon.awssdk.services.route53.model.ListResourceRecordSetsResponse;
import software.amazon.awssdk.services.route53.model.PriorRequestNotCompleteException;
import software.amazon.awssdk.services.route53.model.ResourceRecordSet;

/**
 * Two Route53 weighted records of one name and type, told apart by their set identifiers, as a traffic router: Route53
 * answers each DNS query with one of them, chosen at random by weight. The weights are {@code legacy = 100 - p} and
 * {@code kubernetes = p} for a Kubernetes share of {@code p} percent, so 0% and 100% give the other side weight 0.
 *
 * <p>{@link #set} reads both records (ListResourceRecordSets from the name and type on, every page) and writes both in
 * one ChangeResourceRecordSets batch of two UPSERTs, which Route53 applies atomically: each carries the record exactly
 * as read (TTL, values or alias target, health check) with only the weight changed. It then polls GetChange until the
 * change is INSYNC (on every Route53 name server), with backoff from {@value #FIRST_POLL_MILLIS}ms doubling to
 * {@value #MAX_POLL_SECONDS}s, for at most {@link #INSYNC_TIMEOUT}. INSYNC is not where clients are: resolvers keep
 * the old answer for up to the record's TTL (an alias record: its target's, 60 seconds for an ELB), and a client that
 * holds a connection or caches addresses itself (the JVM's {@code networkaddress.cache.ttl}) follows later still.
 *
 * <p>The UPSERTs are last-writer-wins: a weight changed by hand between the read and the write is overwritten (the
 * other fields are not, unless they too were changed in that moment). A DELETE and CREATE pair would refuse such a
 * race, at the price of failing whenever anything else touched the records.
 *
 * <p>IAM: {@code route53:ListResourceRecordSets} and {@code route53:ChangeResourceRecordSets} on
 * {@code arn:aws:route53:::hostedzone/<zone id>} (the latter narrowed by the conditions
 * {@code route53:ChangeResourceRecordSetsNormalizedRecordNames}, {@code …RecordTypes} and {@code …Actions = UPSERT}),
 * and {@code route53:GetChange} on {@code arn:aws:route53:::change/*}.
 */
public final class Route53Router implements TrafficRouter {

    /**
     * The first wait before GetChange: short, so that a change that is INSYNC at once (as a quiet zone's often is)
     * costs a quarter of a second rather than a second; the doubling keeps a slow one at a few calls a minute.
     */
    static final long FIRST_POLL_MILLIS = 250;
    static final long MAX_POLL_SECONDS = 10;
    /**
     * How long {@link #set} waits for INSYNC. Route53 documents that a change generally reaches all its name servers
     * within 60 seconds; five minutes allows a slow day, and past it the caller is better told than held (a cutover
     * step that waits longer holds a pipeline with no one knowing why).
     */
    static final Duration INSYNC_TIMEOUT = Duration.ofMinutes(5);
    /**
     * How often {@link #set} tries a change that Route53 refuses with PriorRequestNotComplete (it is still processing
     * an earlier change to the zone). The SDK retries that code too, but within one call and a ~100 ms backoff that
     * such a change outlasts; here each try re-reads the records and waits 1 s, 2 s, 4 s between.
     */
    static final int PRIOR_REQUEST_TRIES = 4;
    /** The most ListResourceRecordSets pages read for one name and type (300 records each); Route53 allows 100 weighted. */
    static final int MAX_PAGES = 10;

    private final RouterSpec.Route53 spec;
    private final String zoneId;
    private final Route53Client client;
    private final Sleeper sleeper;
    private final Clock clock;

    /**
     * A router over the client, which it closes on {@link #close}.
     *
     * @param sleeper waits between GetChange polls and between tries after PriorRequestNotComplete
     * @param clock measures the wait for INSYNC against {@link #INSYNC_TIMEOUT}
     */
    public Route53Router(RouterSpec.Route53 spec, Route53Client client, Sleeper sleeper, Clock clock) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.zoneId = zoneId(spec.hostedZoneId());
        this.client = Objects.requireNonNull(client, "client");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * The router for production: a Route53 client with the default credential chain (AWS credentials never come from
     * the config), waiting and measuring in real time.
     *
     * @param environment the process environment; {@code AWS_REGION} picks the partition when the spec names no region
     */
    public static Route53Router open(RouterSpec.Route53 spec, Function<String, String> environment) {
        // The one place the real time is chosen for this router; tests use the constructor with their own.
        return open(spec, environment, Sleeper.SYSTEM, Clock.systemUTC());
    }

    /** {@link #open(RouterSpec.Route53, Function)} with the given time. */
    public static Route53Router open(RouterSpec.Route53 spec, Function<String, String> environment, Sleeper sleeper, Clock clock) {
        return new Route53Router(spec, connect(spec, region(spec, environment), Timeouts.current()), sleeper, clock);
    }

    /**
     * The client as {@code metrics/cloudwatch/CloudWatchProvider} and {@code targets/ecs/EcsTarget} build theirs: the
     * URL-connection HTTP client with the timeouts, bounded standard retries (which retry Throttling and
     * PriorRequestNotComplete), errors of one line, and the endpoint override when the spec has one.
     */
    static Route53Client connect(RouterSpec.Route53 spec, Region region, Timeouts timeouts) {
        Route53ClientBuilder builder = Route53Client.builder()
                .region(region)
                .credentialsProvider(AwsClients.credentials())
                .httpClientBuilder(AwsClients.http(timeouts))
                .overrideConfiguration(AwsClients.override(timeouts,
                        spec.endpoint().map(Object::toString).orElse("Route53 (" + region.id() + ")")));
        spec.endpoint().ifPresent(builder::endpointOverride);
        return builder.build();
    }

    /**
     * The region the client is built for. Route53 is global: the SDK's endpoint rules send every region of a partition
     * to that partition's one endpoint and sign for its home region ({@code route53.amazonaws.com} and us-east-1 for
     * any commercial region, {@code route53.us-gov.amazonaws.com} for GovCloud, {@code route53.amazonaws.com.cn} for
     * China). So the spec's region only picks the partition; with none, {@code AWS_REGION}, and with neither,
     * {@link Region#AWS_GLOBAL}, the commercial partition. With an endpoint override the region is only what the
     * request is signed for.
     */
    static Region region(RouterSpec.Route53 spec, Function<String, String> environment) {
        if (spec.region() != null && !spec.region().isBlank()) {
            return Region.of(spec.region().strip());
        }
        String fromEnvironment = environment.apply("AWS_REGION");
        return fromEnvironment != null && !fromEnvironment.isBlank() ? Region.of(fromEnvironment.strip()) : Region.AWS_GLOBAL;
    }

    @Override
    public String describe() {
        return "route53 " + Text.escape(spec.name()) + " " + Text.escape(spec.type()) + " in zone " + Text.escape(zoneId);
    }

    @Override
    public Split read() {
        Pair pair = pair(records());
        for (ResourceRecordSet other : pair.others()) {
            if (other.weight() > 0) {
                throw fail("a third weighted record, " + label(other) + ", has weight " + other.weight()
                        + ": it takes traffic that is neither side's");
            }
        }
        long legacy = pair.legacy().weight();
        long kubernetes = pair.kubernetes().weight();
        if (legacy + kubernetes == 0) {
            throw fail("both weights are 0, which is not a split (Route53 then answers with every record of the name alike)");
        }
        return new Split(kubernetes * 100.0 / (legacy + kubernetes), "weights legacy=" + legacy + " kubernetes=" + kubernetes
                + " (" + ttl(pair) + ")");
    }

    /**
     * Sets the weights to {@code legacy = 100 - p}, {@code kubernetes = p}, {@code p} the share rounded to a whole
     * percent, and returns once Route53 reports the change INSYNC. Weights that already are those change nothing (no
     * change batch is sent). A third weighted record is left as it is ({@link #read} reports it).
     *
     * @throws TrafficException if either record is missing or not weighted (nothing was changed), the change is
     *                          refused, or it is not INSYNC within {@link #INSYNC_TIMEOUT} (it may then still apply)
     */
    @Override
    public void set(Split split) {
        long kubernetes = Math.round(split.kubernetes());
        long legacy = 100 - kubernetes;
        for (int attempt = 1; ; attempt++) {
            Pair pair = pair(records());
            if (pair.legacy().weight() == legacy && pair.kubernetes().weight() == kubernetes) {
                return;
            }
            ChangeInfo change;
            try {
                change = client.changeResourceRecordSets(r -> r.hostedZoneId(zoneId).changeBatch(b -> b
                        .comment("dual-deploy: weights legacy=" + legacy + " kubernetes=" + kubernetes)
                        .changes(c -> c.action(ChangeAction.UPSERT).resourceRecordSet(pair.legacy().toBuilder().weight(legacy).build()),
                                c -> c.action(ChangeAction.UPSERT).resourceRecordSet(pair.kubernetes().toBuilder().weight(kubernetes).build()))))
                        .changeInfo();
            } catch (PriorRequestNotCompleteException e) {
                if (attempt >= PRIOR_REQUEST_TRIES) {
                    throw fail("cannot change the weights: Route53 was still processing a prior request to the zone after "
                            + attempt + " tries; nothing was changed");
                }
                sleeper.sleep(Duration.ofSeconds(1L << (attempt - 1)));
                if (Thread.currentThread().isInterrupted()) {
                    throw fail("interrupted before changing the weights; nothing was changed");
                }
                continue;
            } catch (SdkException e) {
                throw fail("cannot change the weights to legacy=" + legacy + " kubernetes=" + kubernetes, e);
            }
            awaitInSync(change);
            return;
        }
    }

    /** Polls GetChange until INSYNC, with backoff, for at most {@link #INSYNC_TIMEOUT}. */
    private void awaitInSync(ChangeInfo change) {
        String id = Text.foreign(change.id());
        Instant deadline = clock.instant().plus(INSYNC_TIMEOUT);
        Duration delay = Duration.ofMillis(FIRST_POLL_MILLIS);
        ChangeStatus status = change.status();
        while (status != ChangeStatus.INSYNC) {
            Duration left = Duration.between(clock.instant(), deadline);
            if (left.isZero() || left.isNegative()) {
                throw fail("change " + id + " is still " + status + " after " + Durations.format(INSYNC_TIMEOUT)
                        + "; Route53 may still apply it: read the split again before acting on it");
            }
            sleeper.sleep(delay.compareTo(left) < 0 ? delay : left);
            if (Thread.currentThread().isInterrupted()) {
                throw fail("interrupted while waiting for change " + id + " to be INSYNC; Route53 may still apply it");
            }
            delay = delay.multipliedBy(2).compareTo(Duration.ofSeconds(MAX_POLL_SECONDS)) < 0 ? delay.multipliedBy(2)
                    : Duration.ofSeconds(MAX_POLL_SECONDS);
            try {
                status = client.getChange(r -> r.id(change.id())).changeInfo().status();
            } catch (SdkException e) {
                throw fail("cannot read whether change " + id + " is INSYNC (Route53 may still apply it)", e);
            }
        }
    }

    /** The two sides' records and any other weighted record of the name and type. */
    private record Pair(ResourceRecordSet legacy, ResourceRecordSet kubernetes, List<ResourceRecordSet> others) {
    }

    private Pair pair(List<ResourceRecordSet> records) {
        if (records.isEmpty()) {
            throw fail("no record set of that name and type in the zone");
        }
        for (ResourceRecordSet record : records) {
            if (record.weight() == null) {
                throw fail("the record " + label(record) + " is not weighted (" + policy(record)
                        + " routing); the router needs two weighted records");
            }
        }
        ResourceRecordSet legacy = find(records, spec.legacySet(), "legacy");
        ResourceRecordSet kubernetes = find(records, spec.kubernetesSet(), "kubernetes");
        List<ResourceRecordSet> others = records.stream().filter(r -> r != legacy && r != kubernetes).toList();
        return new Pair(legacy, kubernetes, others);
    }

    private ResourceRecordSet find(List<ResourceRecordSet> records, String setIdentifier, String side) {
        return records.stream().filter(r -> setIdentifier.equals(r.setIdentifier())).findFirst()
                .orElseThrow(() -> fail("no weighted record with set identifier '" + Text.escape(setIdentifier) + "' (the "
                        + side + " side's); the set identifiers there are "
                        + records.stream().map(r -> "'" + Text.foreign(r.setIdentifier()) + "'").limit(10).toList()));
    }

    /** Every record of the spec's name and type: ListResourceRecordSets from them on, as many pages as they fill. */
    private List<ResourceRecordSet> records() {
        List<ResourceRecordSet> found = new ArrayList<>();
        ListResourceRecordSetsRequest request = ListResourceRecordSetsRequest.builder().hostedZoneId(zoneId)
                .startRecordName(spec.name()).startRecordType(spec.type().toUpperCase(Locale.ROOT)).build();
        for (int page = 1; ; page++) {
            ListResourceRecordSetsRequest asked = request;
            ListResourceRecordSetsResponse response = call("list the records", () -> client.listResourceRecordSets(asked));
            for (ResourceRecordSet record : response.resourceRecordSets()) {
                // Route53 lists by name, then type, then set identifier, from the start asked: the first record of
                // another name or type is past every record of ours.
                if (!ours(record.name(), record.typeAsString())) {
                    return found;
                }
                found.add(record);
            }
            if (!Boolean.TRUE.equals(response.isTruncated()) || !ours(response.nextRecordName(), response.nextRecordTypeAsString())) {
                return found;
            }
            if (page == MAX_PAGES) {
                throw fail("more than " + MAX_PAGES + " pages of records of that name and type");
            }
            request = request.toBuilder().startRecordName(response.nextRecordName()).startRecordType(response.nextRecordTypeAsString())
                    .startRecordIdentifier(response.nextRecordIdentifier()).build();
        }
    }

    private boolean ours(String name, String type) {
        return name != null && type != null && normal(name).equals(normal(spec.name())) && type.equalsIgnoreCase(spec.type());
    }

    /**
     * A name as it compares: Route53 returns names with a trailing dot, in lower case, and with every character other
     * than {@code a-z 0-9 - _ .} as a three-digit octal escape ({@code \052} for {@code *}); a config may write
     * {@code *.Example.com}.
     */
    static String normal(String name) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '\\' && i + 3 < name.length() && name.substring(i + 1, i + 4).matches("[0-3][0-7]{2}")) {
                bytes.write(Integer.parseInt(name.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        String plain = bytes.toString(StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
        return plain.endsWith(".") ? plain.substring(0, plain.length() - 1) : plain;
    }

    /** The hosted zone id as the API's path wants it: Route53 and its console also write it {@code /hostedzone/Z…}. */
    static String zoneId(String configured) {
        String id = Objects.requireNonNull(configured, "hostedZoneId").strip();
        return id.startsWith("/hostedzone/") ? id.substring("/hostedzone/".length()) : id;
    }

    private static String ttl(Pair pair) {
        Long legacy = pair.legacy().ttl();
        Long kubernetes = pair.kubernetes().ttl();
        if (legacy == null && kubernetes == null) {
            return "alias";
        }
        return Objects.equals(legacy, kubernetes) ? "ttl " + legacy
                : "ttl legacy=" + (legacy == null ? "alias" : legacy) + " kubernetes=" + (kubernetes == null ? "alias" : kubernetes);
    }

    private static String label(ResourceRecordSet record) {
        return record.setIdentifier() == null ? "without a set identifier" : "'" + Text.foreign(record.setIdentifier()) + "'";
    }

    /** The routing policy of a record that is not weighted, as Route53's console names it. */
    private static String policy(ResourceRecordSet record) {
        if (record.failover() != null) {
            return "failover";
        }
        if (record.region() != null) {
            return "latency";
        }
        if (record.geoLocation() != null) {
            return "geolocation";
        }
        if (record.geoProximityLocation() != null) {
            return "geoproximity";
        }
        if (record.cidrRoutingConfig() != null) {
            return "IP-based";
        }
        if (Boolean.TRUE.equals(record.multiValueAnswer())) {
            return "multivalue answer";
        }
        return record.trafficPolicyInstanceId() != null ? "traffic policy" : "simple";
    }

    private <T> T call(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (SdkException e) {
            throw fail("cannot " + what, e);
        }
    }

    private TrafficException fail(String what) {
        return new TrafficException(describe() + ": " + what);
    }

    /**
     * One line: the service's error code and message, each bounded and escaped (a message may echo what was sent), or
     * the client's one-line fault. A service error keeps no cause: its message and raw response carry the server's text
     * unbounded.
     */
    private TrafficException fail(String what, SdkException e) {
        if (e instanceof AwsServiceException service) {
            AwsErrorDetails details = service.awsErrorDetails();
            String code = details == null || details.errorCode() == null ? "HTTP " + service.statusCode() : details.errorCode();
            String message = details == null ? null : details.errorMessage();
            return fail(what + ": " + Text.foreign(code) + (message == null || message.isBlank() ? "" : ": " + Text.foreign(message)));
        }
        return new TrafficException(describe() + ": " + what + ": " + Text.foreign(Optional.ofNullable(e.getMessage()).orElse(
                e.getClass().getSimpleName())), e);
    }

    /** Closes the Route53 client; the records stay as they are. */
    @Override
    public void close() {
        client.close();
    }
}
