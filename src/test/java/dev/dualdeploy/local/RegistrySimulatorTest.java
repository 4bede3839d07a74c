package dev.dualdeploy.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Issue 8 item 17: the local registry speaks the read-only part of the OCI distribution API for its sample images. */
class RegistrySimulatorTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static RegistrySimulator registry;

    @BeforeAll
    static void start() throws IOException {
        registry = RegistrySimulator.start("loan-api", List.of("1.0.0", "1.1.0"), 0);
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private static HttpResponse<byte[]> send(String method, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + registry.host() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void theBaseEndpointAndTheTagListAnswer() throws Exception {
        assertThat(send("GET", "/v2/").statusCode()).isEqualTo(200);

        HttpResponse<byte[]> tags = send("GET", "/v2/loan-api/tags/list");

        assertThat(tags.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(tags.body());
        assertThat(body.get("name").asText()).isEqualTo("loan-api");
        assertThat(body.get("tags").toString()).isEqualTo("[\"1.0.0\",\"1.1.0\"]");
    }

    @Test
    void aManifestIsServedByTagAndByDigestAndItsSha256IsItsDigest() throws Exception {
        String digest = LocalEnvironment.sampleRelease("1.0.0").digest();

        HttpResponse<byte[]> head = send("HEAD", "/v2/loan-api/manifests/1.0.0");
        HttpResponse<byte[]> byTag = send("GET", "/v2/loan-api/manifests/1.0.0");
        HttpResponse<byte[]> byDigest = send("GET", "/v2/loan-api/manifests/" + digest);

        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("Docker-Content-Digest")).contains(digest);
        assertThat(head.headers().firstValue("Content-Length")).contains(Integer.toString(byTag.body().length));
        assertThat(byTag.headers().firstValue("Content-Type")).contains("application/vnd.oci.image.manifest.v1+json");
        assertThat("sha256:" + sha256(byTag.body())).isEqualTo(digest);
        assertThat(byDigest.body()).isEqualTo(byTag.body());
        JsonNode manifest = JSON.readTree(byTag.body());
        HttpResponse<byte[]> config = send("GET", "/v2/loan-api/blobs/" + manifest.get("config").get("digest").asText());
        assertThat(config.statusCode()).isEqualTo(200);
        assertThat("sha256:" + sha256(config.body())).isEqualTo(manifest.get("config").get("digest").asText());
    }

    @Test
    void unknownThingsAre404AndWritesAre405WithTheOciErrorJson() throws Exception {
        HttpResponse<byte[]> tag = send("GET", "/v2/loan-api/manifests/9.9.9");
        HttpResponse<byte[]> repository = send("HEAD", "/v2/other/manifests/1.0.0");
        HttpResponse<byte[]> put = send("PUT", "/v2/loan-api/manifests/1.0.0");
        HttpResponse<byte[]> delete = send("DELETE", "/v2/loan-api/manifests/1.0.0");
        HttpResponse<byte[]> upload = send("POST", "/v2/loan-api/blobs/uploads/");

        assertThat(tag.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(tag.body()).get("errors").get(0).get("code").asText()).isEqualTo("MANIFEST_UNKNOWN");
        assertThat(repository.statusCode()).isEqualTo(404);
        for (HttpResponse<byte[]> write : List.of(put, delete, upload)) {
            assertThat(write.statusCode()).isEqualTo(405);
            assertThat(JSON.readTree(write.body()).get("errors").get(0).get("code").asText()).isEqualTo("UNSUPPORTED");
        }
    }

    private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
