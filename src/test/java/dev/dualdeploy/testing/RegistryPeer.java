package dev.dualdeploy.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real registry (Debian's {@code docker-registry}, the CNCF distribution registry) on a free loopback port, with
 * no authentication, htpasswd Basic authentication, or token authentication backed by a small token service in the
 * test that signs RS256 JWTs with a certificate made by {@code keytool}. Several peers may serve one storage
 * directory, so images are pushed once to an open peer and read through peers with authentication.
 */
public final class RegistryPeer implements AutoCloseable {

    /** How the registry authenticates. */
    public enum Auth { NONE, BASIC, TOKEN }

    public static final String USER = "ci-bot";
    public static final String PASSWORD = "s3cret pass";

    private final Process process;
    private final int port;
    private final HttpServer tokenServer;

    private RegistryPeer(Process process, int port, HttpServer tokenServer) {
        this.process = process;
        this.port = port;
        this.tokenServer = tokenServer;
    }

    /** Starts a registry serving {@code storage}, with its config and keys under {@code work}. */
    public static RegistryPeer start(Path storage, Path work, Auth auth) throws IOException, InterruptedException {
        String binary = List.of("/usr/bin/docker-registry", "/usr/local/bin/docker-registry").stream()
                .filter(p -> Files.isExecutable(Path.of(p))).findFirst()
                .orElseThrow(() -> new IllegalStateException("docker-registry is not installed; the README's test command"
                        + " (./run-tests) installs it (apt-get install docker-registry)"));
        Files.createDirectories(work);
        HttpServer tokens = null;
        StringBuilder authConfig = new StringBuilder();
        if (auth == Auth.BASIC) {
            Path htpasswd = work.resolve("htpasswd");
            Process p = new ProcessBuilder("htpasswd", "-Bbn", USER, PASSWORD).redirectOutput(htpasswd.toFile()).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("htpasswd failed; the README's test command installs apache2-utils");
            }
            authConfig.append("auth:\n  htpasswd:\n    realm: test\n    path: ").append(htpasswd).append('\n');
        } else if (auth == Auth.TOKEN) {
            TokenService service = TokenService.create(work);
            tokens = service.server;
            authConfig.append("auth:\n  token:\n    realm: http://127.0.0.1:").append(tokens.getAddress().getPort())
                    .append("/token\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: ")
                    .append(service.certificate).append('\n');
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = LoopbackProcesses.freePort();
            Path config = work.resolve("config-" + port + ".yml");
            Files.writeString(config, "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n"
                    + "  filesystem:\n    rootdirectory: " + storage + "\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" + port
                    + "\n  secret: test-secret\n" + authConfig);
            Process process = new ProcessBuilder(binary, "serve", config.toString())
                    .redirectErrorStream(true).redirectOutput(work.resolve("registry-" + port + ".log").toFile()).start();
            if (LoopbackProcesses.awaitReady(process, "http://127.0.0.1:" + port + "/v2/", Set.of(200, 401), Duration.ofSeconds(20))) {
                return new RegistryPeer(process, port, tokens);
            }
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        if (tokens != null) {
            tokens.stop(0);
        }
        throw new IllegalStateException("docker-registry did not start; see the registry-*.log files in " + work);
    }

    /** The registry's host and port, as an image reference names it: {@code 127.0.0.1:PORT}. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        LoopbackProcesses.stop(process);
        if (tokenServer != null) {
            tokenServer.stop(0);
        }
    }

    /** A token service that checks Basic credentials and signs a JWT granting what the scope asks for. */
    private static final class TokenService {
        private final HttpServer server;
        private final Path certificate;

        private TokenService(HttpServer server, Path certificate) {
            this.server = server;
            this.certificate = certificate;
        }

        static TokenService create(Path work) throws IOException, InterruptedException {
            Path keystore = work.resolve("token.p12");
            Files.deleteIfExists(keystore);
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "token", "-keyalg", "RSA", "-keysize", "2048",
                    "-dname", "CN=test-token-issuer", "-validity", "2", "-keystore", keystore.toString(), "-storetype", "PKCS12",
                    "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("keytool could not make the token signing key");
            }
            PrivateKey key;
            Certificate cert;
            try (InputStream in = Files.newInputStream(keystore)) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(in, "changeit".toCharArray());
                key = (PrivateKey) store.getKey("token", "changeit".toCharArray());
                cert = store.getCertificate("token");
                Path pem = work.resolve("token.pem");
                Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n"
                        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                        + "\n-----END CERTIFICATE-----\n");
                HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
                String x5c = Base64.getEncoder().encodeToString(cert.getEncoded());
                server.createContext("/token", exchange -> {
                    try (exchange) {
                        String expected = "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
                        if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                            exchange.sendResponseHeaders(401, -1);
                            return;
                        }
                        String query = exchange.getRequestURI().getQuery();
                        String scope = java.net.URLDecoder.decode(query.replaceAll(".*scope=([^&]*).*", "$1"), StandardCharsets.UTF_8);
                        String[] parts = scope.split(":");
                        byte[] body = ("{\"token\":\"" + jwt(key, x5c, parts[1], parts[2].split(",")) + "\"}").getBytes(StandardCharsets.UTF_8);
                        exchange.getResponseHeaders().set("Content-Type", "application/json");
                        exchange.sendResponseHeaders(200, body.length);
                        exchange.getResponseBody().write(body);
                    }
                });
                server.start();
                return new TokenService(server, pem);
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        private static String jwt(PrivateKey key, String x5c, String repository, String[] actions) {
            ObjectMapper json = new ObjectMapper();
            ObjectNode header = json.createObjectNode().put("typ", "JWT").put("alg", "RS256");
            header.putArray("x5c").add(x5c);
            long now = Instant.now().getEpochSecond();
            ObjectNode claims = json.createObjectNode().put("iss", "test-issuer").put("sub", USER).put("aud", "test-registry")
                    .put("exp", now + 300).put("nbf", now - 10).put("iat", now).put("jti", UUID.randomUUID().toString());
            ObjectNode access = claims.putArray("access").addObject().put("type", "repository").put("name", repository);
            for (String action : actions) {
                access.withArray("actions").add(action);
            }
            try {
                Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
                String signingInput = b64.encodeToString(json.writeValueAsBytes(header)) + "." + b64.encodeToString(json.writeValueAsBytes(claims));
                Signature signature = Signature.getInstance("SHA256withRSA");
                signature.initSign(key);
                signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
                return signingInput + "." + b64.encodeToString(signature.sign());
            } catch (IOException | java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
