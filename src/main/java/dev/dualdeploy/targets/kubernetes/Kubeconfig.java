package dev.dualdeploy.targets.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.CredentialFile;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.text.Secrets;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The kubeconfig files a Kubernetes side uses, read once, bounded ({@link CredentialFile#MAX_BYTES}) and checked
 * before the Kubernetes client sees them: that each is YAML, that the named context exists (the client would
 * otherwise silently use the current context, which may be another cluster), and that the certificate data of that
 * context's cluster and user decodes. Every problem names the file and a line or key path, never the content, since a
 * kubeconfig holds tokens and keys. Both {@code connect} and {@code validate} go through here.
 */
public final class Kubeconfig {

    /** The certificate fields checked, by section; their values are base64 PEM. */
    private static final List<String> CLUSTER_DATA = List.of("certificate-authority-data");
    private static final List<String> USER_DATA = List.of("client-certificate-data", "client-key-data");

    private final List<Path> files;
    private final List<JsonNode> roots;

    private Kubeconfig(List<Path> files, List<JsonNode> roots) {
        this.files = List.copyOf(files);
        this.roots = List.copyOf(roots);
    }

    /**
     * The kubeconfig files for a spec, in the Kubernetes client's order: the spec's {@code kubeconfig}; else every
     * entry of {@code KUBECONFIG}; else {@code ~/.kube/config} if it exists; else none (the in-cluster service account).
     */
    public static List<Path> locate(KubernetesSpec spec, Map<String, String> env, Path home) {
        if (spec.kubeconfig().isPresent()) {
            return List.of(spec.kubeconfig().get());
        }
        String variable = env.getOrDefault("KUBECONFIG", "");
        List<Path> listed = new ArrayList<>();
        for (String entry : variable.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                listed.add(Path.of(entry));
            }
        }
        if (!listed.isEmpty()) {
            return listed;
        }
        Path standard = home.resolve(".kube").resolve("config");
        return Files.exists(standard) ? List.of(standard) : List.of();
    }

    /**
     * Reads and parses the files; a listed file that does not exist is skipped, as the client does for
     * {@code KUBECONFIG} entries, unless it is the only one.
     *
     * @throws ConfigException if a file is too large, unreadable, not YAML or not a kubeconfig
     */
    public static Kubeconfig read(List<Path> files) {
        List<Path> present = new ArrayList<>();
        List<JsonNode> roots = new ArrayList<>();
        for (Path file : files) {
            if (files.size() > 1 && !Files.exists(file)) {
                continue;
            }
            present.add(file);
            roots.add(parse(file, CredentialFile.read(file, "kubeconfig")));
        }
        return new Kubeconfig(present, roots);
    }

    private static JsonNode parse(Path file, byte[] bytes) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(new ByteArrayInputStream(bytes));
        } catch (JsonProcessingException e) {
            throw CredentialFile.unparseable(file, "kubeconfig", "YAML", e);
        } catch (IOException | RuntimeException e) {
            // Not a parse error with a location (a parser limit, an encoding fault): still no content in the message.
            throw CredentialFile.problem(file, "", "the kubeconfig is not valid YAML (" + e.getClass().getSimpleName() + ")", "");
        }
        if (root == null || root.isMissingNode() || !root.isObject()) {
            throw CredentialFile.problem(file, "", "not a kubeconfig: expected a YAML mapping with clusters, contexts and users",
                    "apiVersion: v1, kind: Config, clusters: [...], contexts: [...], users: [...]");
        }
        for (String section : List.of("clusters", "contexts", "users")) {
            JsonNode list = root.path(section);
            if (!list.isMissingNode() && !list.isNull() && !list.isArray()) {
                throw CredentialFile.problem(file, section, "not a kubeconfig: expected a list", section + ": [{name: ..., ...}]");
            }
        }
        registerSecrets(root);
        return root;
    }

    /** The secret values of every user (whichever context is used), for {@link Secrets#redact}. */
    private static void registerSecrets(JsonNode root) {
        for (JsonNode user : root.path("users")) {
            JsonNode fields = user.path("user");
            for (String field : List.of("token", "password", "client-key-data")) {
                if (fields.path(field).isTextual()) {
                    Secrets.register(fields.path(field).asText());
                }
            }
            if (fields.path("client-key-data").isTextual()) {
                try {
                    Secrets.register(new String(Base64.getMimeDecoder().decode(fields.path("client-key-data").asText()), StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    // Not base64: checkData says so for the context in use; the raw value is registered above.
                }
            }
            // An auth provider's tokens and client secret; not its other settings (a command, an issuer URL), which are no
            // secret and would mask ordinary words.
            fields.path("auth-provider").path("config").fields().forEachRemaining(e -> {
                if (e.getKey().contains("token") || e.getKey().contains("secret")) {
                    Secrets.register(e.getValue().asText());
                }
            });
        }
    }

    /** The files read, in order. */
    public List<Path> files() {
        return files;
    }

    /** Every context name, in file order. */
    public Set<String> contexts() {
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode root : roots) {
            root.path("contexts").forEach(c -> names.add(c.path("name").asText("")));
        }
        names.remove("");
        return names;
    }

    /** The first {@code current-context} set, or empty. */
    public Optional<String> currentContext() {
        return roots.stream().map(r -> r.path("current-context").asText("")).filter(s -> !s.isEmpty()).findFirst();
    }

    /**
     * Checks the context a spec asks for (or the current context) exists and its certificate data decodes.
     *
     * @return the context that will be used, or empty if none is named and none is current
     * @throws ConfigException naming the file and the context or user, never a value
     */
    public Optional<String> check(Optional<String> requested) {
        Optional<String> context = requested.or(this::currentContext);
        if (context.isEmpty()) {
            return context;
        }
        String name = context.get();
        if (!contexts().contains(name)) {
            String which = requested.isPresent() ? "has no context '" + name + "'" : "names current-context '" + name + "', which it does not define";
            throw new ConfigException(new ConfigProblem(describeFiles(), "contexts", which + " (contexts: "
                    + (contexts().isEmpty() ? "none" : String.join(", ", contexts())) + ")",
                    contexts().stream().findFirst().map(c -> "context: " + c).orElse("")));
        }
        JsonNode entry = find("contexts", name).orElseThrow().path("context");
        String cluster = entry.path("cluster").asText("");
        String user = entry.path("user").asText("");
        find("clusters", cluster).ifPresent(c -> checkData(c.path("cluster"), "clusters", cluster, CLUSTER_DATA, name));
        find("users", user).ifPresent(u -> checkData(u.path("user"), "users", user, USER_DATA, name));
        return context;
    }

    /**
     * The client configuration for a spec: {@link #check} the context, let fabric8 read the same files (the spec's
     * file, or {@code KUBECONFIG} / {@code ~/.kube/config} through its auto-configuration), then {@link #checkTls}.
     * Reads only local files.
     *
     * @throws ConfigException for a missing context or certificate data that cannot be loaded
     * @throws dev.dualdeploy.targets.TargetException if fabric8 cannot use the files for another reason
     */
    Config clientConfig(KubernetesSpec spec) {
        String context = check(spec.context()).orElse(null);
        Config config = spec.kubeconfig().isPresent()
                ? fabric8(() -> Config.fromKubeconfig(context, files.get(0).toFile()))
                : fabric8(() -> Config.autoConfigure(context));
        checkTls(config, context);
        return config;
    }

    /**
     * Runs a fabric8 step that reads the kubeconfig or builds TLS from it. Its exceptions can quote the file (a YAML
     * snippet, a PEM line), so only the exception's type is kept, and never the exception as a cause.
     */
    static <T> T fabric8(Supplier<T> step) {
        try {
            return step.get();
        } catch (RuntimeException e) {
            throw new TargetException("cannot create a Kubernetes client from the kubeconfig ("
                    + e.getClass().getSimpleName() + "; the details are not shown, as they may quote credentials)");
        }
    }

    /**
     * Loads the TLS material the client will use (the cluster's CA, the user's certificate and key, inline or as
     * files), so that a key that decodes but cannot be loaded is bad input now, not a fault at the first request.
     *
     * @param context the context in use, or null for the current one
     * @throws ConfigException naming the file and the cluster or user, never the data
     */
    void checkTls(Config config, String context) {
        String name = context != null ? context : currentContext().orElse("");
        JsonNode entry = find("contexts", name).map(c -> c.path("context")).orElse(null);
        String cluster = entry == null ? "" : entry.path("cluster").asText("");
        String user = entry == null ? "" : entry.path("user").asText("");
        try {
            SSLUtils.trustManagers(config);
        } catch (Exception | LinkageError e) {
            throw tlsProblem("clusters", cluster, "certificate authority", name, e);
        }
        try {
            SSLUtils.keyManagers(config);
        } catch (Exception | LinkageError e) {
            throw tlsProblem("users", user, "client certificate and key", name, e);
        }
    }

    private ConfigException tlsProblem(String section, String entry, String what, String context, Throwable e) {
        // Only the exception's type: a parser's message can quote the data.
        return new ConfigException(new ConfigProblem(fileDefining(section, entry), section + "[" + entry + "]",
                "the " + what + " of context '" + context + "' cannot be loaded (" + e.getClass().getSimpleName()
                        + "; the data is not shown)", ""));
    }

    private Optional<JsonNode> find(String section, String name) {
        for (JsonNode root : roots) {
            for (JsonNode entry : root.path(section)) {
                if (name.equals(entry.path("name").asText(null))) {
                    return Optional.of(entry);
                }
            }
        }
        return Optional.empty();
    }

    private void checkData(JsonNode section, String kind, String entryName, List<String> fields, String context) {
        for (String field : fields) {
            JsonNode value = section.path(field);
            if (value.isMissingNode() || value.isNull()) {
                continue;
            }
            if (!value.isTextual() || !validPem(value.asText(), field.startsWith("client-key"))) {
                throw new ConfigException(new ConfigProblem(fileDefining(kind, entryName), kind + "[" + entryName + "]." + field,
                        "is not base64-encoded PEM " + (field.startsWith("client-key") ? "key" : "certificate")
                                + " data (used by context '" + context + "'; the value is not shown)",
                        field + ": LS0tLS1CRUdJTi... (base64 of the PEM file)"));
            }
        }
    }

    /** Whether the value is base64 of PEM: a private key block, or certificates a certificate factory accepts. */
    static boolean validPem(String base64, boolean key) {
        byte[] decoded;
        try {
            decoded = Base64.getMimeDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            return false;
        }
        String text = new String(decoded, StandardCharsets.US_ASCII);
        if (key) {
            return text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") && text.contains("-----END");
        }
        try {
            return !CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(decoded)).isEmpty();
        } catch (CertificateException | RuntimeException e) {
            return false;
        }
    }

    private String fileDefining(String section, String name) {
        for (int i = 0; i < roots.size(); i++) {
            for (JsonNode entry : roots.get(i).path(section)) {
                if (name.equals(entry.path("name").asText(null))) {
                    return files.get(i).toString();
                }
            }
        }
        return describeFiles();
    }

    private static String kubeconfig(List<Path> files) {
        return String.join(File.pathSeparator, files.stream().map(Path::toString).toList());
    }

    private String describeFiles() {
        return files.isEmpty() ? "kubeconfig" : String.join(File.pathSeparator, files.stream().map(Path::toString).toList());
    }

    /**
     * The checks {@code validate} runs after the config loaded, without any network call: for every stage with a
     * Kubernetes side whose kubeconfig can be found and read now, the file parses and names the context. A kubeconfig
     * that does not exist yet (bound only when the deploy runs) is left to {@code connect}.
     *
     * @param configFile the config file, for problems about its {@code context} key
     * @return every problem found; empty if none
     */
    public static List<ConfigProblem> validate(DualDeploySpec config, Path configFile, Map<String, String> env, Path home) {
        List<ConfigProblem> problems = new ArrayList<>();
        List<StageSpec> stages = config.stages();
        for (int i = 0; i < stages.size(); i++) {
            Optional<KubernetesSpec> spec = stages.get(i).kubernetes();
            if (spec.isEmpty()) {
                continue;
            }
            List<Path> files = locate(spec.get(), env, home);
            if (files.isEmpty() || files.stream().noneMatch(Files::exists)) {
                continue;
            }
            try {
                Kubeconfig kubeconfig = read(files);
                Optional<String> context = spec.get().context();
                if (context.isPresent() && !kubeconfig.contexts().contains(context.get())) {
                    problems.add(new ConfigProblem(configFile.toString(), "stages[" + i + "].kubernetes.context",
                            "'" + context.get() + "' is not a context of " + kubeconfig.describeFiles() + " (contexts: "
                                    + (kubeconfig.contexts().isEmpty() ? "none" : String.join(", ", kubeconfig.contexts())) + ")",
                            kubeconfig.contexts().stream().findFirst().map(c -> "context: " + c).orElse("")));
                    continue;
                }
                kubeconfig.clientConfig(spec.get());
            } catch (ConfigException e) {
                e.problems().stream().filter(p -> !problems.contains(p)).forEach(problems::add);
            } catch (TargetException e) {
                problems.add(new ConfigProblem(kubeconfig(files), "", e.getMessage(), ""));
            }
        }
        return problems;
    }
}
