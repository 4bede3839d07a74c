package dev.dualdeploy.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.text.Text;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code cutover:} part of {@link ConfigLoader}'s one validation pass: its problems go to the same list, with the
 * same file, path, expectation and example.
 */
final class CutoverReader {

    private static final String EXAMPLE = "cutover: { router: { nginx: {...} }, steps: [10, 25, 50, 100], gate: { soak: 30m,"
            + " checks: [...], metrics: {...} } }";
    /** A Cloudflare id: 32 hex digits in practice; kept loose, but safe in a URL path. */
    private static final Pattern CLOUDFLARE_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern ELB_ARN = Pattern.compile("arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\\d{12}:[A-Za-z0-9/_.:-]{1,200}");
    private static final Pattern HOSTED_ZONE = Pattern.compile("[A-Z0-9]{1,32}");
    /** A DNS name as Route53 takes it: labels of letters, digits, - and _, a leading *. label, an optional final dot. */
    private static final Pattern DNS_NAME = Pattern.compile("(\\*\\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\\.)*"
            + "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\\.?");
    /** The record types Route53 can weight. */
    static final List<String> RECORD_TYPES = List.of("A", "AAAA", "CAA", "CNAME", "MX", "NAPTR", "PTR", "SPF", "SRV", "TXT");
    private static final Pattern SET_IDENTIFIER = Pattern.compile("[A-Za-z0-9 _.:/-]{1,128}");
    /** An nginx upstream name as the include writes it: nothing that could end a directive or open a block. */
    static final Pattern UPSTREAM = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    static final Pattern VARIABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    /** The most arguments a command may have, and the longest argument. */
    static final int MAX_ARGS = 32;
    static final int MAX_ARG = 1024;
    static final Duration MIN_NGINX_TIMEOUT = Duration.ofSeconds(1);
    static final Duration MAX_NGINX_TIMEOUT = Duration.ofMinutes(10);

    private CutoverReader() {
    }

    static Optional<CutoverSpec> cutover(ConfigLoader.Reader r, JsonNode node, String path, boolean hasLegacy, boolean hasKubernetes) {
        if (node == null || node.isNull() || !r.expectObject(node, path, EXAMPLE)) {
            return Optional.empty();
        }
        r.allowOnly(node, path, Set.of("router", "steps", "gate"));
        if (!(hasLegacy && hasKubernetes)) {
            r.problem(path, "a cutover moves traffic from the legacy side to the kubernetes side, so the stage needs both a"
                    + " legacy and a kubernetes section", "legacy: { ecs: {...} }, kubernetes: {...}");
        }
        RouterSpec router = router(r, node.get("router"), path + ".router");
        List<Integer> steps = steps(r, node.get("steps"), path + ".steps");
        GateSpec gate = gate(r, node.get("gate"), path + ".gate", hasLegacy, hasKubernetes);
        return router == null || steps.isEmpty() || gate == null ? Optional.empty() : Optional.of(new CutoverSpec(router, steps, gate));
    }

    private static List<Integer> steps(ConfigLoader.Reader r, JsonNode node, String path) {
        String example = "steps: [10, 25, 50, 100]";
        List<Integer> steps = new ArrayList<>();
        if (node == null || node.isNull()) {
            r.problem(path, "missing required key; expected the Kubernetes share after each step, in percent", example);
            return steps;
        }
        if (!node.isArray() || node.isEmpty()) {
            r.problem(path, "expected a non-empty list of percentages, strictly increasing, from 1 to 100", example);
            return steps;
        }
        boolean ok = true;
        for (int i = 0; i < node.size(); i++) {
            JsonNode step = node.get(i);
            String at = path + "[" + i + "]";
            if (!step.isIntegralNumber() || !step.canConvertToInt() || step.intValue() < 1 || step.intValue() > 100) {
                r.problem(at, "'" + Text.cut(step.asText(), 40) + "' is not a whole percentage from 1 to 100", example);
                ok = false;
            } else if (!steps.isEmpty() && step.intValue() <= steps.get(steps.size() - 1)) {
                r.problem(at, step.intValue() + " does not follow " + steps.get(steps.size() - 1) + "; steps increase strictly",
                        example);
                ok = false;
            } else {
                steps.add(step.intValue());
            }
        }
        return ok ? steps : List.of();
    }

