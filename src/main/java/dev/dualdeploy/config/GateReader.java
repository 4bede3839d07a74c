package dev.dualdeploy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.text.Text;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code gate:} part of {@link ConfigLoader}'s one validation pass: its problems go to the same list, with the
 * same file, path, expectation and example.
 */
final class GateReader {

    /** The placeholders a query or URL may use. */
    static final Set<String> PLACEHOLDERS = Set.of("service", "stage", "side", "window");
    /** The query names with a fixed meaning: counts of requests and of failed requests in a window. */
    static final String REQUESTS = "requests";
    static final String ERRORS = "errors";

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([a-zA-Z_]+)\\s*}}");
    private static final Pattern METRIC_NAME = Pattern.compile("[a-z][a-z0-9_]*");
    private static final String EXAMPLE = "gate: { soak: 15m, interval: 30s, checks: [ { slo: { metric: error_rate, max: 0.01 } } ],"
            + " metrics: { provider: prometheus, address: 'http://prometheus:9090', queries: { error_rate: '...' } } }";

    /*
     * The ranges of the gate's numbers and durations (README, "Config reference"). Each is far beyond any sensible
     * value and far below what would overflow when the engine adds, multiplies or counts with it.
     */
    static final Duration MIN_SOAK = Duration.ofSeconds(1);
    static final Duration MAX_SOAK = Duration.ofDays(7);
    static final Duration MAX_INTERVAL = Duration.ofHours(1);
    /** A probe's or a query's timeout. */
    static final Duration MIN_TIMEOUT = Duration.ofMillis(100);
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(5);
    static final Duration MAX_DELAY = Duration.ofHours(1);
    /** How many windows or answers in a row. */
    static final long MAX_TIMES = 1000;
    /** How many requests or errors. */
    static final long MAX_COUNT = 1_000_000_000L;
    /** The largest magnitude of an SLO threshold. */
    static final double MAX_VALUE = 1e15;

    private GateReader() {
    }

    static GateSpec gate(ConfigLoader.Reader r, JsonNode node, String path, boolean hasLegacy, boolean hasKubernetes) {
        if (node == null || node.isNull()) {
            return GateSpec.none();
        }
        if (!r.expectObject(node, path, EXAMPLE)) {
            return GateSpec.none();
        }
        ObjectNode keys = ((ObjectNode) node).deepCopy();
        keys.remove("approval");
        r.allowOnly(keys, path, Set.of("canary", "soak", "interval", "follow_soak", "checks", "metrics", "min_requests",
                "error_limit", "on_error", "on_inconclusive"));
        if (node.has("approval")) {
            // Approval after the gate came too late: the stage was already live, and aborting left it so. It now
            // guards the stage's entry, so the old key is an error that says where it went rather than an unknown key.
            r.problem(path + ".approval", "gate.approval was removed: approval is asked before a stage deploys, not after"
                    + " its gate; move it to the stage, next to gate:", "approval: { submitter: sre, timeout: 24h }");
        }
        Optional<Side> canary = Optional.ofNullable(r.text(node, path, "canary", false, null, "", "canary: kubernetes"))
                .flatMap(label -> side(r, label, path + ".canary", "canary: kubernetes"));
        if (canary.isPresent() && !(hasLegacy && hasKubernetes)) {
            r.problem(path + ".canary", "a canary is judged against the other side, so the stage needs both a legacy and"
                    + " a kubernetes section", "remove canary, or configure both sides");
        }
        Duration soak = r.duration(node, path, "soak", GateSpec.DEFAULT_SOAK, MIN_SOAK, MAX_SOAK);
        Duration interval = r.duration(node, path, "interval", GateSpec.DEFAULT_INTERVAL, MIN_SOAK, MAX_INTERVAL);
        if (interval.compareTo(soak) > 0) {
            r.problem(path + ".interval", "the interval (" + Durations.format(interval) + ") is longer than the soak ("
                    + Durations.format(soak) + "); a soak holds one or more intervals", "interval: 30s");
        }
        Duration followDefault = interval.multipliedBy(3).compareTo(soak) < 0 ? interval.multipliedBy(3) : soak;
        Duration followSoak = r.duration(node, path, "follow_soak", followDefault, MIN_SOAK, MAX_SOAK);
        if (ConfigLoader.Reader.present(node, "follow_soak") && canary.isEmpty()) {
            r.problem(path + ".follow_soak", "follow_soak is the short gate after a canary's other side followed; it needs"
                    + " canary", "canary: kubernetes");
        }
        if (ConfigLoader.Reader.present(node, "follow_soak") && followSoak.compareTo(interval) < 0) {
            r.problem(path + ".follow_soak", "follow_soak (" + Durations.format(followSoak) + ") is shorter than one interval",
                    "follow_soak: " + Durations.format(interval.multipliedBy(3)));
        }
        long minRequests = r.integer(node, path, "min_requests", GateSpec.DEFAULT_MIN_REQUESTS, 1, MAX_COUNT, "min_requests: 500");
        int errorLimit = (int) r.integer(node, path, "error_limit", GateSpec.DEFAULT_ERROR_LIMIT, 0, MAX_TIMES, "error_limit: 2");
        GateSpec.OnError onError = choice(r, node, path, "on_error", GateSpec.OnError.class, GateSpec.OnError.FAIL);
        GateSpec.OnInconclusive onInconclusive = choice(r, node, path, "on_inconclusive", GateSpec.OnInconclusive.class,
                GateSpec.OnInconclusive.FAIL);
        Optional<MetricsSpec> metrics = Optional.ofNullable(node.get("metrics")).filter(n -> !n.isNull())
                .flatMap(n -> metrics(r, n, path + ".metrics"));
        List<CheckSpec> checks = checks(r, node.get("checks"), path + ".checks", hasLegacy, hasKubernetes);

        for (int i = 0; i < checks.size(); i++) {
            CheckSpec check = checks.get(i);
            Optional<Side> against = check instanceof CheckSpec.Compare c ? c.baseline().side()
                    : check instanceof CheckSpec.Sequential q ? q.baseline().side() : Optional.empty();
            if (canary.isPresent() && against.equals(canary)) {
                r.problem(path + ".checks[" + i + "]", "the baseline is the canary side itself; a canary is judged against the"
                        + " other side", "baseline: " + (canary.get() == Side.LEGACY ? Side.KUBERNETES : Side.LEGACY).label());
            }
        }
        boolean needsMetrics = checks.stream().anyMatch(c -> !(c instanceof CheckSpec.Http));
        if (needsMetrics && !ConfigLoader.Reader.present(node, "metrics")) {
            r.problem(path + ".metrics", "missing; the slo, compare and sequential checks need a metrics provider and queries",
                    "metrics: { provider: prometheus, address: 'http://prometheus:9090', queries: { error_rate: '...' } }");
        }
        if (metrics.isPresent()) {
            Map<String, String> queries = metrics.get().queries();
            for (int i = 0; i < checks.size(); i++) {
                String at = path + ".checks[" + i + "]";
                CheckSpec check = checks.get(i);
                String metric = check instanceof CheckSpec.Slo s ? s.metric() : check instanceof CheckSpec.Compare c ? c.metric() : null;
                if (metric != null && !queries.containsKey(metric)) {
                    r.problem(at, "the metric '" + metric + "' has no query; metrics.queries has " + queries.keySet().stream().sorted().toList(),
                            "queries: { " + metric + ": '...' }");
                }
                if (check instanceof CheckSpec.Sequential && !(queries.containsKey(REQUESTS) && queries.containsKey(ERRORS))) {
                    r.problem(at, "the sequential test counts requests and errors, so metrics.queries needs both '" + REQUESTS
                            + "' and '" + ERRORS + "'", "queries: { requests: 'sum(increase(http_requests_total[{{window}}]))', errors: '...' }");
                }
            }
            if (ConfigLoader.Reader.present(node, "min_requests") && !queries.containsKey(REQUESTS)) {
                r.problem(path + ".min_requests", "min_requests needs a '" + REQUESTS + "' query to count requests with",
                        "queries: { requests: 'sum(increase(http_requests_total{side=\"{{side}}\"}[{{window}}]))' }");
            }
        } else if (ConfigLoader.Reader.present(node, "min_requests")) {
            r.problem(path + ".min_requests", "min_requests needs metrics with a '" + REQUESTS + "' query", "");
        }
        return new GateSpec(canary, soak, interval, followSoak, checks, metrics, minRequests, errorLimit, onError, onInconclusive);
    }

    private static List<CheckSpec> checks(ConfigLoader.Reader r, JsonNode list, String path, boolean hasLegacy, boolean hasKubernetes) {
        List<CheckSpec> checks = new ArrayList<>();
        if (list == null || list.isNull()) {
            return checks;
        }
        if (!list.isArray()) {
            r.problem(path, "expected a list of checks", "checks: [ { slo: { metric: error_rate, max: 0.01 } } ]");
            return checks;
        }
        for (int i = 0; i < list.size(); i++) {
            String at = path + "[" + i + "]";
            JsonNode item = list.get(i);
            if (!item.isObject() || item.size() != 1) {
                r.problem(at, "expected one of http, slo, compare or sequential, with its settings",
                        "- slo: { metric: error_rate, max: 0.01 }");
                continue;
            }
            String kind = item.fieldNames().next();
            JsonNode body = item.get(kind);
            String where = at + "." + kind;
            CheckSpec check = switch (kind) {
                case "http" -> http(r, body, where);
                case "slo" -> slo(r, body, where);
                case "compare" -> compare(r, body, where, hasLegacy, hasKubernetes);
                case "sequential" -> sequential(r, body, where, hasLegacy, hasKubernetes);
                default -> {
                    r.problem(at + "." + kind, "unknown check; expected one of [compare, http, sequential, slo]",
                            "- slo: { metric: error_rate, max: 0.01 }");
                    yield null;
                }
            };
            if (check != null) {
                checks.add(check);
            }
        }
        return checks;
    }

    private static CheckSpec http(ConfigLoader.Reader r, JsonNode node, String path) {
        if (!r.expectObject(node, path, "http: { url: 'https://loan-api.internal/health', expect: 200 }")) {
            return null;
        }
        r.allowOnly(node, path, Set.of("url", "expect", "failures", "timeout"));
        String url = r.text(node, path, "url", true, null, "", "url: https://loan-api.internal/health");
        if (url != null) {
            placeholders(r, url, path + ".url", "url: 'https://{{side}}.loan-api.internal/health'");
            if (!ConfigLoader.Reader.isHttpUrl(PLACEHOLDER.matcher(url).replaceAll("x"))) {
                r.problem(path + ".url", "'" + Text.redactUrl(url) + "' is not an http or https URL with a host", "url: https://loan-api.internal/health");
            }
        }
        int expect = (int) r.integer(node, path, "expect", 200, 100, 599, "expect: 200");
        int failures = (int) r.integer(node, path, "failures", 3, 1, MAX_TIMES, "failures: 3");
        Duration timeout = r.duration(node, path, "timeout", Duration.ofSeconds(5), MIN_TIMEOUT, MAX_TIMEOUT);
        return url == null ? null : new CheckSpec.Http(url, expect, failures, timeout);
    }

    private static CheckSpec slo(ConfigLoader.Reader r, JsonNode node, String path) {
        if (!r.expectObject(node, path, "slo: { metric: error_rate, max: 0.01 }")) {
            return null;
        }
        r.allowOnly(node, path, Set.of("metric", "max", "breaches"));
        String metric = r.text(node, path, "metric", true, METRIC_NAME, "a metric name of lower-case letters, digits and _", "metric: error_rate");
        boolean hasMax = ConfigLoader.Reader.present(node, "max");
        if (!hasMax) {
            r.problem(path + ".max", "missing required key; expected the highest acceptable value", "max: 0.01");
        }
        double max = r.number(node, path, "max", 0, -MAX_VALUE, MAX_VALUE, "max: 0.01");
        int breaches = (int) r.integer(node, path, "breaches", 2, 1, MAX_TIMES, "breaches: 2");
        return metric == null || !hasMax ? null : new CheckSpec.Slo(metric, max, breaches);
    }

    private static CheckSpec compare(ConfigLoader.Reader r, JsonNode node, String path, boolean hasLegacy, boolean hasKubernetes) {
        if (!r.expectObject(node, path, "compare: { metric: error_rate, baseline: legacy }")) {
            return null;
        }
        r.allowOnly(node, path, Set.of("metric", "baseline", "confidence", "tolerance", "min_windows", "early_confidence"));
        String metric = r.text(node, path, "metric", true, METRIC_NAME, "a metric name of lower-case letters, digits and _", "metric: error_rate");
        Optional<CheckSpec.Baseline> baseline = baseline(r, node, path, hasLegacy, hasKubernetes);
        double confidence = r.number(node, path, "confidence", 0.95, 0.5, 0.9999, "confidence: 0.95");
        double tolerance = r.number(node, path, "tolerance", 0.10, 0, 100, "tolerance: 0.1");
        int minWindows = (int) r.integer(node, path, "min_windows", 5, 3, 10_000, "min_windows: 5");
        double early = r.number(node, path, "early_confidence", 0.999, 0.5, 1, "early_confidence: 0.999");
        return metric == null || baseline.isEmpty() ? null
                : new CheckSpec.Compare(metric, baseline.get(), confidence, tolerance, minWindows, early);
    }

    private static CheckSpec sequential(ConfigLoader.Reader r, JsonNode node, String path, boolean hasLegacy, boolean hasKubernetes) {
        if (!r.expectObject(node, path, "sequential: { baseline: legacy, alpha: 0.01 }")) {
            return null;
        }
        r.allowOnly(node, path, Set.of("baseline", "alpha", "tolerance", "tau", "min_errors"));
        Optional<CheckSpec.Baseline> baseline = baseline(r, node, path, hasLegacy, hasKubernetes);
        double alpha = r.number(node, path, "alpha", 0.01, 0.0001, 0.2, "alpha: 0.01");
        double tolerance = r.number(node, path, "tolerance", 0.2, 0, 100, "tolerance: 0.2");
        double tau = r.number(node, path, "tau", 0.002, 0.00001, 0.5, "tau: 0.002");
        long minErrors = r.integer(node, path, "min_errors", 10, 0, MAX_COUNT, "min_errors: 10");
        return baseline.map(b -> (CheckSpec) new CheckSpec.Sequential(b, alpha, tolerance, tau, minErrors)).orElse(null);
    }

    private static Optional<CheckSpec.Baseline> baseline(ConfigLoader.Reader r, JsonNode node, String path, boolean hasLegacy,
                                                         boolean hasKubernetes) {
        String label = r.text(node, path, "baseline", true, null, "", "baseline: legacy");
        if (label == null) {
            return Optional.empty();
        }
        if (label.equals("before-deploy")) {
            return Optional.of(CheckSpec.Baseline.BEFORE_DEPLOY);
        }
        Optional<Side> side = side(r, label, path + ".baseline", "baseline: legacy");
        if (side.isEmpty()) {
            return Optional.empty();
        }
        if (!(hasLegacy && hasKubernetes)) {
            r.problem(path + ".baseline", "baseline: " + label + " compares one side with the other, so the stage needs both"
                    + " sides; with one side, compare with its own past", "baseline: before-deploy");
            return Optional.empty();
        }
        return Optional.of(new CheckSpec.Baseline(side));
    }

    private static Optional<Side> side(ConfigLoader.Reader r, String label, String path, String example) {
        try {
            return Optional.of(Side.fromLabel(label));
        } catch (IllegalArgumentException e) {
            r.problem(path, "'" + label + "' is not a side; expected legacy or kubernetes"
                    + (path.endsWith("baseline") ? ", or before-deploy" : ""), example);
            return Optional.empty();
        }
    }

    private static Optional<MetricsSpec> metrics(ConfigLoader.Reader r, JsonNode node, String path) {
        if (!r.expectObject(node, path, "metrics: { provider: prometheus, address: 'http://prometheus:9090', queries: {...} }")) {
            return Optional.empty();
        }
        r.allowOnly(node, path, Set.of("provider", "address", "region", "endpoint", "auth", "timeout", "delay", "queries"));
        String provider = r.text(node, path, "provider", true, null, "", "provider: prometheus");
        MetricsSpec.Provider kind = null;
        Optional<URI> address = Optional.empty();
        Optional<String> region = Optional.empty();
        Optional<URI> endpoint = Optional.empty();
        if ("prometheus".equals(provider)) {
            kind = MetricsSpec.Provider.PROMETHEUS;
            address = r.url(node, path, "address", true, "address: http://prometheus:9090");
            for (String key : List.of("region", "endpoint")) {
                if (ConfigLoader.Reader.present(node, key)) {
                    r.problem(path + "." + key, key + " is for cloudwatch; prometheus takes address", "address: http://prometheus:9090");
                }
            }
        } else if ("cloudwatch".equals(provider)) {
            kind = MetricsSpec.Provider.CLOUDWATCH;
            region = Optional.ofNullable(r.text(node, path, "region", true, ConfigLoader.REGION, "an AWS region", "region: eu-west-1"));
            endpoint = r.url(node, path, "endpoint", false, "endpoint: https://monitoring.eu-west-1.amazonaws.com");
            for (String key : List.of("address", "auth")) {
                if (ConfigLoader.Reader.present(node, key)) {
                    r.problem(path + "." + key, key + " is for prometheus; cloudwatch uses region and the AWS credential chain",
                            "region: eu-west-1");
                }
            }
        } else if (provider != null) {
            r.problem(path + ".provider", "'" + provider + "' is not a metrics provider; expected prometheus or cloudwatch",
                    "provider: prometheus");
        }
        MetricsSpec.Auth auth = auth(r, node.get("auth"), path + ".auth");
        Duration timeout = r.duration(node, path, "timeout", MetricsSpec.DEFAULT_TIMEOUT, MIN_TIMEOUT, MAX_TIMEOUT);
        Duration delay = r.duration(node, path, "delay", Duration.ZERO, Duration.ZERO, MAX_DELAY);
        Map<String, String> queries = new LinkedHashMap<>();
        JsonNode list = node.get("queries");
        if (list == null || list.isNull()) {
            r.problem(path + ".queries", "missing required key; expected the query of each metric the checks use",
                    "queries: { error_rate: '...' }");
        } else if (r.expectObject(list, path + ".queries", "queries: { error_rate: '...' }")) {
            for (Iterator<Map.Entry<String, JsonNode>> fields = list.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                String at = path + ".queries." + field.getKey();
                if (!METRIC_NAME.matcher(field.getKey()).matches()) {
                    r.problem(at, "'" + field.getKey() + "' is not a metric name of lower-case letters, digits and _", "error_rate: '...'");
                    continue;
                }
                String query = r.text(list, path + ".queries", field.getKey(), true, null, "", field.getKey() + ": '...'");
                if (query != null) {
                    placeholders(r, query, at, field.getKey() + ": 'sum(rate(x{side=\"{{side}}\"}[{{window}}]))'");
                    queries.put(field.getKey(), query);
                }
            }
        }
        return kind == null ? Optional.empty() : Optional.of(new MetricsSpec(kind, address, region, endpoint, auth, timeout, delay, queries));
    }

    private static MetricsSpec.Auth auth(ConfigLoader.Reader r, JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return MetricsSpec.Auth.NONE;
        }
        if (!r.expectObject(node, path, "auth: { bearer_token_env: PROMETHEUS_TOKEN }")) {
            return MetricsSpec.Auth.NONE;
        }
        r.allowOnly(node, path, Set.of("bearer_token_env", "username_env", "password_env"));
        Optional<String> bearer = Optional.ofNullable(r.envName(node, path, "bearer_token_env", "bearer_token_env: PROMETHEUS_TOKEN"));
        Optional<String> user = Optional.ofNullable(r.envName(node, path, "username_env", "username_env: PROMETHEUS_USER"));
        Optional<String> password = Optional.ofNullable(r.envName(node, path, "password_env", "password_env: PROMETHEUS_PASSWORD"));
        if (bearer.isPresent() && (user.isPresent() || password.isPresent())) {
            r.problem(path, "choose a bearer token or a user and password, not both", "auth: { bearer_token_env: PROMETHEUS_TOKEN }");
        } else if (user.isPresent() != password.isPresent()) {
            r.problem(path, "Basic authentication needs both username_env and password_env",
                    "auth: { username_env: PROMETHEUS_USER, password_env: PROMETHEUS_PASSWORD }");
        }
        return new MetricsSpec.Auth(bearer, user, password);
    }

    private static void placeholders(ConfigLoader.Reader r, String text, String path, String example) {
        Matcher m = PLACEHOLDER.matcher(text);
        while (m.find()) {
            if (!PLACEHOLDERS.contains(m.group(1))) {
                r.problem(path, "unknown placeholder {{" + m.group(1) + "}}; expected one of " + PLACEHOLDERS.stream().sorted()
                        .map(p -> "{{" + p + "}}").toList(), example);
            }
        }
    }

    private static <E extends Enum<E>> E choice(ConfigLoader.Reader r, JsonNode node, String path, String key, Class<E> type, E fallback) {
        String text = r.text(node, path, key, false, null, "", "");
        if (text == null) {
            return fallback;
        }
        List<String> allowed = new ArrayList<>();
        for (E value : type.getEnumConstants()) {
            String label = value.name().toLowerCase(java.util.Locale.ROOT);
            allowed.add(label);
            if (label.equals(text)) {
                return value;
            }
        }
        r.problem(path + "." + key, "'" + text + "' is not one of " + allowed, key + ": " + allowed.get(0));
        return fallback;
    }
}
