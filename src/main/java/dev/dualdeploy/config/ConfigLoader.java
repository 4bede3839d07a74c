package dev.dualdeploy.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.dualdeploy.release.ImageRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.DocumentStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;

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
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    /** The variables the Jenkins step binds for dualdeploy itself; no config may name them (see envName). */
    private static final Set<String> RESERVED_ENV = Set.of("KUBECONFIG", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN");
    private static final List<String> RESERVED_ENV_PREFIXES = List.of("AWS_", "DD_", "DUALDEPLOY_");
    private static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
    /** The longest branch glob, as long as a Git branch name is in practice. */
    static final int MAX_GLOB = 255;
    /** A stage's rollout timeout: long enough for any rollout, short enough that a deadline never overflows. */
    static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);
    static final Duration MAX_TIMEOUT = Duration.ofHours(24);

    /*
     * The bounds of the input (README, "Config reference"). A config file is a few kilobytes; these are far beyond
     * that and far below what would exhaust the JVM or take seconds to parse (issue 8 item 11: -f /dev/zero ran out of
     * memory after 20 s, an 8 MB line took 28 s).
     */
    /** The largest config file read, in bytes. */
    public static final int MAX_BYTES = 1024 * 1024;
    /** The longest line of a config file, in characters. */
    public static final int MAX_LINE = 16 * 1024;
    /** The deepest nesting of mappings and lists; the documented shape is six levels deep. */
    public static final int MAX_DEPTH = 32;
    /** The largest {@code --override}, in characters. */
    public static final int MAX_OVERRIDE = 64 * 1024;

    private static final StreamReadConstraints CONSTRAINTS = StreamReadConstraints.builder()
            .maxNestingDepth(MAX_DEPTH).maxDocumentLength(MAX_BYTES).maxStringLength(MAX_LINE).maxNameLength(MAX_LINE)
            .maxNumberLength(100).build();

    // Configured once and only read afterwards, so shared: building them costs more than parsing a config file.
    private static final ObjectMapper yaml = new ObjectMapper(YAMLFactory.builder().loaderOptions(loaderOptions())
            .streamReadConstraints(CONSTRAINTS).build().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION));
    private static final ObjectMapper json = JsonMapper.builder(JsonFactory.builder().streamReadConstraints(CONSTRAINTS).build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private final boolean allowOutsideManifests;

    /** A loader that keeps {@code manifests:} inside the config file's directory. */
    public ConfigLoader() {
        this(false);
    }

    /**
     * A loader.
     *
     * @param allowOutsideManifests whether {@code manifests:} may be absolute or lead out of the config file's
     *                              directory; only for configs from trusted branches (the CLI's
     *                              {@code --allow-outside-manifests})
     */
    public ConfigLoader(boolean allowOutsideManifests) {
        this.allowOutsideManifests = allowOutsideManifests;
    }

    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_BYTES);
        options.setNestingDepthLimit(MAX_DEPTH);
        options.setMaxAliasesForCollections(0);
        options.setAllowRecursiveKeys(false);
        return options;
    }

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
        String text = decode(name, read(name, file));
        Path base = file.toAbsolutePath().getParent();
        return parse(name, text, base, override);
    }

    /**
     * The file's bytes, at most {@link #MAX_BYTES}. Only a regular file is opened: a FIFO would block the open, and
     * a device such as /dev/zero never ends.
     */
    private static byte[] read(String name, Path file) {
        if (!Files.exists(file)) {
            throw new ConfigException(new ConfigProblem(name, "", "file not found", "dualdeploy validate -f dualdeploy.yaml"));
        }
        if (Files.isDirectory(file)) {
            throw new ConfigException(new ConfigProblem(name, "", "is a directory; expected a YAML file", "-f dualdeploy.yaml"));
        }
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(new ConfigProblem(name, "", "is not a regular file (a device, FIFO or socket);"
                    + " expected a YAML file", "-f dualdeploy.yaml"));
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw new ConfigException(new ConfigProblem(name, "", "cannot read the file (" + e.getClass().getSimpleName() + ")", ""));
        }
        if (bytes.length > MAX_BYTES) {
            throw new ConfigException(new ConfigProblem(name, "", "the file is larger than " + MAX_BYTES / 1024
                    + " KiB; a config file is a few kilobytes", ""));
        }
        return bytes;
    }

    /** The bytes as UTF-8 text; a problem naming the first byte that is not UTF-8 otherwise. */
    private static String decode(String name, byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw new ConfigException(new ConfigProblem(name, "", "not UTF-8 text at byte " + in.position()
                    + " (counting from 0); save the file as UTF-8", ""));
        }
        decoder.flush(out);
        return out.flip().toString();
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
        bounds(name, text);
        JsonNode root = tree(name, text);
        root = root == null || root.isMissingNode() ? yaml.createObjectNode() : root;
        if (override != null && !override.isBlank()) {
            root = merge(root, override(override));
            name = name + " (with the step's parameters)";
        }
        Reader reader = new Reader(name, base, allowOutsideManifests);
        DualDeploySpec spec = reader.root(root);
        if (!reader.problems.isEmpty()) {
            throw new ConfigException(reader.problems);
        }
        return spec;
    }

    /** The size and line-length bounds, checked before the parser sees the text. */
    private static void bounds(String name, String text) {
        if (text.length() > MAX_BYTES) {
            throw new ConfigException(new ConfigProblem(name, "", "the file is larger than " + MAX_BYTES / 1024
                    + " KiB; a config file is a few kilobytes", ""));
        }
        int line = 1;
        int start = 0;
        for (int i = 0; i <= text.length(); i++) {
            if (i == text.length() || text.charAt(i) == '\n') {
                if (i - start > MAX_LINE) {
                    throw new ConfigException(new ConfigProblem(name, "line " + line, "the line is longer than " + MAX_LINE
                            + " characters", ""));
                }
                line++;
                start = i + 1;
            }
        }
    }

    /**
     * The one YAML document in the text. Aliases and anchors are refused rather than resolved: the parser would hand
     * an alias over as its anchor's name (image: *svc deployed the image "svc"), and a config file that needs them is
     * clearer written out. A second document is refused, not ignored (issue 8 item 10).
     */
    private JsonNode tree(String name, String text) {
        List<ConfigProblem> problems = new ArrayList<>();
        try {
            // SnakeYAML's events, not Jackson's tokens: Jackson drops the anchor of a scalar.
            int documents = 0;
            int depth = 0;
            for (Event event : new Yaml(loaderOptions()).parse(new StringReader(text))) {
                String line = "line " + (event.getStartMark().getLine() + 1);
                if (event instanceof CollectionStartEvent && ++depth > MAX_DEPTH) {
                    // Stop here: SnakeYAML's scanner slows down with every level of flow nesting still open.
                    problems.add(new ConfigProblem(name, line, "nested deeper than " + MAX_DEPTH + " levels", ""));
                    break;
                } else if (event instanceof CollectionEndEvent) {
                    depth--;
                }
                if (event instanceof AliasEvent) {
                    problems.add(new ConfigProblem(name, line, "a YAML alias (*name); aliases and anchors are not"
                            + " supported, write the value out", ""));
                } else if (event instanceof NodeEvent node && node.getAnchor() != null) {
                    problems.add(new ConfigProblem(name, line, "a YAML anchor (&name); aliases and anchors are not"
                            + " supported, write the value out", ""));
                } else if (event instanceof DocumentStartEvent && ++documents == 2) {
                    problems.add(new ConfigProblem(name, line, "a second YAML document (after ---); a config file is"
                            + " one document", ""));
                }
            }
        } catch (MarkedYAMLException e) {
            String where = e.getProblemMark() == null ? ""
                    : "line " + (e.getProblemMark().getLine() + 1) + ", column " + (e.getProblemMark().getColumn() + 1);
            throw new ConfigException(new ConfigProblem(name, where, "not valid YAML: " + firstLine(String.valueOf(e.getProblem())), ""));
        } catch (RuntimeException e) {
            // The parser's own failures (SnakeYAML throws unchecked exceptions) are bad input too, never a bug.
            throw new ConfigException(new ConfigProblem(name, "", "not valid YAML (" + e.getClass().getSimpleName() + ")", ""));
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        try {
            return yaml.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(new ConfigProblem(name, where(e), what(e), ""));
        } catch (RuntimeException e) {
            throw new ConfigException(new ConfigProblem(name, "", "not valid YAML (" + e.getClass().getSimpleName() + ")", ""));
        }
    }

    /** Where a parse error is, as {@code line L, column C}; the parser's snippet of the file is never shown. */
    private static String where(JsonProcessingException e) {
        if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
            return "line " + (marked.getProblemMark().getLine() + 1) + ", column " + (marked.getProblemMark().getColumn() + 1);
        }
        JsonLocation location = e.getLocation();
        return location == null || location.getLineNr() < 1 ? "" : "line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    /**
     * What a parse error is, in one line: the parser's short problem (such as "mapping values are not allowed
     * here"), never its multi-line dump with the offending text.
     */
    private static String what(JsonProcessingException e) {
        if (e instanceof StreamConstraintsException) {
            return e.getOriginalMessage().contains("nesting depth") ? "nested deeper than " + MAX_DEPTH + " levels"
                    : "a value, a key or the document is longer than the limits (" + MAX_LINE + " characters a value)";
        }
        String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (original.startsWith("Duplicate field")) {
            return firstLine(original).replace("Duplicate field", "duplicate key");
        }
        if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblem() != null) {
            return "not valid YAML: " + firstLine(marked.getProblem());
        }
        if (e.getCause() instanceof YAMLException yamlException && yamlException.getMessage() != null) {
            return "not valid YAML: " + firstLine(yamlException.getMessage());
        }
        return "not valid YAML: " + firstLine(original);
    }

    private static String firstLine(String message) {
        int end = message.indexOf('\n');
        return (end < 0 ? message : message.substring(0, end)).strip();
    }

    /** The {@code --override} JSON object; one problem naming it, with where it is invalid, otherwise. */
    private JsonNode override(String override) {
        String name = "--override";
        String example = "{\"service\": \"loan-api\"}";
        if (override.length() > MAX_OVERRIDE) {
            throw new ConfigException(new ConfigProblem(name, "", "the override is longer than " + MAX_OVERRIDE / 1024
                    + " KiB; expected a JSON object of config keys", example));
        }
        JsonNode node;
        try {
            node = json.readTree(override);
        } catch (JsonProcessingException e) {
            // Jackson's message quotes the override's text; the location is enough to find the mistake.
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            String what = e instanceof StreamConstraintsException ? "nested too deeply or too long"
                    : e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field") ? "a duplicate key"
                    : "not valid JSON";
            throw new ConfigException(new ConfigProblem(name, "", what + where + "; expected a JSON object of config keys", example));
        }
        if (node == null || !node.isObject()) {
            throw new ConfigException(new ConfigProblem(name, "", "expected a JSON object of config keys, not "
                    + (node == null || node.isMissingNode() ? "nothing" : node.getNodeType().toString().toLowerCase(Locale.ROOT)), example));
        }
        return node;
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
        private final boolean allowOutsideManifests;
        private final List<ConfigProblem> problems = new ArrayList<>();

        Reader(String file, Path base, boolean allowOutsideManifests) {
            this.file = file;
            this.base = base;
            this.allowOutsideManifests = allowOutsideManifests;
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
                    if (stage != null && stage.name() != null && !names.add(stage.name())) {
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
            allowOnly(node, path, Set.of("name", "deploy", "legacy", "kubernetes", "timeout", "gate", "approval", "cutover"));
            String name = text(node, path, "name", true, STAGE_NAME, "a lower-case name of letters, digits and -",
                    "name: preprod");
            Optional<LegacySpec> legacy = Optional.ofNullable(node.get("legacy")).filter(n -> !n.isNull())
                    .map(n -> legacy(n, path + ".legacy"));
            Optional<KubernetesSpec> kubernetes = Optional.ofNullable(node.get("kubernetes")).filter(n -> !n.isNull())
                    .map(n -> kubernetes(n, path + ".kubernetes"));
            boolean hasLegacy = present(node, "legacy");
            boolean hasKubernetes = present(node, "kubernetes");
            if (!hasLegacy && !hasKubernetes) {
                problem(path, "a stage needs at least one side: legacy or kubernetes",
                        "kubernetes: {namespace: loan, deployment: loan-api, container: app}");
            }
            ToggleSpec toggle = toggle(node.get("deploy"), path + ".deploy", hasLegacy, hasKubernetes);
            Duration timeout = duration(node, path, "timeout", DEFAULT_TIMEOUT, MIN_TIMEOUT, MAX_TIMEOUT);
            GateSpec gate = GateReader.gate(this, node.get("gate"), path + ".gate", hasLegacy, hasKubernetes);
            Optional<ApprovalSpec> approval = approval(node.get("approval"), path + ".approval");
            Optional<CutoverSpec> cutover = CutoverReader.cutover(this, node.get("cutover"), path + ".cutover", hasLegacy, hasKubernetes);
            return new StageSpec(name, toggle, legacy, kubernetes, timeout, gate, approval, cutover);
        }

        /** A stage's {@code approval:}, asked before the stage deploys; empty if the stage has none. */
        private Optional<ApprovalSpec> approval(JsonNode node, String path) {
            if (node == null || node.isNull() || !expectObject(node, path, "approval: { submitter: sre, timeout: 24h }")) {
                return Optional.empty();
            }
            allowOnly(node, path, Set.of("submitter", "timeout"));
            String submitter = text(node, path, "submitter", true, null, "", "submitter: sre,release-managers");
            List<String> submitters = submitter == null ? List.of() : List.of(submitter.trim().split("\\s*,\\s*"));
            Duration timeout = duration(node, path, "timeout", ApprovalSpec.DEFAULT_TIMEOUT, ApprovalSpec.MIN_TIMEOUT, ApprovalSpec.MAX_TIMEOUT);
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
            // Only the stages whose name is valid: an invalid one is reported at its own path (issue 8 item 13).
            List<String> known = stages.stream().filter(s -> s != null && s.name() != null).map(StageSpec::name).distinct().toList();
            for (Iterator<Map.Entry<String, JsonNode>> entries = node.fields(); entries.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = entries.next();
                String path = "branches." + entry.getKey();
                JsonNode chain = entry.getValue();
                if (entry.getKey().length() > MAX_GLOB) {
                    problem(path, "a branch glob is at most " + MAX_GLOB + " characters", "'release/*': [sandbox]");
                    continue;
                }
                if (!chain.isArray()) {
                    problem(path, "expected a list of stage names in promotion order", entry.getKey() + ": [sandbox, preprod]");
                    continue;
                }
                List<String> names = new ArrayList<>();
                for (int i = 0; i < chain.size(); i++) {
                    String name = chain.get(i).isTextual() ? chain.get(i).textValue() : chain.get(i).toString();
                    if (!known.contains(name)) {
                        problem(path + "[" + i + "]", "'" + name + "' is not a stage in this file; stages are " + known,
                                entry.getKey() + ": [sandbox]");
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
            boolean ecs = present(node, "ecs");
            boolean vm = present(node, "vm");
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
            return ecs(node.get("ecs"), path + ".ecs");
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
            Duration poll = duration(node, path, "poll", EcsSpec.DEFAULT_POLL, EcsSpec.MIN_POLL, EcsSpec.MAX_POLL);
            return new EcsSpec(cluster, service, container, region, endpoint, poll);
        }

        private KubernetesSpec kubernetes(JsonNode node, String path) {
            if (!expectObject(node, path, "kubernetes: {namespace: loan, deployment: loan-api, container: app}")) {
                return null;
            }
            allowOnly(node, path, Set.of("context", "namespace", "deployment", "container", "manifests", "kubeconfig",
                    "lease_duration"));
            String context = text(node, path, "context", false, null, "", "context: sandbox");
            String namespace = text(node, path, "namespace", true, DNS_LABEL, "a Kubernetes namespace name", "namespace: loan");
            String deployment = text(node, path, "deployment", true, DNS_SUBDOMAIN, "a Kubernetes object name",
                    "deployment: loan-api");
            String container = text(node, path, "container", true, DNS_LABEL, "a container name", "container: app");
            Optional<Path> manifests = Optional.ofNullable(text(node, path, "manifests", false, null, "", "manifests: deploy/k8s"))
                    .flatMap(text -> manifests(text, path + ".manifests"));
            Optional<Path> kubeconfig = Optional.ofNullable(text(node, path, "kubeconfig", false, null, "",
                    "kubeconfig: /etc/dualdeploy/kubeconfig")).flatMap(text -> path(text, path + ".kubeconfig",
                    "kubeconfig: /etc/dualdeploy/kubeconfig"));
            Duration leaseDuration = duration(node, path, "lease_duration", KubernetesSpec.DEFAULT_LEASE_DURATION,
                    KubernetesSpec.MIN_LEASE_DURATION, KubernetesSpec.MAX_LEASE_DURATION);
            return new KubernetesSpec(Optional.ofNullable(context), namespace, deployment, container, manifests, kubeconfig,
                    leaseDuration);
        }

        /** The path resolved against the config file's directory; a problem if it is not a path at all (a NUL). */
        Optional<Path> path(String text, String at, String example) {
            try {
                Path p = Path.of(text);
                return Optional.of(p.isAbsolute() || base == null ? p : base.resolve(p).normalize());
            } catch (InvalidPathException e) {
                problem(at, "'" + text + "' is not a file path", example);
                return Optional.empty();
            }
        }

        /**
         * The manifests path, inside the config file's directory: a config file comes from a branch, and a pull
         * request's config must not make the job apply (or read) files from elsewhere on the agent (issue 8 item 7).
         * Checked after normalising, and after resolving symbolic links where the path exists.
         */
        private Optional<Path> manifests(String text, String at) {
            String example = "manifests: deploy/k8s";
            Optional<Path> resolved = path(text, at, example);
            if (resolved.isEmpty() || allowOutsideManifests || base == null) {
                return resolved;
            }
            String fix = "; keep the manifests next to the config, or pass --allow-outside-manifests (trusted branches only)";
            Path dir = base.toAbsolutePath().normalize();
            if (Path.of(text).isAbsolute()) {
                problem(at, "an absolute path is outside the config file's directory" + fix, example);
                return Optional.empty();
            }
            if (!resolved.get().startsWith(dir)) {
                problem(at, "'" + text + "' leads out of the config file's directory" + fix, example);
                return Optional.empty();
            }
            if (Files.exists(resolved.get())) {
                try {
                    if (!resolved.get().toRealPath().startsWith(dir.toRealPath())) {
                        problem(at, "'" + text + "' is a symbolic link out of the config file's directory" + fix, example);
                        return Optional.empty();
                    }
                } catch (IOException e) {
                    problem(at, "cannot resolve '" + text + "' (" + e.getClass().getSimpleName() + ")", example);
                    return Optional.empty();
                }
            }
            return resolved;
        }

        /**
         * The name of an environment variable that holds a secret for the config, such as a Prometheus token. A
         * config file comes from a branch, so it must not name the variables the job binds for dualdeploy itself:
         * a pull request could send the AWS secret or the kubeconfig to a server of its choosing (issue 8 item 7).
         * Every {@code *_env} key goes through here.
         */
        String envName(JsonNode node, String path, String key, String example) {
            String name = text(node, path, key, false, ENV_NAME, "the name of an environment variable (the secret itself"
                    + " never goes in the file)", example);
            if (name == null) {
                return null;
            }
            String upper = name.toUpperCase(Locale.ROOT);
            boolean reserved = RESERVED_ENV.contains(upper) || RESERVED_ENV_PREFIXES.stream().anyMatch(upper::startsWith);
            if (reserved) {
                problem(join(path, key), "'" + name + "' is reserved for dualdeploy's own credentials (AWS_*, KUBECONFIG,"
                        + " DD_*, DUALDEPLOY_*); bind the secret to a variable of its own", example);
                return null;
            }
            return name;
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

        /**
         * A duration in [min, max] (or its default when absent or null); a problem and the default otherwise. The
         * bounds are not optional: every duration the engine adds, multiplies or waits for must fit, so that no value
         * overflows later (issue 8 item 9).
         */
        Duration duration(JsonNode node, String path, String key, Duration fallback, Duration min, Duration max) {
            JsonNode value = node.get(key);
            if (value == null || value.isNull()) {
                return fallback;
            }
            Optional<Duration> parsed = value.isTextual() ? Durations.parseAllowingZero(value.textValue()) : Optional.empty();
            if (parsed.isEmpty() || parsed.get().compareTo(min) < 0 || parsed.get().compareTo(max) > 0) {
                problem(join(path, key), "'" + value.asText() + "' is not a duration from " + Durations.format(min) + " to "
                        + Durations.format(max) + "; expected a number with ms, s, m or h, such as 90s or 1h30m",
                        key + ": " + Durations.format(fallback));
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
            if (value.isNumber() || value.isBoolean()) {
                // YAML reads 1.10 as the number 1.1 and 0x1F as 31: taken as text, the value would silently differ
                // from what the file says, so it must be quoted to be text.
                problem(join(path, key), "'" + value.asText() + "' is read as a " + (value.isNumber() ? "number" : "boolean")
                        + " in YAML, not as text; quote the value so it is read as written", example);
                return null;
            }
            String text = value.asText();
            if (text.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\t')) {
                // No name, URL or query has a use for them, and they would reach logs and platforms (issue 8 item 13).
                problem(join(path, key), "'" + text + "' contains control characters", example);
                return null;
            }
            if (pattern != null && !pattern.matcher(text).matches()) {
                problem(join(path, key), "'" + text + "' is not " + what, example);
                return null;
            }
            return text;
        }

        /** A finite number in [min, max] (or its default when absent or null); a problem and the default otherwise. */
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

        /**
         * A whole number in [min, max] (or its default when absent or null); a problem and the default otherwise. A
         * value beyond a long is out of range, never truncated.
         */
        long integer(JsonNode node, String path, String key, long fallback, long min, long max, String example) {
            JsonNode value = node.get(key);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
                problem(join(path, key), "'" + value.asText() + "' is not a whole number from " + min + " to " + max, example);
                return fallback;
            }
            return value.longValue();
        }

        private static String plain(double value) {
            return value == Math.rint(value) && Math.abs(value) <= 1e15 ? Long.toString((long) value) : Double.toString(value);
        }

        /**
         * Whether the key is there with a value: a key set to null is absent, everywhere, so that no part of the
         * engine sees a section that validation skipped (issue 8 item 14).
         */
        static boolean present(JsonNode node, String key) {
            JsonNode value = node.get(key);
            return value != null && !value.isNull();
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
