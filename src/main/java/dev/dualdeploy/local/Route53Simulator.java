package dev.dualdeploy.local;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * A Route53 API on loopback that speaks the REST-XML protocol AWS SDK v2 2.40.2 uses for Route53 (namespace
 * {@value #NAMESPACE}), so the real SDK client drives it: {@code GET /2013-04-01/hostedzone/{Id}/rrset} with the
 * {@code name}, {@code type}, {@code identifier} and {@code maxitems} query parameters (ListResourceRecordSets, paged
 * by {@code IsTruncated} and {@code NextRecordName}/{@code NextRecordType}/{@code NextRecordIdentifier}),
 * {@code POST /2013-04-01/hostedzone/{Id}/rrset/} (ChangeResourceRecordSets) and {@code GET /2013-04-01/change/{Id}}
 * (GetChange); errors are {@code ErrorResponse} documents with Route53's codes (NoSuchHostedZone, NoSuchChange,
 * InvalidChangeBatch, InvalidInput, Throttling, PriorRequestNotComplete).
 *
 * <p>Hosted zones are seeded by {@link #addHostedZone} (with the apex SOA and NS records Route53 creates) and
 * {@link #put}. Names are kept as Route53 returns them: lower case, with a trailing dot, and every character other than
 * {@code a-z 0-9 - _ .} as an octal escape ({@code *} is {@code \052}); a name in a request may be given either way.
 * Records are listed in Route53's order: by name with its labels reversed, then type, then set identifier. A change
 * batch is checked as a whole and applies entirely or not at all: a CREATE of a record that exists, a DELETE of one
 * that does not (or whose values differ), a name outside the zone, a weighted and a non-weighted record of one name and
 * type, or a CNAME beside another type is InvalidChangeBatch, with every problem listed as Route53 does; a weight
 * outside 0..255, a set identifier without a weight, TTL and values beside an alias target, or values without a TTL is
 * InvalidInput. A change is PENDING for the first {@link #pendingPolls} GetChange calls (default 1) and INSYNC after.
 *
 * <p>Not modelled: request signatures (any credentials work); IAM; DNS answers (nothing serves the zone); health
 * checks (a {@code HealthCheckId} is stored and returned, never evaluated); routing policies other than weighted and
 * simple (latency, failover, geolocation, geoproximity, IP-based and multivalue records are refused as InvalidInput);
 * traffic policies; other operations (hosted zone management, DNSSEC, tags, TestDNSAnswer); record data (values are
 * stored as given: an {@code A} record may hold any text); alias targets are not resolved or checked; the limits on
 * records per zone and values per record; the 32,000-character request limit (the simulator takes up to 1 MiB);
 * propagation time (only the PENDING count).
 */
public final class Route53Simulator implements AutoCloseable {

    /** The XML namespace of every Route53 request and answer. */
    public static final String NAMESPACE = "https://route53.amazonaws.com/doc/2013-04-01/";
    /** The most records one ListResourceRecordSets page holds, and the page size when none is asked. */
    public static final int MAX_ITEMS = 300;

    private static final String VERSION = "/2013-04-01/";
    private static final int MAX_BODY = 1 << 20;
    private static final int MAX_CHANGES = 1000;
    private static final long MAX_WEIGHT = 255;
    private static final Set<String> TYPES = Set.of("A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR",
            "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT");
    /** What a ResourceRecordSet may hold in Route53 that the simulator refuses rather than silently drops. */
    private static final Set<String> UNMODELLED = Set.of("Region", "GeoLocation", "Failover", "MultiValueAnswer",
            "TrafficPolicyInstanceId", "CidrRoutingConfig", "GeoProximityLocation");

    /**
     * The target of an alias record.
     *
     * @param hostedZoneId the hosted zone of the target (an ELB's canonical zone, or a zone of one's own)
     * @param dnsName the target's name
     * @param evaluateTargetHealth whether Route53 answers with this record only while its target is healthy
     */
    public record Alias(String hostedZoneId, String dnsName, boolean evaluateTargetHealth) {
    }

    /**
     * One resource record set as Route53 holds it (the fields the simulator models).
     *
     * @param name the name, stored as Route53 returns it ({@code api.example.com.})
     * @param type the record type, such as {@code CNAME}
     * @param setIdentifier what tells records of one name and type apart; null for a simple record
     * @param weight the weight from 0 to 255; null for a simple record
     * @param ttl the TTL in seconds; null for an alias record
     * @param values the record's values; empty for an alias record
     * @param alias the alias target; null for a record with values
     * @param healthCheckId the health check the record is tied to; null for none
     */
    public record RecordSet(String name, String type, String setIdentifier, Long weight, Long ttl, List<String> values,
                            Alias alias, String healthCheckId) {

        public RecordSet {
            values = values == null ? List.of() : List.copyOf(values);
        }

        /** A weighted record with values. */
        public static RecordSet weighted(String name, String type, String setIdentifier, long weight, long ttl, String... values) {
            return new RecordSet(name, type, setIdentifier, weight, ttl, List.of(values), null, null);
        }

        /** A weighted alias record (no TTL: the alias target's applies). */
        public static RecordSet weightedAlias(String name, String type, String setIdentifier, long weight, Alias alias) {
            return new RecordSet(name, type, setIdentifier, weight, null, List.of(), alias, null);
        }

        /** A simple record: no set identifier, no weight. */
        public static RecordSet simple(String name, String type, long ttl, String... values) {
            return new RecordSet(name, type, null, null, ttl, List.of(values), null, null);
        }

        /** This record tied to a health check. */
        public RecordSet withHealthCheck(String id) {
            return new RecordSet(name, type, setIdentifier, weight, ttl, values, alias, id);
        }

        /** This record with another weight. */
        public RecordSet withWeight(long newWeight) {
            return new RecordSet(name, type, setIdentifier, newWeight, ttl, values, alias, healthCheckId);
        }

        String label() {
            return "[name='" + name + "', type='" + type + "'" + (setIdentifier == null ? "" : ", set-identifier='" + setIdentifier + "'") + "]";
        }
    }

    /**
     * One change of an accepted batch, as the simulator parsed it.
     *
     * @param action CREATE, DELETE or UPSERT
     * @param recordSet the record the change carried (its name as Route53 stores it)
     */
    public record Change(String action, RecordSet recordSet) {
    }

    /** A record's place in Route53's listing order: name with labels reversed, type, set identifier. */
    private record Key(String order, String type, String setIdentifier) implements Comparable<Key> {
        @Override
        public int compareTo(Key other) {
            int byName = order.compareTo(other.order);
            int byType = byName != 0 ? byName : type.compareTo(other.type);
            return byType != 0 ? byType : setIdentifier.compareTo(other.setIdentifier);
        }

        static Key of(RecordSet record) {
            return new Key(Route53Simulator.order(record.name()), record.type(), record.setIdentifier() == null ? "" : record.setIdentifier());
        }
    }

    private static final class Zone {
        private final String name;
        private TreeMap<Key, RecordSet> records = new TreeMap<>();

        Zone(String name) {
            this.name = name;
        }
    }

    private static final class Submitted {
        private final Instant at;
        private final String comment;
        private int polls;

        Submitted(Instant at, String comment) {
            this.at = at;
            this.comment = comment;
        }
    }

    private final HttpServer server;
    private final Map<String, Zone> zones = new HashMap<>();
    private final Map<String, Submitted> changes = new HashMap<>();
    private final List<List<Change>> batches = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> counts = new LinkedHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger throttle = new AtomicInteger();
    private final AtomicInteger priorRequest = new AtomicInteger();
    private final AtomicInteger changeIds = new AtomicInteger();
    private volatile int pendingPolls = 1;
    private volatile BiConsumer<String, List<Change>> onChanged = (zone, batch) -> { };
    private volatile int pageSize = MAX_ITEMS;

    private Route53Simulator() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "route53-sim");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** Starts the simulator on a free loopback port, with no hosted zones. */
    public static Route53Simulator start() {
        try {
            return new Route53Simulator();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the Route53 simulator: " + e.getMessage(), e);
        }
    }

    /** The endpoint to give the SDK client as its endpoint override. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Forgets every hosted zone, change, request count and recorded batch, and sets the faults and settings back. */
    public synchronized void reset() {
        zones.clear();
        changes.clear();
        batches.clear();
        synchronized (counts) {
            counts.clear();
        }
        requests.set(0);
        throttle.set(0);
        priorRequest.set(0);
        pendingPolls = 1;
        pageSize = MAX_ITEMS;
    }

    /** Creates a hosted zone with its apex SOA and NS records, as Route53 does; an existing zone of that id is replaced. */
    public synchronized void addHostedZone(String id, String name) {
        Zone zone = new Zone(canonical(name));
        zones.put(id, zone);
        String apex = zone.name;
        store(zone, new RecordSet(apex, "NS", null, null, 172_800L, List.of("ns-1.awsdns-00.com.", "ns-2.awsdns-00.net."), null, null));
        store(zone, new RecordSet(apex, "SOA", null, null, 900L,
                List.of("ns-1.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"), null, null));
    }

    /**
     * Stores a record as it is, replacing one of the same name, type and set identifier, without the checks a change
     * batch gets (so a test can build any state); its name is stored as Route53 returns names.
     */
    public synchronized void put(String zoneId, RecordSet record) {
        store(zone(zoneId), normalise(record));
    }

    /** The record of that name (either form), type and set identifier (null for a simple record), if there is one. */
    public synchronized Optional<RecordSet> record(String zoneId, String name, String type, String setIdentifier) {
        Key key = new Key(order(canonical(name)), type.toUpperCase(Locale.ROOT), setIdentifier == null ? "" : setIdentifier);
        return Optional.ofNullable(zone(zoneId).records.get(key));
    }

    /** Every record of the zone in Route53's listing order. */
    public synchronized List<RecordSet> records(String zoneId) {
        return List.copyOf(zone(zoneId).records.values());
    }

    /**
     * Calls {@code listener} with the zone id and the changes of every accepted batch, once applied: the local
     * environment's traffic follows the weights from that moment (as if every resolver followed at once).
     */
    public void onChanged(BiConsumer<String, List<Change>> listener) {
        this.onChanged = listener;
    }

    /** GetChange answers PENDING for the first {@code polls} calls about each change submitted from now on (0: INSYNC at once). */
    public void pendingPolls(int polls) {
        pendingPolls = Math.max(0, polls);
    }

    /** The page size of ListResourceRecordSets when the request names none (Route53's is {@value #MAX_ITEMS}). */
    public void pageSize(int items) {
        pageSize = Math.max(1, Math.min(MAX_ITEMS, items));
    }

    /** Answers the next {@code count} requests, of any operation, with a Throttling error (400). */
    public void throttle(int count) {
        throttle.set(count);
    }

    /** Answers the next {@code count} ChangeResourceRecordSets requests with PriorRequestNotComplete (400). */
    public void priorRequestNotComplete(int count) {
        priorRequest.set(count);
    }

    /** How many requests arrived, faulted ones included. */
    public int requests() {
        return requests.get();
    }

    /** How many requests of the operation ({@code ListResourceRecordSets}, …) arrived, faulted ones included. */
    public int requests(String operation) {
        synchronized (counts) {
            AtomicInteger count = counts.get(operation);
            return count == null ? 0 : count.get();
        }
    }

    /** Every change batch that was accepted, in order. */
    public List<List<Change>> batches() {
        return List.copyOf(batches);
    }

    /** The last change batch that was accepted; empty if none was. */
    public Optional<List<Change>> lastBatch() {
        List<List<Change>> all = batches();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            requests.incrementAndGet();
            try {
                String method = exchange.getRequestMethod();
                String raw = exchange.getRequestURI().getRawPath();
                if (!raw.startsWith(VERSION)) {
                    throw new ApiError(404, "UnknownOperationException", "The path " + raw + " is not simulated");
                }
                List<String> path = Arrays.stream(raw.substring(VERSION.length()).split("/", -1))
                        .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8)).toList();
                String operation = operation(method, path);
                synchronized (counts) {
                    counts.computeIfAbsent(operation, o -> new AtomicInteger()).incrementAndGet();
                }
                if (throttle.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    throw new ApiError(400, "Throttling", "Rate exceeded");
                }
                String body = switch (operation) {
                    case "ListResourceRecordSets" -> list(path.get(1), query(exchange.getRequestURI().getRawQuery()));
                    case "ChangeResourceRecordSets" -> change(path.get(1), read(exchange.getRequestBody()));
                    case "GetChange" -> getChange(path.get(1));
                    default -> throw new IllegalStateException(operation);
                };
                respond(exchange, 200, body);
            } catch (ApiError e) {
                respond(exchange, e.status, error(e.code, e.getMessage()));
            } catch (RuntimeException e) {
                respond(exchange, 500, error("InternalFailure", String.valueOf(e)));
            }
        }
    }

    private static String operation(String method, List<String> path) {
        boolean zone = path.size() >= 3 && path.get(0).equals("hostedzone") && path.get(2).equals("rrset");
        if (method.equals("GET") && zone && path.size() == 3) {
            return "ListResourceRecordSets";
        }
        // The SDK sends ChangeResourceRecordSets to .../rrset/ (trailing slash), as the service model's URI has it.
        if (method.equals("POST") && zone && (path.size() == 3 || path.size() == 4 && path.get(3).isEmpty())) {
            return "ChangeResourceRecordSets";
        }
        if (method.equals("GET") && path.size() == 2 && path.get(0).equals("change")) {
            return "GetChange";
        }
        throw new ApiError(404, "UnknownOperationException", method + " /2013-04-01/" + String.join("/", path) + " is not simulated");
    }

    private synchronized String list(String zoneId, Map<String, String> query) {
        Zone zone = zone(zoneId);
        String name = query.get("name");
        String type = query.get("type");
        String identifier = query.get("identifier");
        if (type != null && name == null) {
            throw new ApiError(400, "InvalidInput", "The input is not valid: a StartRecordType needs a StartRecordName");
        }
        if (identifier != null && type == null) {
            throw new ApiError(400, "InvalidInput", "The input is not valid: a StartRecordIdentifier needs a StartRecordType");
        }
        int max = pageSize;
        if (query.containsKey("maxitems")) {
            try {
                max = Math.min(MAX_ITEMS, Integer.parseInt(query.get("maxitems")));
            } catch (NumberFormatException e) {
                max = 0;
            }
            if (max < 1) {
                throw new ApiError(400, "InvalidInput", "The input is not valid: MaxItems must be a positive number");
            }
        }
        List<RecordSet> from = new ArrayList<>(name == null ? zone.records.values()
                : zone.records.tailMap(new Key(order(canonical(name)), type == null ? "" : type.toUpperCase(Locale.ROOT),
                        identifier == null ? "" : identifier), true).values());
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\"?>\n<ListResourceRecordSetsResponse xmlns=\"" + NAMESPACE
                + "\"><ResourceRecordSets>");
        from.stream().limit(max).forEach(r -> recordXml(xml, r));
        xml.append("</ResourceRecordSets><IsTruncated>").append(from.size() > max).append("</IsTruncated>");
        if (from.size() > max) {
            RecordSet next = from.get(max);
            element(xml, "NextRecordName", next.name());
            element(xml, "NextRecordType", next.type());
            if (next.setIdentifier() != null) {
                element(xml, "NextRecordIdentifier", next.setIdentifier());
            }
        }
        element(xml, "MaxItems", String.valueOf(max));
        return xml.append("</ListResourceRecordSetsResponse>").toString();
    }

    private synchronized String change(String zoneId, byte[] body) {
        Zone zone = zone(zoneId);
        if (priorRequest.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new ApiError(400, "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.");
        }
        Element root = parse(body);
        if (!"ChangeResourceRecordSetsRequest".equals(root.getLocalName()) || !NAMESPACE.equals(root.getNamespaceURI())) {
            throw invalidInput("the root element must be ChangeResourceRecordSetsRequest in " + NAMESPACE);
        }
        Element batch = child(root, "ChangeBatch").orElseThrow(() -> invalidInput("Missing field 'ChangeBatch'"));
        String comment = text(batch, "Comment");
        if (comment != null && comment.length() > 256) {
            throw invalidInput("Comment must be at most 256 characters");
        }
        List<Element> changeElements = children(child(batch, "Changes").orElseThrow(() -> invalidInput("Missing field 'Changes'")), "Change");
        if (changeElements.isEmpty() || changeElements.size() > MAX_CHANGES) {
            throw invalidInput("a change batch holds from 1 to " + MAX_CHANGES + " changes, not " + changeElements.size());
        }
        List<Change> parsed = new ArrayList<>();
        for (int i = 0; i < changeElements.size(); i++) {
            parsed.add(parseChange(changeElements.get(i), i + 1));
        }
        // Applied to a copy, so that a batch with any problem leaves the zone exactly as it was.
        TreeMap<Key, RecordSet> next = new TreeMap<>(zone.records);
        List<String> problems = new ArrayList<>();
        for (Change c : parsed) {
            RecordSet r = c.recordSet();
            if (!r.name().equals(zone.name) && !r.name().endsWith("." + zone.name)) {
                problems.add("RRSet with DNS name " + r.name() + " is not permitted in zone " + zone.name);
                continue;
            }
            Key key = Key.of(r);
            RecordSet current = next.get(key);
            switch (c.action()) {
                case "CREATE" -> {
                    if (current != null) {
                        problems.add("Tried to create resource record set " + r.label() + " but it already exists");
                    } else {
                        next.put(key, r);
                    }
                }
                case "DELETE" -> {
                    if (current == null) {
                        problems.add("Tried to delete resource record set " + r.label() + " but it was not found");
                    } else if (!current.equals(r)) {
                        problems.add("Tried to delete resource record set " + r.label()
                                + " but the values provided do not match the current values");
                    } else {
                        next.remove(key);
                    }
                }
                default -> next.put(key, r);
            }
        }
        for (Change c : parsed) {
            conflict(next, c.recordSet()).ifPresent(p -> {
                if (!problems.contains(p)) {
                    problems.add(p);
                }
            });
        }
        if (!problems.isEmpty()) {
            throw new ApiError(400, "InvalidChangeBatch", problems.toString());
        }
        zone.records = next;
        batches.add(List.copyOf(parsed));
        onChanged.accept(zoneId, List.copyOf(parsed));
        String id = String.format(Locale.ROOT, "C%019d", changeIds.incrementAndGet());
        Submitted submitted = new Submitted(Instant.now().truncatedTo(ChronoUnit.MILLIS), comment);
        changes.put(id, submitted);
        return "<?xml version=\"1.0\"?>\n<ChangeResourceRecordSetsResponse xmlns=\"" + NAMESPACE + "\">"
                + changeInfo(id, submitted, pendingPolls > 0 ? "PENDING" : "INSYNC") + "</ChangeResourceRecordSetsResponse>";
    }

    /** A record that Route53 would refuse beside the others of its name: mixed weighted and simple, or CNAME and more. */
    private static Optional<String> conflict(TreeMap<Key, RecordSet> records, RecordSet record) {
        for (RecordSet other : records.values()) {
            if (!other.name().equals(record.name()) || other == record) {
                continue;
            }
            if (other.type().equals(record.type()) && (other.weight() == null) != (record.weight() == null)) {
                return Optional.of("RRSet with DNS name " + record.name() + ", type " + record.type()
                        + " cannot be both weighted and not weighted: a conflicting RRSet with the same name and type exists");
            }
            if (!other.type().equals(record.type()) && (other.type().equals("CNAME") || record.type().equals("CNAME"))) {
                String cname = other.type().equals("CNAME") ? other.type() : record.type();
                String rest = other.type().equals("CNAME") ? record.type() : other.type();
                return Optional.of("RRSet of type " + cname + " with DNS name " + record.name()
                        + " is not permitted because a conflicting RRSet of type " + rest + " with the same DNS name already exists");
            }
        }
        return Optional.empty();
    }

    private Change parseChange(Element change, int index) {
        String at = "changeBatch.changes." + index + ".member";
        String action = text(change, "Action");
        if (action == null || !Set.of("CREATE", "DELETE", "UPSERT").contains(action)) {
            throw invalidInput("Value '" + action + "' at '" + at + ".action' failed to satisfy constraint: "
                    + "Member must satisfy enum value set: [CREATE, DELETE, UPSERT]");
        }
        Element set = child(change, "ResourceRecordSet").orElseThrow(() -> invalidInput("Missing field 'ResourceRecordSet' at " + at));
        for (Node n = set.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && UNMODELLED.contains(e.getLocalName())) {
                throw invalidInput(e.getLocalName() + " at " + at + ".resourceRecordSet is not modelled by the simulator");
            }
        }
        String name = text(set, "Name");
        String type = text(set, "Type");
        if (name == null || name.isBlank() || type == null || !TYPES.contains(type)) {
            throw invalidInput("Invalid request: a ResourceRecordSet needs a Name and a Type of " + new TreeSet<>(TYPES) + " at " + at);
        }
        String setIdentifier = text(set, "SetIdentifier");
        Long weight = number(set, "Weight", at);
        Long ttl = number(set, "TTL", at);
        String healthCheckId = text(set, "HealthCheckId");
        Optional<Element> records = child(set, "ResourceRecords");
        List<String> values = records.map(r -> children(r, "ResourceRecord").stream().map(v -> text(v, "Value")).toList())
                .orElse(List.of());
        Alias alias = child(set, "AliasTarget").map(a -> new Alias(text(a, "HostedZoneId"), text(a, "DNSName"),
                "true".equals(text(a, "EvaluateTargetHealth")))).orElse(null);
        String what = "Change with [Action=" + action + ", Name=" + name + ", Type=" + type + ", SetIdentifier=" + setIdentifier + "]";
        if (weight != null && (weight < 0 || weight > MAX_WEIGHT)) {
            throw invalidInput("1 validation error detected: Value '" + weight + "' at '" + at + ".resourceRecordSet.weight' "
                    + "failed to satisfy constraint: Member must have value " + (weight < 0 ? "greater than or equal to 0" : "less than or equal to 255"));
        }
        if (weight != null && setIdentifier == null) {
            throw invalidInput("Invalid request: Missing field 'SetIdentifier' in " + what);
        }
        if (setIdentifier != null && weight == null) {
            throw invalidInput("Invalid request: Missing field 'Weight' in " + what + " (the only routing policy simulated)");
        }
        if (setIdentifier != null && (setIdentifier.isEmpty() || setIdentifier.length() > 128)) {
            throw invalidInput("SetIdentifier must be 1 to 128 characters in " + what);
        }
        if (ttl != null && (ttl < 0 || ttl > Integer.MAX_VALUE)) {
            throw invalidInput("TTL must be from 0 to 2147483647 in " + what);
        }
        if (alias != null && (ttl != null || records.isPresent())) {
            throw invalidInput("Invalid request: an alias target excludes TTL and ResourceRecords in " + what);
        }
        if (alias != null && (alias.hostedZoneId() == null || alias.dnsName() == null)) {
            throw invalidInput("Invalid request: an AliasTarget needs HostedZoneId and DNSName in " + what);
        }
        if (alias == null && (values.isEmpty() || values.contains(null))) {
            throw invalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], "
                    + "but found none in " + what);
        }
        if (alias == null && ttl == null) {
            throw invalidInput("Invalid request: Missing field 'TTL' in " + what);
        }
        if ("CNAME".equals(type) && values.size() > 1) {
            throw new ApiError(400, "InvalidChangeBatch", "[RRSet of type CNAME with DNS name " + canonical(name) + " has more than one value]");
        }
        return new Change(action, normalise(new RecordSet(name, type, setIdentifier, weight, ttl, values, alias, healthCheckId)));
    }

    private synchronized String getChange(String id) {
        Submitted submitted = changes.get(id);
        if (submitted == null) {
            throw new ApiError(404, "NoSuchChange", "A change with the specified change ID does not exist.");
        }
        submitted.polls++;
        String status = submitted.polls > pendingPolls ? "INSYNC" : "PENDING";
        return "<?xml version=\"1.0\"?>\n<GetChangeResponse xmlns=\"" + NAMESPACE + "\">" + changeInfo(id, submitted, status)
                + "</GetChangeResponse>";
    }

    private static String changeInfo(String id, Submitted submitted, String status) {
        StringBuilder xml = new StringBuilder("<ChangeInfo>");
        element(xml, "Id", "/change/" + id);
        element(xml, "Status", status);
        element(xml, "SubmittedAt", submitted.at.toString());
        if (submitted.comment != null) {
            element(xml, "Comment", submitted.comment);
        }
        return xml.append("</ChangeInfo>").toString();
    }

    private static void recordXml(StringBuilder xml, RecordSet r) {
        // In the order of the service model's members, as Route53 writes them.
        xml.append("<ResourceRecordSet>");
        element(xml, "Name", r.name());
        element(xml, "Type", r.type());
        if (r.setIdentifier() != null) {
            element(xml, "SetIdentifier", r.setIdentifier());
        }
        if (r.weight() != null) {
            element(xml, "Weight", String.valueOf(r.weight()));
        }
        if (r.ttl() != null) {
            element(xml, "TTL", String.valueOf(r.ttl()));
        }
        if (r.alias() == null) {
            xml.append("<ResourceRecords>");
            r.values().forEach(v -> {
                xml.append("<ResourceRecord>");
                element(xml, "Value", v);
                xml.append("</ResourceRecord>");
            });
            xml.append("</ResourceRecords>");
        } else {
            xml.append("<AliasTarget>");
            element(xml, "HostedZoneId", r.alias().hostedZoneId());
            element(xml, "DNSName", r.alias().dnsName());
            element(xml, "EvaluateTargetHealth", String.valueOf(r.alias().evaluateTargetHealth()));
            xml.append("</AliasTarget>");
        }
        if (r.healthCheckId() != null) {
            element(xml, "HealthCheckId", r.healthCheckId());
        }
        xml.append("</ResourceRecordSet>");
    }

    private Zone zone(String id) {
        Zone zone = zones.get(id);
        if (zone == null) {
            throw new ApiError(404, "NoSuchHostedZone", "No hosted zone found with ID: " + id);
        }
        return zone;
    }

    private static void store(Zone zone, RecordSet record) {
        zone.records.put(Key.of(record), record);
    }

    /** The record as Route53 stores it: the name in its returned form, the type upper case, an alias name with a dot. */
    private static RecordSet normalise(RecordSet r) {
        Alias alias = r.alias() == null ? null : new Alias(r.alias().hostedZoneId(), canonical(r.alias().dnsName()),
                r.alias().evaluateTargetHealth());
        return new RecordSet(canonical(r.name()), r.type().toUpperCase(Locale.ROOT), r.setIdentifier(), r.weight(), r.ttl(),
                r.values(), alias, r.healthCheckId());
    }

    /**
     * A name as Route53 returns it: octal escapes ({@code \052}) read, lower case, every character other than
     * {@code a-z 0-9 - _ .} written as a three-digit octal escape, and a trailing dot.
     */
    static String canonical(String name) {
        // Byte by byte: an escape stands for one byte, and a name outside ASCII (Route53 wants punycode) is escaped in
        // its UTF-8 bytes.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '\\' && i + 3 < name.length() && name.substring(i + 1, i + 4).matches("[0-3][0-7]{2}")) {
                bytes.write(Integer.parseInt(name.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                bytes.writeBytes(String.valueOf(c).toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
            }
        }
        StringBuilder out = new StringBuilder();
        for (byte b : bytes.toByteArray()) {
            int c = b & 0xff;
            if (c >= 'A' && c <= 'Z') {
                c = c - 'A' + 'a';
            }
            if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
                out.append((char) c);
            } else {
                out.append(String.format(Locale.ROOT, "\\%03o", c));
            }
        }
        return out.toString().endsWith(".") ? out.toString() : out + ".";
    }

    /**
     * The listing order of a name: its labels reversed, with a trailing dot, compared as ASCII ({@code www.example.com.}
     * is {@code com.example.www.}); the dot puts {@code api-x.example.com} before {@code api.example.com}, as in Route53.
     */
    private static String order(String canonicalName) {
        List<String> labels = new ArrayList<>(Arrays.asList(canonicalName.substring(0, canonicalName.length() - 1).split("\\.")));
        Collections.reverse(labels);
        return String.join(".", labels) + ".";
    }

    private static Element parse(byte[] body) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(null);
            return builder.parse(new ByteArrayInputStream(body)).getDocumentElement();
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw invalidInput("the request body is not valid XML");
        }
    }

    private static Optional<Element> child(Element parent, String name) {
        List<Element> all = children(parent, name);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> found = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && name.equals(e.getLocalName())) {
                found.add(e);
            }
        }
        return found;
    }

    private static String text(Element parent, String name) {
        return child(parent, name).map(Element::getTextContent).orElse(null);
    }

    private static Long number(Element parent, String name, String at) {
        String value = text(parent, name);
        if (value == null) {
            return null;
        }
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw invalidInput("Value '" + value + "' at '" + at + "." + name + "' is not a number");
        }
    }

    private static byte[] read(InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
            throw invalidInput("the request body is over " + MAX_BODY + " bytes");
        }
        return body;
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> query = new LinkedHashMap<>();
        if (raw == null) {
            return query;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            query.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return query;
    }

    private static void element(StringBuilder xml, String name, String value) {
        xml.append('<').append(name).append('>').append(escape(value)).append("</").append(name).append('>');
    }

    private static String escape(String text) {
        return Objects.requireNonNullElse(text, "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String error(String code, String message) {
        return "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"" + NAMESPACE + "\"><Error><Type>Sender</Type><Code>" + code
                + "</Code><Message>" + escape(message) + "</Message></Error><RequestId>" + UUID.randomUUID() + "</RequestId></ErrorResponse>";
    }

    private static void respond(HttpExchange exchange, int status, String xml) throws IOException {
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/xml");
        exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static ApiError invalidInput(String message) {
        return new ApiError(400, "InvalidInput", message);
    }

    @Override
    public void close() {
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
    }

    /** A Route53 error answer: its HTTP status, code and message. */
    private static final class ApiError extends RuntimeException {
        private final int status;
        private final String code;

        ApiError(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }
}
