package dev.dualdeploy.release;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.CredentialFile;
import dev.dualdeploy.text.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * Registry credentials from a Docker {@code config.json} ({@code $DOCKER_CONFIG/config.json}, else
 * {@code ~/.docker/config.json}): the {@code auths} entries with an {@code auth} (base64 of user:password) or
 * {@code username}/{@code password}. Credential helpers and stores ({@code credsStore}, {@code credHelpers}) are not
 * run; a registry that needs one must have its entry in {@code auths}.
 */
public final class RegistryCredentials {

    /** A user name and password for one registry; {@link #toString()} never shows the password. */
    public record Basic(String username, String password) {

        /** The value of an {@code Authorization: Basic …} header. */
        public String header() {
            return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return "Basic[" + username + ", ****]";
        }
    }

    private final JsonNode auths;
    private final Path file;

    private RegistryCredentials(JsonNode auths, Path file) {
        this.auths = auths;
        this.file = file;
    }

    /** No credentials: every registry is asked anonymously. */
    public static RegistryCredentials none() {
        return new RegistryCredentials(new ObjectMapper().createObjectNode(), Path.of("none"));
    }

    /**
     * Reads the Docker config of this environment; a missing file means no credentials.
     *
     * @throws ConfigException if the file exists but is not valid JSON
     */
    public static RegistryCredentials fromEnvironment(Map<String, String> env) {
        Path dir = Optional.ofNullable(env.get("DOCKER_CONFIG")).map(Path::of)
                .orElse(Path.of(System.getProperty("user.home"), ".docker"));
        return fromFile(dir.resolve("config.json"));
    }

    /**
     * Reads a Docker config file (at most {@link CredentialFile#MAX_BYTES}); a missing file means no credentials.
     *
     * @throws ConfigException if the file is too large, unreadable or not a JSON object; the problem names the file
     *                         and the line only, never the content, which holds credentials
     */
    public static RegistryCredentials fromFile(Path file) {
        if (!Files.exists(file)) {
            return none();
        }
        byte[] bytes = CredentialFile.read(file, "Docker config");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(bytes);
        } catch (JsonProcessingException e) {
            throw CredentialFile.unparseable(file, "Docker config", "JSON", e);
        } catch (IOException | RuntimeException e) {
            throw CredentialFile.problem(file, "", "the Docker config is not valid JSON (" + e.getClass().getSimpleName() + ")", "");
        }
        if (root == null || !root.isObject() || !(root.path("auths").isObject() || root.path("auths").isMissingNode())) {
            throw CredentialFile.problem(file, root != null && root.isObject() ? "auths" : "",
                    "not a Docker config: expected a JSON object with an \"auths\" object", "{\"auths\": {\"registry.example.com\": {\"auth\": \"...\"}}}");
        }
        return new RegistryCredentials(root.path("auths"), file);
    }

    /**
     * The credentials for a registry host (with port, if any), or empty.
     *
     * @throws ConfigException if the entry's {@code auth} is not base64; the value is never shown
     */
    public Optional<Basic> forRegistry(String host) {
        for (Iterator<Map.Entry<String, JsonNode>> entries = auths.fields(); entries.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = entries.next();
            if (!host.equals(hostOf(entry.getKey()))) {
                continue;
            }
            JsonNode value = entry.getValue();
            if (value.hasNonNull("auth")) {
                String decoded;
                try {
                    decoded = new String(Base64.getDecoder().decode(value.get("auth").asText().strip()), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    // The decoder's message quotes the offending character of the secret: only the key is named.
                    throw CredentialFile.problem(file, "auths[" + entry.getKey() + "].auth",
                            "is not base64 of user:password (the value is not shown)", "\"auth\": \"dXNlcjpwYXNzd29yZA==\"");
                }
                int colon = decoded.indexOf(':');
                Secrets.register(value.get("auth").asText());
                if (colon > 0) {
                    Secrets.register(decoded.substring(colon + 1));
                    return Optional.of(new Basic(decoded.substring(0, colon), decoded.substring(colon + 1)));
                }
            }
            if (value.hasNonNull("username") && value.hasNonNull("password")) {
                Secrets.register(value.get("password").asText());
                return Optional.of(new Basic(value.get("username").asText(), value.get("password").asText()));
            }
        }
        return Optional.empty();
    }

    /** {@code https://registry.example.com/v1/} and {@code registry.example.com} both name {@code registry.example.com}. */
    private static String hostOf(String key) {
        String host = key.replaceFirst("^[a-z]+://", "");
        int slash = host.indexOf('/');
        return slash < 0 ? host : host.substring(0, slash);
    }
}
