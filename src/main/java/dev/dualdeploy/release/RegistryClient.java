package dev.dualdeploy.release;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dualdeploy.net.Faults;
import dev.dualdeploy.net.Timeouts;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves an image reference to the digest of its manifest through the OCI distribution API: {@code HEAD} (then
 * {@code GET} if the registry gives no digest header) on {@code /v2/<name>/manifests/<reference>}, accepting OCI and
 * Docker manifests and indexes. A multi-arch image resolves to the digest of its index, so every platform runs "the
 * same release". Authentication follows the registry's challenge: anonymous, Basic, or a Bearer token fetched from
 * the challenge's realm (with the Basic credentials, if any).
 *
 * <p>Registries are spoken to over HTTPS, except on loopback ({@code localhost}, {@code 127.0.0.1}, {@code [::1]}),
 * where plain HTTP is used, as Docker does for local registries.
 */
public final class RegistryClient {

    /** The manifest media types asked for, indexes first so a multi-arch image resolves to its index. */
    public static final String ACCEPT = String.join(", ",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]");
    /** As many redirects as Docker follows for one request. */
    private static final int MAX_REDIRECTS = 10;
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    /**
     * A resolved image.
     *
     * @param ref the reference as given
     * @param digest the manifest (or index) digest
     * @param mediaType the manifest's media type, such as {@code application/vnd.oci.image.index.v1+json}
     */
    public record Resolved(ImageRef ref, String digest, String mediaType) {

        /** The reference pinned to the resolved digest: {@code repository@sha256:…}. */
        public String pinned() {
            return ref.repository() + "@" + digest;
        }

        /** Whether the digest names a multi-platform index. */
        public boolean index() {
            return mediaType.contains("index") || mediaType.contains("manifest.list");
        }
    }

    private final HttpClient http;
    private final Duration readTimeout;
    private final RegistryCredentials credentials;
    private final ObjectMapper json = new ObjectMapper();

    /** A client with the connect and read timeouts of {@link Timeouts#current()}. */
    public RegistryClient(RegistryCredentials credentials) {
        this(credentials, Timeouts.current());
    }

    /** A client whose every request waits at most {@code timeouts.connect()} to connect and {@code timeouts.read()} for an answer. */
    public RegistryClient(RegistryCredentials credentials, Timeouts timeouts) {
        this.http = newHttpClient(timeouts);
        this.readTimeout = timeouts.read();
        this.credentials = credentials;
    }

    /**
     * The HTTP client. It never follows redirects itself: the JDK client would forward the Authorization header to
     * whatever host a registry redirects to, so {@link #request} follows them and drops credentials off their origin.
     */
    private static HttpClient newHttpClient(Timeouts timeouts) {
        return HttpClient.newBuilder().connectTimeout(timeouts.connect()).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * Resolves the reference's tag (or checks its digest exists) to a manifest digest.
     *
     * @throws RegistryException with {@code notFound} if the repository or tag does not exist, otherwise for a
     *                           registry that cannot be reached, refuses the credentials, or answers unexpectedly
     */
    public Resolved resolve(ImageRef ref) {
        Location location = Location.of(ref);
        String reference = ref.digest().orElse(ref.tag().orElse("latest"));
        URI manifest = URI.create(location.base() + "/v2/" + location.name() + "/manifests/" + reference);
        HttpResponse<byte[]> response = send(location, manifest, "HEAD");
        if (response.statusCode() == 200 && response.headers().firstValue("Docker-Content-Digest").isEmpty()) {
            response = send(location, manifest, "GET");
        }
        if (response.statusCode() == 404) {
            throw new RegistryException(ref + ": not found in " + location.host() + " (no such repository or "
                    + (ref.digest().isPresent() ? "digest" : "tag") + ")", true);
        }
        if (response.statusCode() != 200) {
            throw new RegistryException(ref + ": " + location.host() + " answered HTTP " + response.statusCode()
                    + " for the manifest", false);
        }
        Optional<String> header = response.headers().firstValue("Docker-Content-Digest");
        byte[] body = response.body();
        String digest;
        if (body != null && body.length > 0) {
            // With the manifest in hand, its digest is computed, and a registry that says otherwise is not trusted.
            digest = "sha256:" + sha256(body);
            if (header.isPresent() && !header.get().equals(digest)) {
                throw new RegistryException(ref + ": the registry's digest " + header.get()
                        + " does not match the manifest it served (" + digest + ")", false);
            }
        } else {
            digest = header.orElseThrow(() -> new RegistryException(ref + ": " + location.host()
                    + " sent neither a digest header nor the manifest", false));
        }
        if (ref.digest().isPresent() && !ref.digest().get().equals(digest)) {
            throw new RegistryException(ref + ": the registry returned digest " + digest + " for it", false);
        }
        String mediaType = response.headers().firstValue("Content-Type").orElse("");
        return new Resolved(ref, digest, mediaType);
    }

    private HttpResponse<byte[]> send(Location location, URI uri, String method) {
        HttpResponse<byte[]> response = request(uri, method, Optional.empty());
        if (response.statusCode() != 401) {
            return response;
        }
        String challenge = response.headers().firstValue("WWW-Authenticate").orElse("");
        Optional<RegistryCredentials.Basic> basic = credentials.forRegistry(location.host())
                .or(() -> location.host().equals("docker.io") ? credentials.forRegistry("index.docker.io") : Optional.empty());
        String authorization;
        if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
            authorization = basic.map(RegistryCredentials.Basic::header).orElseThrow(() -> new RegistryException(
                    location.host() + " requires credentials and none are configured for it in the Docker config", false));
        } else if (challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
            authorization = "Bearer " + token(location, challenge, basic);
        } else {
            throw new RegistryException(location.host() + " asked for an unsupported authentication: " + challenge, false);
        }
        response = request(uri, method, Optional.of(authorization));
        if (response.statusCode() == 401 || response.statusCode() == 403) {
            throw new RegistryException(location.host() + " refused the credentials for " + location.name()
                    + " (HTTP " + response.statusCode() + ")", false);
        }
        return response;
    }

