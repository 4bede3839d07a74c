package dev.dualdeploy.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A read-only OCI distribution registry on loopback that serves the sample images of the local environment, so that
 * {@code dualdeploy release} (and the Jenkins step, which always runs it) resolves a tag or checks a digest there as
 * it would against a real registry. Each sample version is a real OCI image manifest (a config blob naming the
 * version, no layers) whose sha256 is the digest the simulators run.
 *
 * <p>Served: {@code GET /v2/}; {@code GET}/{@code HEAD /v2/<name>/manifests/<tag|digest>} with
 * {@code Docker-Content-Digest}; {@code GET}/{@code HEAD /v2/<name>/blobs/<digest>} for the config blobs;
 * {@code GET /v2/<name>/tags/list}. Anything else is 404, and any write 405, with the OCI error JSON.
 *
 * <p>Not modelled: authentication (anonymous reads only), pushes and deletes, pagination of the tag list, layers.
 */
public final class RegistrySimulator implements AutoCloseable {

    /** The media type of every sample manifest. */
    public static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    private static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern MANIFEST = Pattern.compile("/v2/(.+)/manifests/([^/]+)");
    private static final Pattern BLOB = Pattern.compile("/v2/(.+)/blobs/([^/]+)");
    private static final Pattern TAGS = Pattern.compile("/v2/(.+)/tags/list");

    /**
     * One sample image: its manifest, the manifest's digest, and its config blob.
     *
     * @param version the tag
     * @param manifest the manifest's exact bytes, whose sha256 is {@code digest}
     * @param digest {@code sha256:…} of the manifest
     * @param config the config blob's bytes
     * @param configDigest {@code sha256:…} of the config blob
     */
    public record Image(String version, byte[] manifest, String digest, byte[] config, String configDigest) {
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final String name;
    private final Map<String, Image> byTag = new LinkedHashMap<>();
    private final Map<String, Image> byDigest = new LinkedHashMap<>();

    private RegistrySimulator(String name, List<String> versions, int port) throws IOException {
        this.name = name;
        for (String version : versions) {
            Image image = image(name, version);
            byTag.put(version, image);
            byDigest.put(image.digest(), image);
        }
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        this.executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "registry-sim-http");
            t.setDaemon(true);
            return t;
        });
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /**
     * Starts a registry serving repository {@code name} with one image per version, tagged with the version.
     *
     * @param port the loopback port, or 0 for a free one
     * @throws IOException if the port cannot be bound
     */
    public static RegistrySimulator start(String name, List<String> versions, int port) throws IOException {
        return new RegistrySimulator(name, versions, port);
    }

    /** The sample image of {@code name} at {@code version}: the same bytes, hence the same digest, in every run. */
    public static Image image(String name, String version) {
        ObjectNode config = JSON.createObjectNode().put("architecture", "amd64").put("os", "linux");
        config.putObject("config").putObject("Labels").put("org.opencontainers.image.title", name)
                .put("org.opencontainers.image.version", version);
        config.putObject("rootfs").put("type", "layers").putArray("diff_ids");
        byte[] configBytes = bytes(config);
        String configDigest = "sha256:" + KubernetesSimulator.sha256(configBytes);
        ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", MANIFEST_TYPE);
        manifest.putObject("config").put("mediaType", CONFIG_TYPE).put("digest", configDigest).put("size", configBytes.length);
        manifest.putArray("layers");
        manifest.putObject("annotations").put("org.opencontainers.image.version", version);
        byte[] manifestBytes = bytes(manifest);
        return new Image(version, manifestBytes, "sha256:" + KubernetesSimulator.sha256(manifestBytes), configBytes, configDigest);
    }

    /** The registry's host and port, as an image reference names it: {@code 127.0.0.1:5000}. */
    public String host() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }

    /** The repository as a reference names it: {@code 127.0.0.1:5000/loan-api}. */
    public String repository() {
        return host() + "/" + name;
    }

    /** The image tagged {@code tag}, or empty. */
    public Optional<Image> tagged(String tag) {
        return Optional.ofNullable(byTag.get(tag));
    }

    /** The image whose manifest digest is {@code digest}, or empty. */
    public Optional<Image> withDigest(String digest) {
        return Optional.ofNullable(byDigest.get(digest));
    }

    /** Every tag served, in the order given at start. */
    public List<String> tags() {
        return List.copyOf(byTag.keySet());
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            answer(exchange);
        }
    }

    private void answer(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        boolean read = "GET".equals(method) || "HEAD".equals(method);
        exchange.getResponseHeaders().set("Docker-Distribution-API-Version", "registry/2.0");
        if (!path.startsWith("/v2")) {
            error(exchange, 404, "NAME_UNKNOWN", "not an OCI distribution path: the local registry serves /v2/ only");
            return;
        }
        if (!read) {
            error(exchange, 405, "UNSUPPORTED", "the local registry is read-only: " + method + " is not supported");
            return;
        }
        if (path.equals("/v2/") || path.equals("/v2")) {
            send(exchange, 200, "application/json", "{}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        Matcher manifest = MANIFEST.matcher(path);
        Matcher blob = BLOB.matcher(path);
        Matcher tags = TAGS.matcher(path);
        if (tags.matches()) {
            if (repositoryUnknown(exchange, tags.group(1))) {
                return;
            }
            ObjectNode list = JSON.createObjectNode().put("name", name);
            byTag.keySet().forEach(list.putArray("tags")::add);
            send(exchange, 200, "application/json", bytes(list));
        } else if (manifest.matches()) {
            if (repositoryUnknown(exchange, manifest.group(1))) {
                return;
            }
            String reference = manifest.group(2);
            Image image = reference.startsWith("sha256:") ? byDigest.get(reference) : byTag.get(reference);
            if (image == null) {
                error(exchange, 404, "MANIFEST_UNKNOWN", "manifest unknown: " + name + " has no " + reference);
                return;
            }
            exchange.getResponseHeaders().set("Docker-Content-Digest", image.digest());
            send(exchange, 200, MANIFEST_TYPE, image.manifest());
        } else if (blob.matches()) {
            if (repositoryUnknown(exchange, blob.group(1))) {
                return;
            }
            Optional<Image> image = byTag.values().stream().filter(i -> i.configDigest().equals(blob.group(2))).findFirst();
            if (image.isEmpty()) {
                error(exchange, 404, "BLOB_UNKNOWN", "blob unknown to registry: " + blob.group(2));
                return;
            }
            exchange.getResponseHeaders().set("Docker-Content-Digest", image.get().configDigest());
            send(exchange, 200, CONFIG_TYPE, image.get().config());
        } else {
            error(exchange, 404, "NAME_UNKNOWN", "not served by the local registry: " + path);
        }
    }

    private boolean repositoryUnknown(HttpExchange exchange, String repository) throws IOException {
        if (name.equals(repository)) {
            return false;
        }
        error(exchange, 404, "NAME_UNKNOWN", "repository name not known to registry: " + repository + " (it serves " + name + ")");
        return true;
    }

    private static void error(HttpExchange exchange, int status, String code, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("errors").addObject().put("code", code).put("message", message);
        send(exchange, status, "application/json", bytes(body));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        if ("HEAD".equals(exchange.getRequestMethod())) {
            // A HEAD answer carries the length of the body it leaves out; the server does not set it for HEAD.
            exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