    /**
     * The gate of each step: the stage gate's shape, with Kubernetes judged against legacy under the same traffic. A
     * canary, a follow soak and the other baselines have no meaning here, so they are problems rather than ignored.
     */
    private static GateSpec gate(ConfigLoader.Reader r, JsonNode node, String path, boolean hasLegacy, boolean hasKubernetes) {
        String example = "gate: { soak: 30m, interval: 1m, checks: [ { sequential: { baseline: legacy } } ], metrics: {...} }";
        if (node == null || node.isNull()) {
            r.problem(path, "missing required key; each step is judged (kubernetes against legacy) before the next, and a"
                    + " cutover without a gate would move traffic unjudged", example);
            return null;
        }
        if (!r.expectObject(node, path, example)) {
            return null;
        }
        for (String key : List.of("canary", "follow_soak")) {
            if (ConfigLoader.Reader.present(node, key)) {
                r.problem(path + "." + key, key + " has no meaning in a cutover: each step judges kubernetes against legacy"
                        + " under the same traffic", "remove " + key);
            }
        }
        GateSpec gate = GateReader.gate(r, node, path, hasLegacy, hasKubernetes);
        JsonNode checks = node.get("checks");
        if (!gate.analyses() && (checks == null || checks.isNull() || (checks.isArray() && checks.isEmpty()))) {
            // Only when none was written: checks that were written and refused have their own problems already.
            r.problem(path + ".checks", "a cutover step needs at least one check", "checks: [ { sequential: { baseline: legacy } } ]");
        }
        if (gate.onError() == GateSpec.OnError.PAUSE) {
            // A step that cannot be judged is an ERROR, and an ERROR puts the traffic back on legacy at once: leaving a
            // share of live traffic on a side nobody can judge, for a person to find, is the risk a cutover exists to avoid.
            r.problem(path + ".on_error", "pause has no place in a cutover: a step that cannot be judged puts the traffic back"
                    + " on legacy", "on_error: fail");
        }
        for (int i = 0; i < gate.checks().size(); i++) {
            CheckSpec check = gate.checks().get(i);
            Optional<CheckSpec.Baseline> baseline = check instanceof CheckSpec.Compare c ? Optional.of(c.baseline())
                    : check instanceof CheckSpec.Sequential q ? Optional.of(q.baseline()) : Optional.empty();
            if (baseline.isPresent() && !baseline.get().side().equals(Optional.of(Side.LEGACY))) {
                r.problem(path + ".checks[" + i + "]", "baseline: " + baseline.get().label() + " in a cutover; each step judges"
                        + " kubernetes against legacy under the same traffic", "baseline: legacy");
            }
        }
        return gate;
    }

    private static RouterSpec router(ConfigLoader.Reader r, JsonNode node, String path) {
        String example = "router: { nginx: { file: /etc/nginx/dualdeploy/loan-api.conf, legacy_upstream: ecs_pool,"
                + " kubernetes_upstream: k8s_pool, probe: 'http://127.0.0.1:8080/__dualdeploy' } }";
        if (node == null || node.isNull()) {
            r.problem(path, "missing required key; expected one of cloudflare, alb, route53 or nginx", example);
            return null;
        }
        if (!r.expectObject(node, path, example)) {
            return null;
        }
        r.allowOnly(node, path, Set.of("cloudflare", "alb", "route53", "nginx"));
        List<String> kinds = new ArrayList<>();
        node.fieldNames().forEachRemaining(kinds::add);
        kinds.removeIf(k -> !Set.of("cloudflare", "alb", "route53", "nginx").contains(k));
        if (kinds.size() != 1) {
            r.problem(path, kinds.isEmpty() ? "expected one of cloudflare, alb, route53 or nginx"
                    : "a stage has one router, not " + kinds.size() + " (" + String.join(", ", kinds) + "); keep the one"
                    + " that holds the stage's traffic", example);
            return null;
        }
        String kind = kinds.get(0);
        JsonNode body = node.get(kind);
        String at = path + "." + kind;
        return switch (kind) {
            case "cloudflare" -> cloudflare(r, body, at);
            case "alb" -> alb(r, body, at);
            case "route53" -> route53(r, body, at);
            default -> nginx(r, body, at);
        };
    }

