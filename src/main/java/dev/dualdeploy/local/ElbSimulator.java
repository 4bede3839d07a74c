package dev.dualdeploy.local;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An Elastic Load Balancing v2 API on loopback that speaks the protocol AWS SDK v2 2.40.2 uses for it: AWS Query
 * ({@code POST /}, form-encoded {@code Action=…&Version=2015-12-01}, lists as {@code Name.member.N}, maps as
 * {@code Name.entry.N.key/value}, XML answers in the {@code 2015-12-01} namespace and {@code ErrorResponse} errors), so
 * the real SDK client drives it. It holds load balancers and target groups (seeded with {@link #loadBalancer} and
 * {@link #targetGroup}), listeners and rules (created through {@code CreateListener} and {@code CreateRule}, as a
 * team's existing ALB would be), and answers {@code DescribeListeners}, {@code DescribeRules}, {@code ModifyListener}
 * and {@code ModifyRule} as ELBv2 does where it matters to a client that rewrites weights:
 * <ul>
 *   <li>a forward action is stored as ELBv2 answers it: with a {@code ForwardConfig} whose groups all have a weight
 *       (1 where none was given: assumed, ELBv2 does not document it) and a {@code TargetGroupStickinessConfig} ({@code Enabled=false} where none was
 *       given), and with {@code TargetGroupArn} as well when it forwards to exactly one group;</li>
 *   <li>{@code TargetGroupArn} beside a {@code ForwardConfig} of more than that one group is a {@code ValidationError},
 *       as are weights outside 0..999, an unknown action type, several actions without {@code Order}, and a rule whose
 *       last action is not its one forward, fixed-response or redirect; an unknown target group is
 *       {@code TargetGroupNotFound};</li>
 *   <li>an {@code authenticate-oidc} action's {@code ClientSecret} is stored but never answered; a modification must
 *       send it again or say {@code UseExistingClientSecret=true};</li>
 *   <li>a modification replaces only the members it sends: a {@code ModifyRule} without {@code Conditions} keeps them,
 *       a {@code ModifyListener} with only {@code DefaultActions} keeps the port, protocol and certificates.</li>
 * </ul>
 * For tests: {@link #throttle(int)} and {@link #throttle(String, int)} answer the next requests with {@code Throttling};
 * {@link #rule}, {@link #listener} and {@link #lastModified} show what is held and what the last modification sent,
 * member by member.
 *
 * <p>Not modelled: request signatures (any credentials work); real traffic (nothing is forwarded anywhere); API
 * actions other than the six named here; action types other than forward, authenticate-oidc, authenticate-cognito,
 * fixed-response and redirect ({@code jwt-validation} is refused as unknown); an {@code Order} ELBv2 would fill in
 * (actions are answered with the order they were sent with, or none); condition validation beyond a known field with
 * values, and condition normalization (conditions are answered as they were sent); rule transforms beyond storing them;
 * the listener's default rule as a rule ({@code DescribeRules} by listener lists only the others); paging (every
 * answer is one page, {@code Marker} and {@code PageSize} are ignored); tags; quotas (rules per listener, target groups
 * per action); protocol checks (authentication on an HTTP listener is accepted); load balancers and target groups
 * beyond their ARNs. Error messages carry the real error codes, and the wording of the real service where it is
 * known. ARNs are in {@code eu-west-1} of account {@code 000000000000}, whatever region the client signs for.
 */
public final class ElbSimulator implements AutoCloseable {

    /** The XML namespace of the 2015-12-01 API, in which every answer is written. */
    public static final String NAMESPACE = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
    private static final String VERSION = "2015-12-01";
    private static final String ARN = "arn:aws:elasticloadbalancing:eu-west-1:000000000000:";
    private static final Set<String> TERMINAL = Set.of("forward", "fixed-response", "redirect");
    private static final List<String> TYPES = List.of("forward", "authenticate-oidc", "authenticate-cognito", "redirect",
            "fixed-response");
    private static final Set<String> FIELDS = Set.of("http-header", "http-request-method", "host-header", "path-pattern",
            "query-string", "source-ip");

    /**
     * What the simulator holds for a listener or a rule, or what a client sent: every member flattened to its wire
     * name ({@code Actions.member.2.ForwardConfig.TargetGroups.member.1.Weight}), so that a test can compare two of
     * them key by key. A stored listener or rule includes what ELBv2 never answers ({@code ClientSecret}).
     *
     * @param action the request's action for a sent request ({@code ModifyRule}); empty for a stored resource
     * @param arn the listener's or the rule's ARN
     * @param fields the members, sorted by wire name
     */
    public record Stored(String action, String arn, SortedMap<String, String> fields) {

        public Stored {
            fields = Collections.unmodifiableSortedMap(new TreeMap<>(fields));
        }

        /** One member's value, or null when it is not there. */
        public String get(String key) {
            return fields.get(key);
        }

        /** Whether any member's wire name starts with this prefix ({@code Conditions}). */
        public boolean has(String prefix) {
            return fields.keySet().stream().anyMatch(k -> k.equals(prefix) || k.startsWith(prefix + "."));
        }

        /** The members whose value differs from {@code before}'s, or that either one lacks: what a change touched. */
        public SortedMap<String, String> changedFrom(Stored before) {
            SortedMap<String, String> changed = new TreeMap<>();
            Set<String> keys = new HashSet<>(fields.keySet());
            keys.addAll(before.fields.keySet());
            for (String key : keys) {
                String now = fields.get(key);
                if (now == null ? before.fields.get(key) != null : !now.equals(before.fields.get(key))) {
                    changed.put(key, now == null ? "(removed)" : now);
                }
            }
            return changed;
        }
    }

    private final HttpServer server;
    private final Set<String> loadBalancers = new HashSet<>();
    private final Set<String> targetGroups = new HashSet<>();
    private final Map<String, Map<String, Object>> listeners = new LinkedHashMap<>();
    private final Map<String, Map<String, Object>> rules = new LinkedHashMap<>();
    private final Map<String, String> ruleListener = new LinkedHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final AtomicInteger throttle = new AtomicInteger();
    private final Map<String, AtomicInteger> throttled = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private long ids = 0x50dc6c495c0c9188L;
    private Stored lastModified;
    private volatile Consumer<String> onModified = arn -> { };

    private ElbSimulator() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "elb-sim");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** Starts the simulator on a free loopback port. */
    public static ElbSimulator start() {
        try {
            return new ElbSimulator();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the ELBv2 simulator: " + e.getMessage(), e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Adds an application load balancer and returns its ARN, for {@code CreateListener}. */
    public synchronized String loadBalancer(String name) {
        String arn = ARN + "loadbalancer/app/" + name + "/" + nextId();
        loadBalancers.add(arn);
        return arn;
    }

    /** Adds a target group and returns its ARN; a forward action may name only such groups. */
    public synchronized String targetGroup(String name) {
        String arn = ARN + "targetgroup/" + name + "/" + nextId();
        targetGroups.add(arn);
        return arn;
    }

    /** The listener as stored, {@code ClientSecret}s included. */
    public synchronized Stored listener(String arn) {
        return stored("", arn, listeners.get(arn));
    }

    /** The rule as stored, {@code ClientSecret}s included. */
    public synchronized Stored rule(String arn) {
        return stored("", arn, rules.get(arn));
    }

    /** The last {@code ModifyRule} or {@code ModifyListener} that was accepted, as the client sent it (less Action and Version). */
    public synchronized Optional<Stored> lastModified() {
        return Optional.ofNullable(lastModified);
    }

    /**
     * Calls {@code listener} with the ARN of every listener or rule a {@code ModifyListener} or {@code ModifyRule} changed,
     * once the change is stored: the local environment's traffic follows the weights from that moment.
     */
    public void onModified(Consumer<String> listener) {
        this.onModified = listener;
    }

    /**
     * The target groups the forward action of a listener's default actions or of a rule sends to, with their weights (a
     * single {@code TargetGroupArn} forward has weight 1); empty if it has none.
     */
    public synchronized Map<String, Integer> forwardWeights(String arn) {
        boolean rule = rules.containsKey(arn);
        Stored stored = rule ? rule(arn) : listener(arn);
        if (stored.fields().isEmpty()) {
            return Map.of();
        }
        String prefix = rule ? "Actions.member." : "DefaultActions.member.";
        Map<String, Integer> weights = new LinkedHashMap<>();
        for (int n = 1; stored.get(prefix + n + ".Type") != null; n++) {
            if (!"forward".equals(stored.get(prefix + n + ".Type"))) {
                continue;
            }
            String groups = prefix + n + ".ForwardConfig.TargetGroups.member.";
            for (int m = 1; stored.get(groups + m + ".TargetGroupArn") != null; m++) {
                String weight = stored.get(groups + m + ".Weight");
                weights.put(stored.get(groups + m + ".TargetGroupArn"), weight == null ? 1 : Integer.parseInt(weight));
            }
            if (weights.isEmpty() && stored.get(prefix + n + ".TargetGroupArn") != null) {
                weights.put(stored.get(prefix + n + ".TargetGroupArn"), 1);
            }
        }
        return weights;
    }

    /** Answers the next {@code count} requests with a {@code Throttling} error, as ELBv2 does past its request rate. */
    public void throttle(int count) {
        throttle.set(count);
    }

    /** Answers the next {@code count} requests of this action with a {@code Throttling} error, whatever comes between. */
    public void throttle(String action, int count) {
        throttled.computeIfAbsent(action, a -> new AtomicInteger()).set(count);
    }

    /** How many requests arrived, throttled ones included. */
    public int requests() {
        return requests.get();
    }

    /** How many requests of this action arrived and were not throttled. */
    public int calls(String action) {
        AtomicInteger count = calls.get(action);
        return count == null ? 0 : count.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            requests.incrementAndGet();
            try {
                Map<String, String> form = decode(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                String action = form.getOrDefault("Action", "");
                AtomicInteger ofAction = throttled.get(action);
                if (throttle.getAndUpdate(n -> Math.max(0, n - 1)) > 0
                        || ofAction != null && ofAction.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    throw new QueryError("Throttling", "Rate exceeded");
                }
                calls.computeIfAbsent(action, a -> new AtomicInteger()).incrementAndGet();
                if (!VERSION.equals(form.get("Version"))) {
                    throw new QueryError("InvalidAction", "Could not find operation " + action + " for version " + form.get("Version"));
                }
                Map<String, String> parameters = new LinkedHashMap<>(form);
                parameters.remove("Action");
                parameters.remove("Version");
                Map<String, Object> request = tree(parameters);
                String result;
                synchronized (this) {
                    result = switch (action) {
                        case "DescribeListeners" -> describeListeners(request);
                        case "DescribeRules" -> describeRules(request);
                        case "ModifyListener" -> modifyListener(request, parameters);
                        case "ModifyRule" -> modifyRule(request, parameters);
                        case "CreateListener" -> createListener(request);
                        case "CreateRule" -> createRule(request);
                        default -> throw new QueryError("InvalidAction", "The action " + action + " is not simulated");
                    };
                }
                respond(exchange, 200, "<" + action + "Response xmlns=\"" + NAMESPACE + "\"><" + action + "Result>" + result
                        + "</" + action + "Result><ResponseMetadata><RequestId>" + UUID.randomUUID()
                        + "</RequestId></ResponseMetadata></" + action + "Response>");
            } catch (QueryError e) {
                respond(exchange, 400, error(e.code, e.getMessage()));
            } catch (RuntimeException e) {
                respond(exchange, 500, error("InternalFailure", String.valueOf(e)));
            }
        }
    }

    private String describeListeners(Map<String, Object> request) {
        List<Object> arns = list(request, "ListenerArns");
        String loadBalancer = string(request, "LoadBalancerArn");
        List<Map<String, Object>> found = new ArrayList<>();
        if (!arns.isEmpty()) {
            for (Object arn : arns) {
                Map<String, Object> listener = listeners.get((String) arn);
                if (listener == null) {
                    throw new QueryError("ListenerNotFound", "One or more listeners not found");
                }
                found.add(listener);
            }
        } else if (loadBalancer != null) {
            if (!loadBalancers.contains(loadBalancer)) {
                throw new QueryError("LoadBalancerNotFound", "One or more load balancers not found");
            }
            listeners.values().stream().filter(l -> loadBalancer.equals(l.get("LoadBalancerArn"))).forEach(found::add);
        } else {
            throw new QueryError("ValidationError", "You must specify either listener ARNs or a load balancer ARN");
        }
        return xml("Listeners", found);
    }

    private String describeRules(Map<String, Object> request) {
        List<Object> arns = list(request, "RuleArns");
        String listener = string(request, "ListenerArn");
        List<Map<String, Object>> found = new ArrayList<>();
        if (!arns.isEmpty()) {
            for (Object arn : arns) {
                Map<String, Object> rule = rules.get((String) arn);
                if (rule == null) {
                    throw new QueryError("RuleNotFound", "One or more rules not found");
                }
                found.add(rule);
            }
        } else if (listener != null) {
            if (!listeners.containsKey(listener)) {
                throw new QueryError("ListenerNotFound", "One or more listeners not found");
            }
            rules.forEach((arn, rule) -> {
                if (listener.equals(ruleListener.get(arn))) {
                    found.add(rule);
                }
            });
            found.sort(Comparator.comparingInt(r -> Integer.parseInt((String) r.get("Priority"))));
        } else {
            throw new QueryError("ValidationError", "You must specify either listener ARN or rule ARNs");
        }
        return xml("Rules", found);
    }

    private String createListener(Map<String, Object> request) {
        String loadBalancer = required(request, "LoadBalancerArn");
        if (!loadBalancers.contains(loadBalancer)) {
            throw new QueryError("LoadBalancerNotFound", "One or more load balancers not found");
        }
        Map<String, Object> listener = new LinkedHashMap<>();
        String arn = loadBalancer.replace(":loadbalancer/", ":listener/") + "/" + nextId();
        listener.put("ListenerArn", arn);
        request.remove("Tags");
        listener.putAll(request);
        listener.put("DefaultActions", actions(request, "DefaultActions", List.of()));
        listeners.put(arn, listener);
        return xml("Listeners", List.of(listener));
    }

    private String createRule(Map<String, Object> request) {
        String listener = required(request, "ListenerArn");
        if (!listeners.containsKey(listener)) {
            throw new QueryError("ListenerNotFound", "One or more listeners not found");
        }
        String priority = required(request, "Priority");
        int value = integer(priority, "priority");
        if (value < 1 || value > 50_000) {
            throw new QueryError("ValidationError", "1 validation error detected: Value '" + priority
                    + "' at 'priority' failed to satisfy constraint: Member must have value between 1 and 50000");
        }
        boolean taken = ruleListener.entrySet().stream().anyMatch(e -> e.getValue().equals(listener)
                && String.valueOf(value).equals(rules.get(e.getKey()).get("Priority")));
        if (taken) {
            throw new QueryError("PriorityInUse", "Priority '" + value + "' is currently in use");
        }
        Map<String, Object> rule = new LinkedHashMap<>();
        String arn = listener.replace(":listener/", ":listener-rule/") + "/" + nextId();
        rule.put("RuleArn", arn);
        rule.put("Priority", String.valueOf(value));
        rule.put("Conditions", conditions(request));
        rule.put("Actions", actions(request, "Actions", List.of()));
        if (request.containsKey("Transforms")) {
            rule.put("Transforms", request.get("Transforms"));
        }
        rule.put("IsDefault", "false");
        rules.put(arn, rule);
        ruleListener.put(arn, listener);
        return xml("Rules", List.of(rule));
    }

    private String modifyRule(Map<String, Object> request, Map<String, String> parameters) {
        String arn = required(request, "RuleArn");
        Map<String, Object> rule = rules.get(arn);
        if (rule == null) {
            throw new QueryError("RuleNotFound", "One or more rules not found");
        }
        // Validate everything before changing anything: a refused modification leaves the rule as it was.
        Map<String, Object> changed = new LinkedHashMap<>(rule);
        if (request.containsKey("Conditions")) {
            changed.put("Conditions", conditions(request));
        }
        if (request.containsKey("Actions")) {
            changed.put("Actions", actions(request, "Actions", list(rule, "Actions")));
        }
        if ("true".equals(request.get("ResetTransforms"))) {
            changed.remove("Transforms");
        }
        if (request.containsKey("Transforms")) {
            changed.put("Transforms", request.get("Transforms"));
        }
        rules.put(arn, changed);
        lastModified = new Stored("ModifyRule", arn, new TreeMap<>(parameters));
        onModified.accept(arn);
        return xml("Rules", List.of(changed));
    }

    private String modifyListener(Map<String, Object> request, Map<String, String> parameters) {
        String arn = required(request, "ListenerArn");
        Map<String, Object> listener = listeners.get(arn);
        if (listener == null) {
            throw new QueryError("ListenerNotFound", "One or more listeners not found");
        }
        Map<String, Object> changed = new LinkedHashMap<>(listener);
        request.forEach((name, value) -> {
            if (!name.equals("ListenerArn")) {
                changed.put(name, value);
            }
        });
        if (request.containsKey("DefaultActions")) {
            changed.put("DefaultActions", actions(request, "DefaultActions", list(listener, "DefaultActions")));
        }
        listeners.put(arn, changed);
        lastModified = new Stored("ModifyListener", arn, new TreeMap<>(parameters));
        onModified.accept(arn);
        return xml("Listeners", List.of(changed));
    }

    /**
     * The actions a request sends under {@code name}, validated and stored the way ELBv2 answers them.
     *
     * @param existing the actions held until now, whose {@code ClientSecret} an {@code UseExistingClientSecret} keeps
     */
    private List<Object> actions(Map<String, Object> request, String name, List<Object> existing) {
        List<Object> sent = list(request, name);
        String at = Character.toLowerCase(name.charAt(0)) + name.substring(1);
        if (sent.isEmpty()) {
            throw new QueryError("ValidationError", "1 validation error detected: Value null at '" + at
                    + "' failed to satisfy constraint: Member must not be null");
        }
        List<Object> stored = new ArrayList<>();
        Set<String> orders = new HashSet<>();
        int terminals = 0;
        Map<String, Object> last = null;
        for (int i = 0; i < sent.size(); i++) {
            String where = at + "." + (i + 1) + ".member";
            Map<String, Object> action = new LinkedHashMap<>(struct(sent.get(i), where));
            String type = string(action, "Type");
            if (type == null || !TYPES.contains(type)) {
                throw new QueryError("ValidationError", "1 validation error detected: Value '" + type + "' at '" + where
                        + ".type' failed to satisfy constraint: Member must satisfy enum value set: " + TYPES);
            }
            String order = string(action, "Order");
            if (order != null) {
                int value = integer(order, where + ".order");
                if (value < 1 || value > 50_000 || !orders.add(String.valueOf(value))) {
                    throw new QueryError("ValidationError", "Action order '" + order + "' is out of range or used more than once");
                }
            } else if (sent.size() > 1) {
                throw new QueryError("ValidationError", "An action order must be specified for every action when there is more than one");
            }
            switch (type) {
                case "forward" -> forward(action, where);
                case "authenticate-oidc" -> oidc(action, existing);
                case "authenticate-cognito" -> requireConfig(action, "AuthenticateCognitoConfig", "UserPoolArn", "UserPoolClientId",
                        "UserPoolDomain");
                case "fixed-response" -> requireConfig(action, "FixedResponseConfig", "StatusCode");
                default -> requireConfig(action, "RedirectConfig", "StatusCode");
            }
            if (TERMINAL.contains(type)) {
                terminals++;
            }
            if (last == null || order != null && Integer.parseInt(order) > Integer.parseInt(string(last, "Order"))) {
                last = action;
            }
            stored.add(Collections.unmodifiableMap(action));
        }
        if (terminals != 1 || !TERMINAL.contains(string(last, "Type"))) {
            throw new QueryError("ValidationError", "Exactly one forward, fixed-response or redirect action must be specified, "
                    + "and it must be the last action to be performed");
        }
        return Collections.unmodifiableList(stored);
    }

    /** Validates a forward action and puts it in the form ELBv2 answers. */
    private void forward(Map<String, Object> action, String where) {
        String single = string(action, "TargetGroupArn");
        Map<String, Object> config = action.containsKey("ForwardConfig")
                ? new LinkedHashMap<>(struct(action.get("ForwardConfig"), where + ".forwardConfig")) : new LinkedHashMap<>();
        List<Object> groups = new ArrayList<>(list(config, "TargetGroups"));
        if (single == null && groups.isEmpty()) {
            throw new QueryError("ValidationError", "A target group ARN must be specified for a forward action");
        }
        if (single != null && !groups.isEmpty()
                && (groups.size() != 1 || !single.equals(string(struct(groups.get(0), where), "TargetGroupArn")))) {
            throw new QueryError("ValidationError", "You cannot specify both TargetGroupArn and a ForwardConfig with a different "
                    + "or more than one target group");
        }
        if (groups.isEmpty()) {
            groups.add(Map.of("TargetGroupArn", single));
        }
        Set<String> seen = new HashSet<>();
        for (int k = 0; k < groups.size(); k++) {
            String at = where + ".forwardConfig.targetGroups." + (k + 1) + ".member";
            Map<String, Object> group = new LinkedHashMap<>(struct(groups.get(k), at));
            String arn = string(group, "TargetGroupArn");
            if (arn == null) {
                throw new QueryError("ValidationError", "1 validation error detected: Value null at '" + at
                        + ".targetGroupArn' failed to satisfy constraint: Member must not be null");
            }
            if (!targetGroups.contains(arn)) {
                throw new QueryError("TargetGroupNotFound", "One or more target groups not found");
            }
            if (!seen.add(arn)) {
                throw new QueryError("ValidationError", "Target group '" + arn + "' cannot be specified more than once");
            }
            String weight = string(group, "Weight");
            if (weight == null) {
                group.put("Weight", "1");
            } else {
                int value = integer(weight, at + ".weight");
                if (value < 0 || value > 999) {
                    throw new QueryError("ValidationError", "1 validation error detected: Value '" + weight + "' at '" + at
                            + ".weight' failed to satisfy constraint: Member must have value " + (value < 0
                            ? "greater than or equal to 0" : "less than or equal to 999"));
                }
            }
            groups.set(k, Collections.unmodifiableMap(group));
        }
        config.put("TargetGroups", Collections.unmodifiableList(groups));
        Map<String, Object> stickiness = config.containsKey("TargetGroupStickinessConfig")
                ? struct(config.get("TargetGroupStickinessConfig"), where + ".forwardConfig.targetGroupStickinessConfig")
                : Map.of("Enabled", "false");
        if ("true".equals(stickiness.get("Enabled"))) {
            String duration = string(stickiness, "DurationSeconds");
            if (duration == null || integer(duration, "durationSeconds") < 1 || integer(duration, "durationSeconds") > 604_800) {
                throw new QueryError("ValidationError", "The target group stickiness duration must be between 1 and 604800 seconds");
            }
        }
        config.put("TargetGroupStickinessConfig", stickiness);
        action.put("ForwardConfig", Collections.unmodifiableMap(config));
        // ELBv2 answers a forward to one group in both forms, and one to several groups only in the ForwardConfig form.
        if (groups.size() == 1) {
            action.put("TargetGroupArn", string(struct(groups.get(0), where), "TargetGroupArn"));
        } else {
            action.remove("TargetGroupArn");
        }
    }

    /** Validates an OIDC action; its client secret is sent again or kept from what was held. */
    private void oidc(Map<String, Object> action, List<Object> existing) {
        requireConfig(action, "AuthenticateOidcConfig", "Issuer", "AuthorizationEndpoint", "TokenEndpoint", "UserInfoEndpoint", "ClientId");
        Map<String, Object> config = new LinkedHashMap<>(struct(action.get("AuthenticateOidcConfig"), "authenticateOidcConfig"));
        boolean reuse = "true".equals(config.remove("UseExistingClientSecret"));
        if (!config.containsKey("ClientSecret")) {
            String kept = null;
            for (Object held : existing) {
                Map<String, Object> heldAction = struct(held, "existing");
                if ("authenticate-oidc".equals(heldAction.get("Type"))) {
                    kept = string(struct(heldAction.get("AuthenticateOidcConfig"), "existing"), "ClientSecret");
                    break;
                }
            }
            if (!reuse || kept == null) {
                throw new QueryError("ValidationError", "A client secret must be specified for an authenticate-oidc action, "
                        + "or UseExistingClientSecret when modifying one that has a client secret");
            }
            config.put("ClientSecret", kept);
        }
        action.put("AuthenticateOidcConfig", Collections.unmodifiableMap(config));
    }

    private static void requireConfig(Map<String, Object> action, String config, String... members) {
        Object value = action.get(config);
        if (!(value instanceof Map<?, ?> map)) {
            throw new QueryError("ValidationError", "A " + config + " must be specified for an action of type " + action.get("Type"));
        }
        for (String member : members) {
            if (!(map.get(member) instanceof String)) {
                throw new QueryError("ValidationError", "The " + config + " must specify " + member);
            }
        }
    }

    private static List<Object> conditions(Map<String, Object> request) {
        List<Object> conditions = list(request, "Conditions");
        for (int i = 0; i < conditions.size(); i++) {
            Map<String, Object> condition = struct(conditions.get(i), "conditions." + (i + 1) + ".member");
            String field = string(condition, "Field");
            if (field == null || !FIELDS.contains(field)) {
                throw new QueryError("ValidationError", "Condition field '" + field + "' must be one of " + new TreeSet<>(FIELDS));
            }
            boolean values = condition.entrySet().stream().anyMatch(e -> !e.getKey().equals("Field")
                    && (e.getValue() instanceof List<?> items && !items.isEmpty() || e.getValue() instanceof Map<?, ?>));
            if (!values) {
                throw new QueryError("ValidationError", "A condition value must be specified for field '" + field + "'");
            }
        }
        return conditions;
    }

    private String nextId() {
        return String.format("%016x", ids++);
    }

    /** The stored resources as XML list members of {@code name}, without what ELBv2 never answers. */
    private static String xml(String name, List<Map<String, Object>> resources) {
        StringBuilder out = new StringBuilder();
        render(name, resources, out);
        return out.toString();
    }

    private static void render(String name, Object value, StringBuilder out) {
        if (name.equals("ClientSecret")) {
            return; // stored, never answered: ELBv2 does not give an OIDC client secret back
        }
        out.append('<').append(name).append('>');
        if (value instanceof String text) {
            out.append(escape(text));
        } else if (value instanceof List<?> items) {
            items.forEach(item -> render("member", item, out));
        } else if (value instanceof Entries entries) {
            entries.map.forEach((k, v) -> out.append("<entry><key>").append(escape(k)).append("</key><value>").append(escape(v))
                    .append("</value></entry>"));
        } else {
            ((Map<?, ?>) value).forEach((k, v) -> render((String) k, v, out));
        }
        out.append("</").append(name).append('>');
    }

    private static Stored stored(String action, String arn, Map<String, Object> resource) {
        if (resource == null) {
            throw new IllegalArgumentException("the simulator holds nothing with ARN " + arn);
        }
        SortedMap<String, String> fields = new TreeMap<>();
        flatten("", resource, fields);
        return new Stored(action, arn, fields);
    }

    private static void flatten(String prefix, Object value, SortedMap<String, String> out) {
        if (value instanceof String text) {
            out.put(prefix, text);
        } else if (value instanceof List<?> items) {
            for (int i = 0; i < items.size(); i++) {
                flatten(prefix + ".member." + (i + 1), items.get(i), out);
            }
        } else if (value instanceof Entries entries) {
            int i = 1;
            for (Map.Entry<String, String> entry : entries.map.entrySet()) {
                out.put(prefix + ".entry." + i + ".key", entry.getKey());
                out.put(prefix + ".entry." + i++ + ".value", entry.getValue());
            }
        } else {
            ((Map<?, ?>) value).forEach((k, v) -> flatten(prefix.isEmpty() ? (String) k : prefix + "." + k, v, out));
        }
    }

    /** A query map ({@code Name.entry.N.key/value}), told apart from a structure so that it is answered as entries. */
    private record Entries(Map<String, String> map) {
    }

    /** A list being parsed: its items by their 1-based index, and whether it is a map's entries. */
    private record Indexed(boolean entries, TreeMap<Integer, Object> items) {
    }

    /**
     * The request's parameters as a tree: structures as maps, {@code .member.N} as lists, {@code .entry.N.key/value} as
     * {@link Entries}, values as the strings sent. An empty list is sent as {@code Name=} and reads as an empty string.
     */
    private static Map<String, Object> tree(Map<String, String> parameters) {
        Map<String, Object> root = new LinkedHashMap<>();
        parameters.forEach((key, value) -> put(root, key.split("\\."), 0, value, key));
        return freeze(root);
    }

    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> node, String[] path, int i, String value, String key) {
        String name = path[i];
        if (i == path.length - 1) {
            if (node.putIfAbsent(name, value) != null) {
                throw new QueryError("ValidationError", "The parameter " + key + " is malformed");
            }
            return;
        }
        boolean indexed = ("member".equals(path[i + 1]) || "entry".equals(path[i + 1])) && i + 2 < path.length
                && path[i + 2].matches("[1-9][0-9]{0,4}");
        Object child = node.get(name);
        if (indexed) {
            if (child == null || "".equals(child)) {
                child = new Indexed("entry".equals(path[i + 1]), new TreeMap<>());
                node.put(name, child);
            }
            if (!(child instanceof Indexed list)) {
                throw new QueryError("ValidationError", "The parameter " + key + " is malformed");
            }
            int index = Integer.parseInt(path[i + 2]);
            if (i + 3 == path.length) {
                list.items().put(index, value);
                return;
            }
            Object item = list.items().computeIfAbsent(index, n -> new LinkedHashMap<String, Object>());
            if (!(item instanceof Map)) {
                throw new QueryError("ValidationError", "The parameter " + key + " is malformed");
            }
            put((Map<String, Object>) item, path, i + 3, value, key);
            return;
        }
        if (child == null) {
            child = new LinkedHashMap<String, Object>();
            node.put(name, child);
        }
        if (!(child instanceof Map)) {
            throw new QueryError("ValidationError", "The parameter " + key + " is malformed");
        }
        put((Map<String, Object>) child, path, i + 1, value, key);
    }

    @SuppressWarnings("unchecked")
    private static <T> T freeze(Object node) {
        if (node instanceof Indexed list) {
            if (list.entries()) {
                Map<String, String> map = new TreeMap<>(); // a map has no order: kept sorted, so equal maps flatten equal
                list.items().values().forEach(e -> {
                    Map<String, Object> entry = (Map<String, Object>) e;
                    map.put(String.valueOf(entry.get("key")), String.valueOf(entry.get("value")));
                });
                return (T) new Entries(Collections.unmodifiableMap(map));
            }
            List<Object> items = new ArrayList<>();
            list.items().values().forEach(item -> items.add(freeze(item)));
            return (T) Collections.unmodifiableList(items);
        }
        if (node instanceof Map<?, ?> map) {
            Map<String, Object> frozen = new LinkedHashMap<>();
            map.forEach((k, v) -> frozen.put((String) k, freeze(v)));
            return (T) frozen;
        }
        return (T) node;
    }

    private static String string(Map<String, Object> node, String name) {
        return node.get(name) instanceof String text ? text : null;
    }

    private static String required(Map<String, Object> node, String name) {
        String value = string(node, name);
        if (value == null || value.isEmpty()) {
            throw new QueryError("ValidationError", "1 validation error detected: Value null at '" + Character.toLowerCase(name.charAt(0))
                    + name.substring(1) + "' failed to satisfy constraint: Member must not be null");
        }
        return value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> node, String name) {
        Object value = node.get(name);
        return value instanceof List<?> items ? (List<Object>) items : List.of();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> struct(Object value, String where) {
        if (!(value instanceof Map<?, ?>)) {
            throw new QueryError("ValidationError", "The parameter at '" + where + "' must be a structure");
        }
        return (Map<String, Object>) value;
    }

    private static int integer(String value, String where) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new QueryError("ValidationError", "Value '" + value + "' at '" + where + "' is not a valid integer");
        }
    }

    private static Map<String, String> decode(String body) {
        Map<String, String> form = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return form;
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String error(String code, String message) {
        return "<ErrorResponse xmlns=\"" + NAMESPACE + "\"><Error><Type>Sender</Type><Code>" + code + "</Code><Message>"
                + escape(message) + "</Message></Error><RequestId>" + UUID.randomUUID() + "</RequestId></ErrorResponse>";
    }

    private static void respond(HttpExchange exchange, int status, String xml) throws IOException {
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/xml");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
    }

    /** An ELBv2 error answer: its code and message. */
    private static final class QueryError extends RuntimeException {
        private final String code;

        QueryError(String code, String message) {
            super(message);
            this.code = code;
        }
    }
}
