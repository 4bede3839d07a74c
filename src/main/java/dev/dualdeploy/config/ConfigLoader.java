package dev.dualdeploy.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.dualdeploy.release.ImageRef;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads {@code dualdeploy.yaml} into a {@link DualDeploySpec}. This is the one place config is validated: every
 * problem in the file is collected (not only the first) and reported with the file, the key path, what was expected
 * and a valid example. Nothing here touches the network.
 */
public final class ConfigLoader {

    private static final Pattern STAGE_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern DNS_LABEL = STAGE_NAME;
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?");
    static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d+");
    private static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    private final ObjectMapper yaml = new ObjectMapper(
            YAMLFactory.builder().build().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION));

    /**
     * Loads and validates a config file.
     *
     * @throws ConfigException with every problem found, if the file is missing, unreadable or invalid
     */
    public DualDeploySpec load(Path file) {
        return load(file, null);
    }

    /**
     * Loads a config file with an override merged over it before validation: objects are merged key by key, and
     * any other value (a list included) replaces the file's. The Jenkins step passes its config keys this way.
     *
     * @param override a JSON object, or null for none
     * @throws ConfigException with every problem found, the override's included (it is not valid JSON, or it
     *                         makes the config invalid)
     */
    public DualDeploySpec load(Path file, String override) {
        String name = file.toString();
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(new ConfigProblem(name, "", "file not found", "dualdeploy validate -f dualdeploy.yaml"));
        } catch (IOException e) {
            throw new ConfigException(new ConfigProblem(name, "", "cannot read the file: " + e.getMessage(), ""));
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(name, text, base, override);
    }

    /**
     * Parses and validates config text.
     *
     * @param name how the file is named in errors
     * @param base the directory relative paths in the file are resolved against
     * @throws ConfigException with every problem found
     */
    public DualDeploySpec parse(String name, String text, Path base) {
        return parse(name, text, base, null);
    }

    private DualDeploySpec parse(String name, String text, Path base, String override) {
        JsonNode root;
        try {
            root = yaml.readTree(text);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : "line " + e.getLocation().getLineNr();
            String what = e instanceof JsonParseException && e.getOriginalMessage().startsWith("Duplicate field")
                    ? e.getOriginalMessage().replace("Duplicate field", "duplicate key")
                    : "not valid YAML: " + e.getOriginalMessage();
            throw new ConfigException(new ConfigProblem(name, where, what, ""));
        }
        root = root == null || root.isMissingNode() ? yaml.createObjectNode() : root;
        if (override != null && !override.isBlank()) {
            root = merge(root, override(name, override));
            name = name + " (with the step's parameters)";
        }
        Reader reader = new Reader(name, base);
        DualDeploySpec spec = reader.root(root);
        if (!reader.problems.isEmpty()) {
            throw new ConfigException(reader.problems);
        }
        return spec;
    }

    private JsonNode override(String name, String override) {
        try {
            JsonNode node = new ObjectMapper().readTree(override);
            if (node != null && node.isObject()) {
                return node;
            }
        } catch (JsonProcessingException e) {
            // Reported below with the same words.
        }
        throw new ConfigException(new ConfigProblem(name, "", "the override is not a JSON object of config keys", "{\"service\": \"loan-api\"}"));
    }

    private static JsonNode merge(JsonNode base, JsonNode override) {
        if (!base.isObject() || !override.isObject()) {
            return override;
        }
        ObjectNode merged = ((ObjectNode) base).deepCopy();
        for (Iterator<Map.Entry<String, JsonNode>> fields = override.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode existing = merged.get(field.getKey());
            merged.set(field.getKey(), existing == null ? field.getValue() : merge(existing, field.getValue()));
        }
        return merged;
    }

    /** Walks the tree once, collecting problems; returns null parts where a problem was found. */
    static final class Reader {
        private final String file;
        private final Path base;
        private final List<ConfigProblem> problems = new ArrayList<>();

        Reader(String file, Path base) {
            this.file = file;
            this.base = base;
        }

        DualDeploySpec root(JsonNode node) {
            if (!expectObject(node, "", "service: loan-api")) {
                return null;
            }
            allowOnly(node, "", Set.of("service", "image", "stages", "branches"));
            String service = text(node, "", "service", true, DNS_LABEL, "a lower-case DNS label", "service: loan-api");
            String image = text(node, "", "image", true, null, "", "image: registry.example.com/loan-api");
            if (image != null) {
                try {
                    ImageRef.parse(image);
                } catch (IllegalArgumentException e) {
                    problem("image", e.getMessage(), "image: registry.example.com/loan-api");
                }
            }
            List<StageSpec> stages = new ArrayList<>();
            JsonNode list = node.get("stages");
            if (list == null || list.isNull()) {
                problem("stages", "missing required key; expected the list of stages in promotion order",
                        "stages: [{name: sandbox, kubernetes: {namespace: loan, deployment: loan-api, container: app}}]");
            } else if (!list.isArray() || list.isEmpty()) {
                problem("stages", "expected a non-empty list of stages", "stages: [{name: sandbox, ...}]");
            } else {
                Set<String> names = new HashSet<>();
                for (int i = 0; i < list.size(); i++) {
                    String path = "stages[" + i + "]";
                    StageSpec stage = stage(list.get(i), path);
                    if (stage != null && !names.add(stage.name())) {
                        problem(path + ".name", "duplicate stage name '" + stage.name() + "'; stage names must be unique",
                                "name: " + stage.name() + "-2");
                    }
                    stages.add(stage);
                }
            }
            List<BranchSpec> branches = branches(node.get("branches"), stages);
            return problems.isEmpty() ? new DualDeploySpec(service, image, stages, branches) : null;
        }

        private StageSpec stage(JsonNode node, String path) {
            if (!expectObject(node, path, "{name: sandbox, legacy: {...}, kubernetes: {...}}")) {
                return null;
            }
            allowOnly(node, path, Set.of("name", "deploy", "legacy", "kubernetes", "timeout", "gate", "approval"));
            String name = text(node, path, "name", true, STAGE_NAME, "a lower-case name of letters, digits and -",
                    "name: preprod");
            Optional<LegacySpec> legacy = Optional.ofNullable(node.get("legacy")).filter(n -> !n.isNull())
                    .map(n -> legacy(n, path + ".legacy"));
            Optional<KubernetesSpec> kubernetes = Optional.ofNullable(node.get("kubernetes")).filter(n -> !n.isNull())
                    .map(n -> kubernetes(n, path + ".kubernetes"));
            if (!node.has("legacy") && !node.has("kubernetes")) {
                problem(path, "a stage needs at least one side: legacy or kubernetes",
                        "kubernetes: {namespace: loan, deployment: loan-api, container: app}");
            }
            ToggleSpec toggle = toggle(node.get("deploy"), path + ".deploy", node.has("legacy"), node.has("kubernetes"));
            Duration timeout = duration(node, path, "timeout", DEFAULT_TIMEOUT);
            GateSpec gate = GateReader.gate(this, node.get("gate"), path + ".gate", node.has("legacy"), node.has("kubernetes"));
            Optional<ApprovalSpec> approval = approval(node.get("approval"), path + ".approval");
            return new StageSpec(name, toggle, legacy, kubernetes, timeout, gate, approval);
        }

        /** A stage's {@code approval:}, asked before the stage deploys; empty if the stage has none. */
        private Optional<ApprovalSpec> approval(JsonNode node, String path) {
            if (node == null || node.isNull() || !expectObject(node, path, "approval: { submitter: sre, timeout: 24h }")) {
                return Optional.empty();
            }
            allowOnly(node, path, Set.of("submitter", "timeout"));
            String submitter = text(node, path, "submitter", true, null, "", "submitter: sre,release-managers");
            List<String> submitters = submitter == null ? List.of() : List.of(submitter.trim().split("\\s*,\\s*"));
            Duration timeout = duration(node, path, "timeout", ApprovalSpec.DEFAULT_TIMEOUT);
            return Optional.of(new ApprovalSpec(submitters, timeout));
        }

        private List<BranchSpec> branches(JsonNode node, List<StageSpec> stages) {
            List<BranchSpec> result = new ArrayList<>();
            if (node == null || node.isNull()) {
                return result;
            }
            if (!expectObject(node, "branches", "branches: { main: [sandbox, preprod, beta, prod], 'PR-*': [sandbox] }")) {
                return result;
            }
            Set<String> known = new HashSet<>();
            stages.stream().filter(s -> s != null).forEach(s -> known.add(s.name()));
            for (Iterator<Map.Entry<String, JsonNode>> entries = node.fields(); entries.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = entries.next();
                String path = "branches." + entry.getKey();
                JsonNode chain = entry.getValue();
                if (!chain.isArray()) {
                    problem(path, "expected a list of stage names in promotion order", entry.getKey() + ": [sandbox, preprod]");
                    continue;
                }
                List<String> names = new ArrayList<>();
                for (int i = 0; i < chain.size(); i++) {
                    String name = chain.get(i).asText();
                    if (!known.contains(name)) {
                        problem(path + "[" + i + "]", "'" + name + "' is not a stage in this file; stages are "
                                + stages.stream().filter(s -> s != null).map(StageSpec::name).toList(), entry.getKey() + ": [sandbox]");
                    } else if (names.contains(name)) {
                        problem(path + "[" + i + "]", "stage '" + name + "' is listed twice", entry.getKey() + ": [sandbox, preprod]");
                    }
                    names.add(name);
                }
                result.add(new BranchSpec(entry.getKey(), names));
            }
            return result;
        }

        private ToggleSpec toggle(JsonNode node, String path, boolean hasLegacy, boolean hasKubernetes) {
            boolean legacy = hasLegacy;
            boolean kubernetes = hasKubernetes;
            if (node == null || node.isNull()) {
                return new ToggleSpec(legacy, kubernetes);
            }
            if (!expectObject(node, path, "deploy: { legacy: true, kubernetes: false }")) {
                return new ToggleSpec(legacy, kubernetes);
            }
            allowOnly(node, path, Set.of("legacy", "kubernetes"));
            for (Side side : Side.values()) {
                JsonNode value = node.get(side.label());
                if (value == null) {
                    continue;
                }
                String at = path + "." + side.label();
                if (!value.isBoolean()) {
                    problem(at, "expected true or false, not '" + value.asText() + "'", side.label() + ": true");
                    continue;
                }
                boolean configured = side == Side.LEGACY ? hasLegacy : hasKubernetes;
                if (value.booleanValue() && !configured) {
                    problem(at, "the toggle is on but the stage has no '" + side.label() + "' section; configure the side"
                            + " or turn the toggle off", side.label() + ": false");
                }
                if (side == Side.LEGACY) {
                    legacy = value.booleanValue();
                } else {
                    kubernetes = value.booleanValue();
                }
            }
            return new ToggleSpec(legacy, kubernetes);
        }

        private LegacySpec legacy(JsonNode node, String path) {
            if (!expectObject(node, path, "legacy: { ecs: {cluster: sandbox, service: loan-api, container: app, region: eu-west-1} }")) {
                return null;
            }
            allowOnly(node, path, Set.of("ecs", "vm"));
            boolean ecs = node.has("ecs") && !node.get("ecs").isNull();
            boolean vm = node.has("vm") && !node.get("vm").isNull();
            if (ecs && vm) {
                problem(path, "a legacy side is either ecs or vm, not both; keep the one this stage runs on",
                        "legacy: { ecs: {...} }");
                return null;
            }
            if (vm) {
                problem(path + ".vm", "VM targets are not supported by this version yet; use ecs, or leave the legacy"
                        + " side out of this stage", "legacy: { ecs: {...} }");
                return null;
            }
            if (!ecs) {
                problem(path, "missing the orchestrator; expected an 'ecs' section",
                        "ecs: {cluster: sandbox, service: loan-api, container: app, region: eu-west-1}");
                return null;
            }
            return new LegacySpec(ecs(node.get("ecs"), path + ".ecs"));
        }

        private EcsSpec ecs(JsonNode node, String path) {
            if (!expectObject(node, path, "ecs: {cluster: sandbox, service: loan-api, container: app, region: eu-west-1}")) {
                return null;
            }
            allowOnly(node, path, Set.of("cluster", "service", "container", "region", "endpoint", "poll"));
            String cluster = text(node, path, "cluster", true, null, "", "cluster: sandbox");
            String service = text(node, path, "service", true, null, "", "service: loan-api");
            String container = text(node, path, "container", true, null, "", "container: app");
            String region = text(node, path, "region", true, REGION, "an AWS region", "region: eu-west-1");
            Optional<URI> endpoint = url(node, path, "endpoint", false, "endpoint: http://127.0.0.1:4566");
            Duration poll = duration(node, path, "poll", EcsSpec.DEFAULT_POLL);
            return new EcsSpec(cluster, service, container, region, endpoint, poll);
        }

        private KubernetesSpec kubernetes(JsonNode node, String path) {
            if (!expectObject(node, path, "kubernetes: {namespace: loan, deployment: loan-api, container: app}")) {
                return null;
            }
            allowOnly(node, path, Set.of("context", "namespace", "deployment", "container", "manifests", "kubeconfig"));
            String context = text(node, path, "context", false, null, "", "context: sandbox");
            String namespace = text(node, path, "namespace", true, DNS_LABEL, "a Kubernetes namespace name", "namespace: loan");
            String deployment = text(node, path, "deployment", true, DNS_SUBDOMAIN, "a Kubernetes object name",
                    "deployment: loan-api");
            String container = text(node, path, "container", true, DNS_LABEL, "a container name", "container: app");
            Optional<Path> manifests = Optional.ofNullable(text(node, path, "manifests", false, null, "", "manifests: deploy/k8s"))
                    .map(this::resolve);
            Optional<Path> kubeconfig = Optional.ofNullable(text(node, path, "kubeconfig", false, null, "",
                    "kubeconfig: /etc/dualdeploy/kubeconfig")).map(this::resolve);
            return new KubernetesSpec(Optional.ofNullable(context), namespace, deployment, container, manifests, kubeconfig);
        }

        private Path resolve(String path) {
            Path p = Path.of(path);
            return p.isAbsolute() || base == null ? p : base.resolve(p).normalize();
        }

        /** An http or https URL with a host, or empty (with a problem if it was required or is not such a URL). */
        Optional<URI> url(JsonNode node, String path, String key, boolean required, String example) {
            String text = text(node, path, key, required, null, "", example);
            if (text == null) {
                return Optional.empty();
            }
            if (isHttpUrl(text)) {
                return Optional.of(URI.create(text));
            }
            problem(join(path, key), "expected an http or https URL with a host", example);
            return Optional.empty();
        }

        /** Whether the text is an http or https URL with a host. */
        static boolean isHttpUrl(String text) {
            try {
                URI uri = new URI(text);
                return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
            } catch (URISyntaxException e) {
                return false;
            }
        }

        Duration duration(JsonNode node, String path, String key, Duration fallback) {
            JsonNode value = node.get(key);
            if (value == null || value.isNull()) {
                return fallback;
            }
            Optional<Duration> parsed = value.isTextual() ? Durations.parse(value.textValue()) : Optional.empty();
            if (parsed.isEmpty()) {
                problem(join(path, key), "'" + value.asText() + "' is not a duration; expected a positive number with"
                        + " ms, s, m or h, such as 90s or 1h30m", key + ": 10m");
                return fallback;
            }
            return parsed.get();
        }

        String text(JsonNode node, String path, String key, boolean required, Pattern pattern, String what,
                            String example) {
            JsonNode value = node.get(key);
            if (value == null || value.isNull()) {
                if (required) {
                    problem(join(path, key), "missing required key", example);
                }
                return null;
            }
            if (!value.isValueNode() || value.asText().isBlank()) {
                problem(join(path, key), "expected a non-empty string", example);
                return null;
            }
            String text = value.asText();
            if (pattern != null && !pattern.matcher(text).matches()) {
                problem(join(path, key), "'" + text + "' is not " + what, example);
                return null;
            }
            return text;
        }

        /** A number in [min, max] (or its default when absent); a problem and the default otherwise. */
        double number(JsonNode node, String path, String key, double fallback, double min, double max, String example) {
            JsonNode value = node.get(key);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isNumber() || !(value.doubleValue() >= min && value.doubleValue() <= max)) {
                problem(join(path, key), "'" + value.asText() + "' is not a number from " + plain(min) + " to " + plain(max), example);
                return fallback;
            }
            return value.doubleValue();
        }

        /** A whole number of at least min (or its default when absent); a problem and the default otherwise. */
        long integer(JsonNode node, String path, String key, long fallback, long min, String example) {
            JsonNode value = node.get(key);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isIntegralNumber() || value.longValue() < min) {
                problem(join(path, key), "'" + value.asText() + "' is not a whole number of at least " + min, example);
                return fallback;
            }
            return value.longValue();
        }

        private static String plain(double value) {
            return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : Double.toString(value);
        }

        boolean expectObject(JsonNode node, String path, String example) {
            if (node != null && node.isObject()) {
                return true;
            }
            problem(path, "expected a mapping of keys to values", example);
            return false;
        }

        void allowOnly(JsonNode node, String path, Set<String> keys) {
            for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
                String key = names.next();
                if (!keys.contains(key)) {
                    problem(join(path, key), "unknown key; expected one of " + keys.stream().sorted().toList(), "");
                }
            }
        }

        void problem(String path, String what, String example) {
            problems.add(new ConfigProblem(file, path, what, example));
        }

        static String join(String path, String key) {
            return path.isEmpty() ? key : path + "." + key;
        }
    }
}