    private static RouterSpec cloudflare(ConfigLoader.Reader r, JsonNode node, String path) {
        String example = "cloudflare: { zone_id: 023e105f4ecef8ad9ca31a8372d0c353, load_balancer_id: 699d98642c564d2e855e9661899b7252,"
                + " legacy_pool: 17b5962d775c646f3f9725cbc7a53df4, kubernetes_pool: 9290f38c5d07c2e2f4df57b1f61d4196, token_env: CF_API_TOKEN }";
        if (!r.expectObject(node, path, example)) {
            return null;
        }
        r.allowOnly(node, path, Set.of("zone_id", "load_balancer_id", "legacy_pool", "kubernetes_pool", "token_env", "endpoint"));
        String zone = r.text(node, path, "zone_id", true, CLOUDFLARE_ID, "a Cloudflare zone id", "zone_id: 023e105f4ecef8ad9ca31a8372d0c353");
        String balancer = r.text(node, path, "load_balancer_id", true, CLOUDFLARE_ID, "a Cloudflare load balancer id",
                "load_balancer_id: 699d98642c564d2e855e9661899b7252");
        String legacy = r.text(node, path, "legacy_pool", true, CLOUDFLARE_ID, "a Cloudflare pool id",
                "legacy_pool: 17b5962d775c646f3f9725cbc7a53df4");
        String kubernetes = r.text(node, path, "kubernetes_pool", true, CLOUDFLARE_ID, "a Cloudflare pool id",
                "kubernetes_pool: 9290f38c5d07c2e2f4df57b1f61d4196");
        distinct(r, path + ".kubernetes_pool", legacy, kubernetes, "pool");
        if (!ConfigLoader.Reader.present(node, "token_env")) {
            r.problem(path + ".token_env", "missing required key; expected the environment variable that holds the API token",
                    "token_env: CF_API_TOKEN");
        }
        String token = r.envName(node, path, "token_env", "token_env: CF_API_TOKEN");
        Optional<URI> endpoint = r.url(node, path, "endpoint", false, "endpoint: http://127.0.0.1:8787/client/v4/");
        if (endpoint.isPresent() && !cloudflareEndpoint(endpoint.get())) {
            // The token goes to the endpoint as a bearer header: a config from a branch must not be able to send it to a
            // server of its choosing, as with the *_env names.
            r.problem(path + ".endpoint", "the API token is sent to the endpoint, so it may only be Cloudflare's own ("
                    + RouterSpec.Cloudflare.API + ") or a simulator on loopback (127.0.0.1, ::1, localhost)",
                    "endpoint: http://127.0.0.1:8787/client/v4/");
            endpoint = Optional.empty();
        }
        return zone == null || balancer == null || legacy == null || kubernetes == null || token == null ? null
                : new RouterSpec.Cloudflare(zone, balancer, legacy, kubernetes, token, endpoint);
    }

    /** The ARN if it is of this kind and in this region; null after a problem. */
    private static String arnOf(ConfigLoader.Reader r, String at, String arn, String kind, String what, String region) {
        if (arn == null) {
            return null;
        }
        if (!arn.contains(kind)) {
            r.problem(at, "'" + arn + "' is not the ARN of " + what + " (it has no '" + kind + "')", "");
            return null;
        }
        String[] parts = arn.split(":", 6);
        if (region != null && parts.length > 3 && !parts[3].equals(region)) {
            r.problem(at, "the ARN is in " + parts[3] + ", not in the router's region " + region, "region: " + parts[3]);
            return null;
        }
        return arn;
    }

    /** Whether the token may go to this endpoint: Cloudflare's API over https, or a simulator on loopback. */
    static boolean cloudflareEndpoint(URI endpoint) {
        String host = endpoint.getHost() == null ? "" : endpoint.getHost().toLowerCase(Locale.ROOT);
        boolean loopback = host.equals("127.0.0.1") || host.equals("[::1]") || host.equals("::1") || host.equals("localhost");
        return loopback || ("https".equals(endpoint.getScheme()) && host.equals(RouterSpec.Cloudflare.API.getHost())
                && endpoint.getPort() == -1 && endpoint.getUserInfo() == null);
    }

