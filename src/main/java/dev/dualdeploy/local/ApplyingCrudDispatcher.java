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
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;

/**
 * The fabric8 CRUD dispatcher plus what the local environment needs from a real API server and the mock lacks:
 * server-side apply (a PATCH with {@code application/apply-patch+yaml} becomes create-if-absent, else merge-then-PUT)
 * and {@code metadata.generation}, which a real API server bumps when a Deployment's spec changes.
 *
 * <p>Field ownership is modelled for one field only, a Deployment's {@code spec.replicas}, because handing it to a
 * HorizontalPodAutoscaler depends on it: the dispatcher keeps the set of field managers that own it (the
 * {@code fieldManager} query parameter, else {@value #DEFAULT_MANAGER}). An apply that carries the field with the live
 * value adds its manager to the owners; with another value it takes the field alone ({@code force=true}) or, when
 * others own it, fails with 409 Conflict as a real API server does. An apply that leaves the field out drops its
 * manager from the owners, and when that manager was the only owner the field is removed and defaulted to 1, as a
 * real API server does. A create, update or non-apply patch that sets or changes the field makes its manager the
 * only owner. The owners are kept in the dispatcher, not in {@code metadata.managedFields}, and like every
 * read-merge-write here they are not serialized against concurrent writes to the same Deployment.
 *
 * <p>Not modelled: ownership of any other field and conflicts on it (every apply wins, as with {@code force=true});
 * removal of any other field a manager stops applying; ownership changes through the {@code scale} subresource;
 * list merging is by {@code name} for lists of named objects (containers, env, ports with names) and replacement
 * for every other list.
 *
 * <p>It also works around a stall in the mock: its watch listener handles a client's close on the server's event
 * loop and there waits for its own sender, whose pending write needs that same event loop, so every watch closed
 * while an event is in flight froze the whole server for 30 seconds. Close handling is moved off the event loop.
 */
final class ApplyingCrudDispatcher extends KubernetesCrudDispatcher {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new YAMLMapper();
    /** The manager of a write that names none (a real API server derives one from the user agent). */
    static final String DEFAULT_MANAGER = "unknown";
    private static final Pattern DEPLOYMENT = Pattern.compile("/apis/apps/v1/namespaces/[^/]+/deployments/[^/]+");

