package dev.dualdeploy.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The fabric8 CRUD dispatcher plus what the local environment needs from a real API server and the mock lacks:
 * server-side apply (a PATCH with {@code application/apply-patch+yaml} becomes create-if-absent, else merge-then-PUT)
 * and {@code metadata.generation}, which a real API server bumps when a Deployment's spec changes.
 *
 * <p>Not modelled: field ownership and conflicts between field managers (every apply wins, as with
 * {@code force=true}); removal of fields a manager stops applying; list merging is by {@code name} for lists of
 * named objects (containers, env, ports with names) and replacement for every other list.
 *
 * <p>It also works around a stall in the mock: its watch listener handles a client's close on the server's event
 * loop and there waits for its own sender, whose pending write needs that same event loop, so every watch closed
 * while an event is in flight froze the whole server for 30 seconds. Close handling is moved off the event loop.
 */
final class ApplyingCrudDispatcher extends KubernetesCrudDispatcher {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new YAMLMapper();

    private static final ExecutorService CLOSER = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "k8s-sim-watch-close");
        t.setDaemon(true);
        return t;
    });

    @Override
    public MockResponse handleWatch(String path) {
        MockResponse response = super.handleWatch(path);
        WebSocketListener listener = response.getWebSocketListener();
        return listener == null ? response : response.withWebSocketUpgrade(new OffLoopClose(listener));
    }

    /** Forwards to the mock's watch listener, running the close callbacks on another thread. */
    private static final class OffLoopClose extends WebSocketListener {
        private final WebSocketListener delegate;

        OffLoopClose(WebSocketListener delegate) {
            this.delegate = delegate;
        }

        @Override
        public void onBeforeAccept(WebSocket webSocket, Response response) {
            delegate.onBeforeAccept(webSocket, response);
        }

        @Override
        public void onOpen(WebSocket webSocket, Response response) {
            delegate.onOpen(webSocket, response);
        }

        @Override
        public void onMessage(WebSocket webSocket, String text) {
            delegate.onMessage(webSocket, text);
        }

        @Override
        public void onMessage(WebSocket webSocket, byte[] bytes) {
            delegate.onMessage(webSocket, bytes);
        }

        @Override
        public void onClosing(WebSocket webSocket, int code, String reason) {
            CLOSER.execute(() -> delegate.onClosing(webSocket, code, reason));
        }

        @Override
        public void onClosed(WebSocket webSocket, int code, String reason) {
            CLOSER.execute(() -> delegate.onClosed(webSocket, code, reason));
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable error, Response response) {
            CLOSER.execute(() -> delegate.onFailure(webSocket, error, response));
        }
    }

    @Override
    public MockResponse handlePatch(RecordedRequest request) {
        String type = request.getHeader("Content-Type");
        String path = request.getPath();
        if (type != null && type.startsWith("application/apply-patch")) {
            return apply(request, path);
        }
        JsonNode before = existing(stripQuery(path));
        MockResponse response = super.handlePatch(request);
        return bumpGeneration(stripQuery(path), before, response);
    }

    @Override
    public MockResponse handleUpdate(RecordedRequest request) {
        String path = stripQuery(request.getPath());
        JsonNode before = existing(path);
        MockResponse response = super.handleUpdate(request);
        return bumpGeneration(path, before, response);
    }

    @Override
    public MockResponse handleCreate(RecordedRequest request) {
        MockResponse response = super.handleCreate(request);
        if (response.code() >= 300) {
            return response;
        }
        JsonNode created = read(response.getBody().readUtf8());
        if (created.path("metadata").path("generation").isMissingNode() && created.has("spec")) {
            ((ObjectNode) created.get("metadata")).put("generation", 1);
            String path = stripQuery(request.getPath()) + "/" + created.path("metadata").path("name").asText();
            return super.handleUpdate(request(request, "PUT", path, created));
        }
        return response;
    }

    private MockResponse apply(RecordedRequest request, String path) {
        String target = stripQuery(path);
        JsonNode applied;
        try {
            applied = YAML.readTree(request.getUtf8Body());
        } catch (IOException e) {
            return new MockResponse().setResponseCode(400).setBody("{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"bad apply body\"}");
        }
        JsonNode current = existing(target);
        if (current == null) {
            String collection = target.substring(0, target.lastIndexOf('/'));
            return handleCreate(request(request, "POST", collection, applied));
        }
        ObjectNode merged = ((ObjectNode) current).deepCopy();
        merge(merged, applied);
        ((ObjectNode) merged.get("metadata")).remove("resourceVersion");
        return handleUpdate(request(request, "PUT", target, merged));
    }

    private MockResponse bumpGeneration(String path, JsonNode before, MockResponse response) {
        if (before == null || response.code() >= 300) {
            return response;
        }
        JsonNode after = read(response.getBody().readUtf8());
        if (!after.has("spec") || before.path("spec").equals(after.path("spec"))) {
            return response;
        }
        long generation = before.path("metadata").path("generation").asLong(1) + 1;
        ((ObjectNode) after.get("metadata")).put("generation", generation);
        ((ObjectNode) after.get("metadata")).remove("resourceVersion");
        return super.handleUpdate(new RecordedRequest("HTTP/1.1", io.fabric8.mockwebserver.dsl.HttpMethod.PUT, path,
                new Headers.Builder().add("Content-Type", "application/json").build(),
                new Buffer(write(after).getBytes(StandardCharsets.UTF_8))));
    }

    private JsonNode existing(String path) {
        MockResponse response = handleGet(path);
        if (response.code() != 200) {
            return null;
        }
        JsonNode node = read(response.getBody().readUtf8());
        return node.has("items") ? null : node;
    }

    /** Merges {@code patch} into {@code target} the way apply does for the fields it names. */
    static void merge(ObjectNode target, JsonNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> fields = patch.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode existing = target.get(field.getKey());
            JsonNode value = field.getValue();
            if (existing instanceof ObjectNode object && value.isObject()) {
                merge(object, value);
            } else if (existing instanceof ArrayNode list && value.isArray() && named(list) && named(value)) {
                target.set(field.getKey(), mergeNamed(list, value));
            } else {
                target.set(field.getKey(), value.deepCopy());
            }
        }
    }

    private static ArrayNode mergeNamed(ArrayNode existing, JsonNode applied) {
        Map<String, ObjectNode> byName = new HashMap<>();
        existing.forEach(item -> byName.put(item.get("name").asText(), (ObjectNode) item));
        ArrayNode result = JSON.createArrayNode();
        for (JsonNode item : applied) {
            ObjectNode base = byName.get(item.get("name").asText());
            if (base == null) {
                result.add(item.deepCopy());
            } else {
                ObjectNode copy = base.deepCopy();
                merge(copy, item);
                result.add(copy);
            }
        }
        return result;
    }

    private static boolean named(JsonNode list) {
        if (list.isEmpty()) {
            return false;
        }
        for (JsonNode item : list) {
            if (!item.isObject() || !item.has("name")) {
                return false;
            }
        }
        return true;
    }

    private static RecordedRequest request(RecordedRequest original, String method, String path, JsonNode body) {
        return new RecordedRequest(original.getHttpVersion() == null ? "HTTP/1.1" : original.getHttpVersion(),
                io.fabric8.mockwebserver.dsl.HttpMethod.valueOf(method), path,
                new Headers.Builder().add("Content-Type", "application/json").build(),
                new Buffer(write(body).getBytes(StandardCharsets.UTF_8)));
    }

    private static String stripQuery(String path) {
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    private static JsonNode read(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException("mock server returned invalid JSON", e);
        }
    }

    private static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