    private static RouterSpec alb(ConfigLoader.Reader r, JsonNode node, String path) {
        String arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:";
        if (!r.expectObject(node, path, "alb: { region: eu-west-1, listener_arn: " + arn + "listener/app/api/50dc6c495c0c9188/f2f7dc8efc522ab2,"
                + " legacy_target_group: ..., kubernetes_target_group: ... }")) {
            return null;
        }
        r.allowOnly(node, path, Set.of("region", "listener_arn", "rule_arn", "legacy_target_group", "kubernetes_target_group", "endpoint"));
        String region = r.text(node, path, "region", true, ConfigLoader.REGION, "an AWS region", "region: eu-west-1");
        String listener = r.text(node, path, "listener_arn", true, ELB_ARN, "an ELBv2 listener ARN",
                "listener_arn: " + arn + "listener/app/api/50dc6c495c0c9188/f2f7dc8efc522ab2");
        Optional<String> rule = Optional.ofNullable(r.text(node, path, "rule_arn", false, ELB_ARN, "an ELBv2 rule ARN",
                "rule_arn: " + arn + "listener-rule/app/api/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"));
        String legacy = r.text(node, path, "legacy_target_group", true, ELB_ARN, "a target group ARN",
                "legacy_target_group: " + arn + "targetgroup/ecs/73e2d6bc24d8a067");
        String kubernetes = r.text(node, path, "kubernetes_target_group", true, ELB_ARN, "a target group ARN",
                "kubernetes_target_group: " + arn + "targetgroup/k8s/2453ed029918f21f");
        distinct(r, path + ".kubernetes_target_group", legacy, kubernetes, "target group");
        // An ARN of the wrong kind or region validates as an ARN but names nothing this router can weigh.
        listener = arnOf(r, path + ".listener_arn", listener, ":listener/", "a listener", region);
        rule = rule.map(given -> arnOf(r, path + ".rule_arn", given, ":listener-rule/", "a listener rule", region));
        legacy = arnOf(r, path + ".legacy_target_group", legacy, ":targetgroup/", "a target group", region);
        kubernetes = arnOf(r, path + ".kubernetes_target_group", kubernetes, ":targetgroup/", "a target group", region);
        Optional<URI> endpoint = r.url(node, path, "endpoint", false, "endpoint: http://127.0.0.1:4566");
        return region == null || listener == null || legacy == null || kubernetes == null ? null
                : new RouterSpec.Alb(region, listener, rule, legacy, kubernetes, endpoint);
    }

    private static RouterSpec route53(ConfigLoader.Reader r, JsonNode node, String path) {
        if (!r.expectObject(node, path, "route53: { region: us-east-1, hosted_zone_id: Z0123456789ABCDEFGHIJ, name: api.example.com,"
                + " type: CNAME, legacy_set: ecs, kubernetes_set: k8s }")) {
            return null;
        }
        r.allowOnly(node, path, Set.of("region", "hosted_zone_id", "name", "type", "legacy_set", "kubernetes_set", "endpoint"));
        String region = r.text(node, path, "region", true, ConfigLoader.REGION, "an AWS region", "region: us-east-1");
        String zone = r.text(node, path, "hosted_zone_id", true, HOSTED_ZONE, "a hosted zone id (upper-case letters and digits)",
                "hosted_zone_id: Z0123456789ABCDEFGHIJ");
        String name = r.text(node, path, "name", true, DNS_NAME, "a DNS name", "name: api.example.com");
        if (name != null && (name.endsWith(".") ? name.length() - 1 : name.length()) > 253) {
            r.problem(path + ".name", "a DNS name is at most 253 characters", "name: api.example.com");
            name = null;
        }
        String type = r.text(node, path, "type", true, null, "", "type: CNAME");
        if (type != null && !RECORD_TYPES.contains(type)) {
            r.problem(path + ".type", "'" + type + "' is not a record type Route53 weights; expected one of " + RECORD_TYPES, "type: CNAME");
            type = null;
        }
        String legacy = r.text(node, path, "legacy_set", true, SET_IDENTIFIER, "a set identifier (1 to 128 characters)", "legacy_set: ecs");
        String kubernetes = r.text(node, path, "kubernetes_set", true, SET_IDENTIFIER, "a set identifier (1 to 128 characters)",
                "kubernetes_set: k8s");
        distinct(r, path + ".kubernetes_set", legacy, kubernetes, "set identifier");
        Optional<URI> endpoint = r.url(node, path, "endpoint", false, "endpoint: http://127.0.0.1:4566");
        return region == null || zone == null || name == null || type == null || legacy == null || kubernetes == null ? null
                : new RouterSpec.Route53(region, zone, name, type, legacy, kubernetes, endpoint);
    }

