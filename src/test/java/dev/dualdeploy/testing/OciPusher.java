package dev.dualdeploy.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Pushes small OCI images and indexes to an open registry through the distribution API, as a build would. */
public final class OciPusher {

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private final String base;

    public OciPusher(String host) {
        this.base = "http://" + host;
    }

    /** Pushes a one-layer image for a platform under {@code tag}; returns the manifest's digest. */
    public Descriptor pushImage(String name, String tag, String architecture) throws IOException, InterruptedException {
        byte[] config = ("{\"architecture\":\"" + architecture + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] layer = ("layer of " + name + ":" + tag + " for " + architecture).getBytes(StandardCharsets.UTF_8);
        ObjectNode manifest = json.createObjectNode().put("schemaVersion", 2).put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.set("config", descriptor("application/vnd.oci.image.config.v1+json", pushBlob(name, config), config.length));
        manifest.putArray("layers").add(descriptor("application/vnd.oci.image.layer.v1.tar+gzip", pushBlob(name, layer), layer.length));
        return putManifest(name, tag, "application/vnd.oci.image.manifest.v1+json", json.writeValueAsBytes(manifest));
    }

    /** Pushes an index of the given platform manifests under {@code tag}; returns the index's digest. */
    public Descriptor pushIndex(String name, String tag, Descriptor amd64, Descriptor arm64) throws IOException, InterruptedException {
        ObjectNode index = json.createObjectNode().put("schemaVersion", 2).put("mediaType", "application/vnd.oci.image.index.v1+json");
        ArrayNode manifests = index.putArray("manifests");
        manifests.add(descriptor(amd64.mediaType(), amd64.digest(), amd64.size()).set("platform",
                json.createObjectNode().put("architecture", "amd64").put("os", "linux")));
        manifests.add(descriptor(arm64.mediaType(), arm64.digest(), arm64.size()).set("platform",
                json.createObjectNode().put("architecture", "arm64").put("os", "linux")));
        return putManifest(name, tag, "application/vnd.oci.image.index.v1+json", json.writeValueAsBytes(index));
    }

    /** What a manifest push produced. */
    public record Descriptor(String mediaType, String digest, long size) {
    }

    private String pushBlob(String name, byte[] content) throws IOException, InterruptedException {
        String digest = "sha256:" + sha256(content);
        HttpResponse<Void> started = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + name + "/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        expect(started, 202, "start blob upload");
        String location = started.headers().firstValue("Location").orElseThrow();
        URI upload = URI.create(location.startsWith("http") ? location : base + location);
        String separator = upload.getQuery() == null ? "?" : "&";
        HttpResponse<Void> done = http.send(HttpRequest.newBuilder(URI.create(upload + separator + "digest=" + digest))
                .header("Content-Type", "application/octet-stream").PUT(HttpRequest.BodyPublishers.ofByteArray(content)).build(),
                HttpResponse.BodyHandlers.discarding());
        expect(done, 201, "finish blob upload");
        return digest;
    }

    private Descriptor putManifest(String name, String tag, String mediaType, byte[] body) throws IOException, InterruptedException {
        HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + name + "/manifests/" + tag))
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.discarding());
        expect(response, 201, "put manifest " + name + ":" + tag);
        String digest = "sha256:" + sha256(body);
        if (!digest.equals(response.headers().firstValue("Docker-Content-Digest").orElse(""))) {
            throw new IllegalStateException("the registry stored " + name + ":" + tag + " under another digest");
        }
        return new Descriptor(mediaType, digest, body.length);
    }

    private ObjectNode descriptor(String mediaType, String digest, long size) {
        return json.createObjectNode().put("mediaType", mediaType).put("digest", digest).put("size", size);
    }

    private static void expect(HttpResponse<?> response, int status, String what) {
        if (response.statusCode() != status) {
            throw new IllegalStateException(what + ": HTTP " + response.statusCode());
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