    private String token(Location location, String challenge, Optional<RegistryCredentials.Basic> basic) {
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1), m.group(2));
        }
        String realm = params.get("realm");
        if (realm == null) {
            throw new RegistryException(location.host() + " sent a Bearer challenge without a realm", false);
        }
        StringBuilder query = new StringBuilder();
        if (params.containsKey("service")) {
            query.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
        }
        String scope = params.getOrDefault("scope", "repository:" + location.name() + ":pull");
        query.append(query.length() > 0 ? "&" : "").append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        URI uri = URI.create(realm + (realm.contains("?") ? "&" : "?") + query);
        HttpResponse<byte[]> response = request(uri, "GET", basic.map(RegistryCredentials.Basic::header));
        if (response.statusCode() != 200) {
            throw new RegistryException("the token service of " + location.host() + " answered HTTP " + response.statusCode()
                    + (basic.isEmpty() ? " (no credentials are configured for this registry)" : " (the credentials were refused)"), false);
        }
        try {
            JsonNode body = json.readTree(response.body());
            String token = body.hasNonNull("token") ? body.get("token").asText() : body.path("access_token").asText(null);
            if (token == null || token.isEmpty()) {
                throw new RegistryException("the token service of " + location.host() + " returned no token", false);
            }
            return token;
        } catch (IOException e) {
            // No cause: a parser message may quote the body (Jackson does with INCLUDE_SOURCE_IN_LOCATION), and it holds a token.
            throw new RegistryException("the token service of " + location.host() + " returned invalid JSON", false);
        }
    }

    /**
     * Sends one request and follows up to {@value #MAX_REDIRECTS} redirects (blob and manifest stores often answer 307
     * to a CDN or object store). As Docker does, the Authorization header goes only to the scheme, host and port it was
     * meant for: once a redirect leaves that origin, the rest of the chain is anonymous.
     */
    private HttpResponse<byte[]> request(URI uri, String method, Optional<String> authorization) {
        URI current = uri;
        String currentMethod = method;
        Optional<String> auth = authorization;
        for (int redirects = 0; ; redirects++) {
            URI from = current;
            HttpResponse<byte[]> response = requestOnce(from, currentMethod, auth);
            int status = response.statusCode();
            if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
                return response;
            }
            if (redirects == MAX_REDIRECTS) {
                throw new RegistryException(uri.getHost() + ": more than " + MAX_REDIRECTS + " redirects for " + uri.getPath()
                        + " (the last to " + from.getHost() + ")", false);
            }
            String location = response.headers().firstValue("Location").orElseThrow(() -> new RegistryException(
                    hostPort(from) + " answered HTTP " + status + " without a Location to redirect to", false));
            URI next;
            try {
                next = from.resolve(location);
            } catch (IllegalArgumentException e) {
                throw new RegistryException(hostPort(from) + " redirected to an invalid URL", false);
            }
            if (!"http".equalsIgnoreCase(next.getScheme()) && !"https".equalsIgnoreCase(next.getScheme()) || next.getHost() == null) {
                throw new RegistryException(hostPort(from) + " redirected to a URL that is not http(s) with a host", false);
            }
            if (!sameOrigin(uri, next)) {
                auth = Optional.empty();
            }
            if (status == 303) {
                currentMethod = "HEAD".equals(currentMethod) ? "HEAD" : "GET";
            }
            current = next;
        }
    }

    private HttpResponse<byte[]> requestOnce(URI uri, String method, Optional<String> authorization) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(readTimeout).header("Accept", ACCEPT)
                .method(method, HttpRequest.BodyPublishers.noBody());
        authorization.ifPresent(a -> request.header("Authorization", a));
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new RegistryException("cannot reach " + hostPort(uri) + ": " + Faults.reason(e, readTimeout), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while asking " + hostPort(uri), e);
        }
    }

    /** Whether two URLs share scheme, host and port (the default port of the scheme when none is given). */
    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    private static String hostPort(URI uri) {
        return uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where a repository lives: the registry's base URL, its host (with port) and the repository name in it. */
    record Location(String base, String host, String name) {

        static Location of(ImageRef ref) {
            String repository = ref.repository();
            int slash = repository.indexOf('/');
            String first = slash < 0 ? "" : repository.substring(0, slash);
            boolean hasRegistry = first.contains(".") || first.contains(":") || first.equals("localhost") || first.startsWith("[");
            if (!hasRegistry) {
                // Docker Hub: official images live under library/.
                String name = repository.contains("/") ? repository : "library/" + repository;
                return new Location("https://registry-1.docker.io", "docker.io", name);
            }
            String host = first;
            String hostname = host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1) : host.split(":")[0];
            String scheme = LOOPBACK.contains(hostname) ? "http" : "https";
            return new Location(scheme + "://" + host, host, repository.substring(slash + 1));
        }
    }
}