    /** The field managers that own {@code spec.replicas}, by Deployment path. */
    private final Map<String, Set<String>> replicasOwners = new ConcurrentHashMap<>();

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
            offLoop(() -> delegate.onClosing(webSocket, code, reason));
        }

        @Override
        public void onClosed(WebSocket webSocket, int code, String reason) {
            offLoop(() -> delegate.onClosed(webSocket, code, reason));
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable error, Response response) {
            offLoop(() -> delegate.onFailure(webSocket, error, response));
        }

        /**
         * A close that arrives after the simulator stopped has nothing left to close: its event loop is gone, and the
         * mock's close callback says so by throwing on this thread, which would print a stack trace into the output of
         * whoever stopped the simulator (a test, a benchmark, the demo).
         */
        private static void offLoop(Runnable close) {
            CLOSER.execute(() -> {
                try {
                    close.run();
                } catch (RejectedExecutionException stopped) {
                    // the simulator's server is stopped: the watch is closed with it
                }
            });
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
        MockResponse response = bumpGeneration(stripQuery(path), before, super.handlePatch(request));
        return updated(stripQuery(path), manager(path), before, response);
    }

    @Override
    public MockResponse handleUpdate(RecordedRequest request) {
        String path = stripQuery(request.getPath());
        JsonNode before = existing(path);
        return updated(path, manager(request.getPath()), before, update(request));
    }

    @Override
    public MockResponse handleCreate(RecordedRequest request) {
        MockResponse response = create(request);
        return updated(stripQuery(request.getPath()), manager(request.getPath()), null, response);
    }

    @Override
    public MockResponse handleDelete(String path) {
        replicasOwners.remove(stripQuery(path));
        return super.handleDelete(path);
    }

    private MockResponse update(RecordedRequest request) {
        String path = stripQuery(request.getPath());
        JsonNode before = existing(path);
        MockResponse response = super.handleUpdate(request);
        return bumpGeneration(path, before, response);
    }

    private MockResponse create(RecordedRequest request) {
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

    /**
     * After a create, update or non-apply patch of a Deployment: a write that set or changed {@code spec.replicas}
     * makes its manager the field's only owner. Returns {@code response} unchanged, its body still readable.
     */
    private MockResponse updated(String path, String manager, JsonNode before, MockResponse response) {
        if (response.code() >= 300) {
            return response;
        }
        String body = response.getBody().readUtf8();
        if (body.isBlank()) {
            return response;
        }
        JsonNode after = read(body);
        String object = before == null && !DEPLOYMENT.matcher(path).matches()
                ? path + "/" + after.path("metadata").path("name").asText() : path;
        JsonNode replicas = after.path("spec").path("replicas");
        if (DEPLOYMENT.matcher(object).matches() && !replicas.isMissingNode()
                && (before == null || !replicas.equals(before.path("spec").path("replicas")))) {
            replicasOwners.put(object, new LinkedHashSet<>(Set.of(manager)));
        }
        return response.setBody(body);
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
        String manager = manager(path);
        if (current == null) {
            String collection = target.substring(0, target.lastIndexOf('/'));
            return updated(collection, manager, null, create(request(request, "POST", collection, applied)));
        }
        ObjectNode merged = ((ObjectNode) current).deepCopy();
        merge(merged, applied);
        ((ObjectNode) merged.get("metadata")).remove("resourceVersion");
        if (DEPLOYMENT.matcher(target).matches() && merged.get("spec") instanceof ObjectNode spec) {
            String conflict = applyReplicas(target, manager, path.contains("force=true"), current, applied, spec);
            if (conflict != null) {
                return new MockResponse().setResponseCode(409).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                        + "\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409,\"message\":\"Apply failed with 1 conflict:"
                        + " conflict with \\\"" + conflict + "\\\": .spec.replicas\"}");
            }
        }
        return update(request(request, "PUT", target, merged));
    }

    /**
     * Applies the ownership rules for {@code spec.replicas} to the merged object. Returns the manager an apply
     * without force conflicts with, or null.
     */
    private String applyReplicas(String target, String manager, boolean force, JsonNode current, JsonNode applied, ObjectNode merged) {
        Set<String> owners = new LinkedHashSet<>(replicasOwners.getOrDefault(target, Set.of()));
        JsonNode live = current.path("spec").path("replicas");
        JsonNode wanted = applied.path("spec").path("replicas");
        if (wanted.isMissingNode()) {
            if (owners.remove(manager) && owners.isEmpty()) {
                // The only owner stopped applying the field: a real API server removes it, and defaulting sets 1.
                merged.put("replicas", 1);
            }
        } else if (live.isMissingNode() || live.equals(wanted)) {
            owners.add(manager);
        } else {
            owners.remove(manager);
            if (!owners.isEmpty() && !force) {
                return owners.iterator().next();
            }
            owners.clear();
            owners.add(manager);
        }
        replicasOwners.put(target, owners);
        return null;
    }

    /** The field manager a request names, or {@value #DEFAULT_MANAGER}. */
    private static String manager(String path) {
        int q = path.indexOf('?');
        if (q >= 0) {
            for (String parameter : path.substring(q + 1).split("&")) {
                if (parameter.startsWith("fieldManager=")) {
                    return URLDecoder.decode(parameter.substring("fieldManager=".length()), StandardCharsets.UTF_8);
                }
            }
        }
        return DEFAULT_MANAGER;
    }

    private MockResponse bumpGeneration(String path, JsonNode before, MockResponse response) {
        if (before == null || response.code() >= 300) {
            return response;
        }
        // Reading the body drains it; a response returned as it is gets the body back.
        String body = response.getBody().readUtf8();
        JsonNode after = read(body);
        if (!after.has("spec") || before.path("spec").equals(after.path("spec"))) {
            return response.setBody(body);
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