    private static RouterSpec nginx(ConfigLoader.Reader r, JsonNode node, String path) {
        String example = "nginx: { file: /etc/nginx/dualdeploy/loan-api.conf, legacy_upstream: ecs_pool, kubernetes_upstream: k8s_pool,"
                + " probe: 'http://127.0.0.1:8080/__dualdeploy' }";
        if (!r.expectObject(node, path, example)) {
            return null;
        }
        r.allowOnly(node, path, Set.of("file", "legacy_upstream", "kubernetes_upstream", "variable", "test", "reload", "probe", "timeout"));
        Optional<Path> file = Optional.ofNullable(r.text(node, path, "file", true, null, "", "file: /etc/nginx/dualdeploy/loan-api.conf"))
                .flatMap(text -> r.path(text, path + ".file", "file: /etc/nginx/dualdeploy/loan-api.conf"));
        String legacy = r.text(node, path, "legacy_upstream", true, UPSTREAM, "an nginx upstream name (letters, digits, _ . -)",
                "legacy_upstream: ecs_pool");
        String kubernetes = r.text(node, path, "kubernetes_upstream", true, UPSTREAM, "an nginx upstream name (letters, digits, _ . -)",
                "kubernetes_upstream: k8s_pool");
        distinct(r, path + ".kubernetes_upstream", legacy, kubernetes, "upstream");
        String variable = r.text(node, path, "variable", false, VARIABLE, "an nginx variable name without $ (letters, digits, _)",
                "variable: dualdeploy_upstream");
        List<String> test = command(r, node, path, "test", RouterSpec.Nginx.DEFAULT_TEST);
        List<String> reload = command(r, node, path, "reload", RouterSpec.Nginx.DEFAULT_RELOAD);
        Optional<URI> probe = r.url(node, path, "probe", true, "probe: http://127.0.0.1:8080/__dualdeploy");
        Duration timeout = r.duration(node, path, "timeout", RouterSpec.Nginx.DEFAULT_TIMEOUT, MIN_NGINX_TIMEOUT, MAX_NGINX_TIMEOUT);
        return file.isEmpty() || legacy == null || kubernetes == null || test == null || reload == null || probe.isEmpty() ? null
                : new RouterSpec.Nginx(file.get(), legacy, kubernetes, variable == null ? RouterSpec.Nginx.DEFAULT_VARIABLE : variable,
                        test, reload, probe.get(), timeout);
    }

    /** A command as a list of arguments (never a shell string), or its default when absent; null after a problem. */
    private static List<String> command(ConfigLoader.Reader r, JsonNode node, String path, String key, List<String> fallback) {
        JsonNode value = node.get(key);
        String example = key + ": " + fallback.stream().map(a -> a.contains(" ") ? "'" + a + "'" : a).toList().toString()
    ;
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isArray() || value.isEmpty() || value.size() > MAX_ARGS) {
            r.problem(path + "." + key, "expected the command as a list of 1 to " + MAX_ARGS + " arguments (it is run without a"
                    + " shell)", example);
            return null;
        }
        List<String> args = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            JsonNode arg = value.get(i);
            String at = path + "." + key + "[" + i + "]";
            if (!arg.isTextual() || arg.textValue().isEmpty() || arg.textValue().length() > MAX_ARG
                    || arg.textValue().chars().anyMatch(Character::isISOControl)) {
                r.problem(at, "expected a non-empty argument of at most " + MAX_ARG + " characters without control characters",
                        example);
                return null;
            }
            args.add(arg.textValue());
        }
        return args;
    }

    private static void distinct(ConfigLoader.Reader r, String path, String legacy, String kubernetes, String what) {
        if (legacy != null && legacy.equals(kubernetes)) {
            r.problem(path, "the same " + what + " as the legacy side; a cutover moves traffic between two different ones", "");
        }
    }
}
