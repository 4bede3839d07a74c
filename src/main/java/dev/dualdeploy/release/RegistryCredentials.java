package dev.dualdeploy.release;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

    private RegistryCredentials(JsonNode auths) {
        this.auths = auths;
    }

    /** No credentials: every registry is asked anonymously. */
    public static RegistryCredentials none() {
        return new RegistryCredentials(new ObjectMapper().createObjectNode());
    }

    /**
     * Reads the Docker config of this environment; a missing file means no credentials.
     *
     * @throws RegistryException if the file exists but is not valid JSON
     */
    public static RegistryCredentials fromEnvironment(Map<String, String> env) {
        Path dir = Optional.ofNullable(env.get("DOCKER_CONFIG")).map(Path::of)
                .orElse(Path.of(System.getProperty("user.home"), ".docker"));
        return fromFile(dir.resolve("config.json"));
    }

    /** Reads a Docker config file; a missing file means no credentials. */
    public static RegistryCredentials fromFile(Path file) {
        if (!Files.isRegularFile(file)) {
            return none();
        }
        try {
            JsonNode root = new ObjectMapper().readTree(Files.readString(file));
            return new RegistryCredentials(root.path("auths"));
        } catch (IOException e) {
            throw new RegistryException("cannot read Docker config " + file + ": not valid JSON", e);
        }
    }

    /** The credentials for a registry host (with port, if any), or empty. */
    public Optional<Basic> forRegistry(String host) {
        for (Iterator<Map.Entry<String, JsonNode>> entries = auths.fields(); entries.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = entries.next();
            if (!host.equals(hostOf(entry.getKey()))) {
                continue;
            }
            JsonNode value = entry.getValue();
            if (value.hasNonNull("auth")) {
                String decoded = new String(Base64.getDecoder().decode(value.get("auth").asText()), StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                if (colon > 0) {
                    return Optional.of(new Basic(decoded.substring(0, colon), decoded.substring(colon + 1)));
                }
            }
            if (value.hasNonNull("username") && value.hasNonNull("password")) {
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
