package dev.dualdeploy.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 item 5: credentials go only to the registry they belong to. A registry on one loopback port that wants Basic
 * authentication redirects the manifest to a second server on another port, which serves it anonymously.
 */
class RegistryRedirectTest {

    private static final byte[] MANIFEST = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:"
            + "0".repeat(64) + "\",\"size\":2},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);
    private static final String DIGEST = "sha256:" + RegistryClient.sha256(MANIFEST);

    private HttpServer registry;
    private HttpServer store;
    private final List<String> registryAuthorization = new CopyOnWriteArrayList<>();
    private final List<String> storeAuthorization = new CopyOnWriteArrayList<>();
    private final List<String> storePaths = new CopyOnWriteArrayList<>();
    private Path dockerConfig;

    @BeforeEach
    void start(@TempDir Path dir) throws IOException {
        store = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        store.createContext("/", exchange -> {
            try (exchange) {
                storePaths.add(exchange.getRequestURI().getPath());
                storeAuthorization.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
                exchange.getResponseHeaders().set("Docker-Content-Digest", DIGEST);
                respond(exchange, 200, MANIFEST);
            }
        });
        store.start();
        registry = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        registry.createContext("/", exchange -> {
            try (exchange) {
                String authorization = exchange.getRequestHeaders().getFirst("Authorization");
                registryAuthorization.add(String.valueOf(authorization));
                String path = exchange.getRequestURI().getPath();
                if (authorization == null) {
                    exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"test\"");
                    respond(exchange, 401, new byte[0]);
                } else if (path.endsWith("/manifests/1.0.0")) {
                    // A same-origin hop first (the header may stay), then to the store on another port (it may not).
                    exchange.getResponseHeaders().set("Location", "/v2/team/app/manifests/1.0.0-moved");
                    respond(exchange, 307, new byte[0]);
                } else if (path.endsWith("/manifests/1.0.0-moved")) {
                    exchange.getResponseHeaders().set("Location", "http://127.0.0.1:" + store.getAddress().getPort() + "/blobs/manifest");
                    respond(exchange, 307, new byte[0]);
                } else {
                    exchange.getResponseHeaders().set("Location", path + "x");
                    respond(exchange, 302, new byte[0]);
                }
            }
        });
        registry.start();
        String auth = Base64.getEncoder().encodeToString("ci-bot:s3cret".getBytes(StandardCharsets.UTF_8));
        dockerConfig = Files.writeString(dir.resolve("config.json"),
                "{\"auths\":{\"" + host(registry) + "\":{\"auth\":\"" + auth + "\"}}}");
    }

    @AfterEach
    void stop() {
        registry.stop(0);
        store.stop(0);
    }

    private static String host(HttpServer server) {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
        if ("HEAD".equals(exchange.getRequestMethod()) || body.length == 0) {
            exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "application/vnd.oci.image.manifest.v1+json");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Test
    void aRedirectToAnotherHostCarriesNoCredentialsAndTheResolveSucceeds() {
        RegistryClient.Resolved resolved = new RegistryClient(RegistryCredentials.fromFile(dockerConfig))
                .resolve(ImageRef.parse(host(registry) + "/team/app:1.0.0"));

        assertThat(resolved.digest()).isEqualTo(DIGEST);
        assertThat(storePaths).isNotEmpty().allSatisfy(p -> assertThat(p).isEqualTo("/blobs/manifest"));
        assertThat(storeAuthorization).as("what the other host saw as Authorization").containsOnly("null");
        assertThat(registryAuthorization).as("the registry got its own credentials, on the same-origin hop too")
                .contains("Basic " + Base64.getEncoder().encodeToString("ci-bot:s3cret".getBytes(StandardCharsets.UTF_8)))
                .filteredOn(a -> a.startsWith("Basic ")).hasSizeGreaterThanOrEqualTo(2);
    }

    @Test
    void redirectsAreBounded() {
        RegistryException e = catchThrowableOfType(RegistryException.class, () -> new RegistryClient(RegistryCredentials.fromFile(dockerConfig))
                .resolve(ImageRef.parse(host(registry) + "/team/app:loop")));

        assertThat(e).hasMessageContaining("more than 10 redirects");
        assertThat(e.notFound()).isFalse();
    }
}
