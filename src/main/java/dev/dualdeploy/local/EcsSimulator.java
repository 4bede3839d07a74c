package dev.dualdeploy.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * An ECS API on loopback that speaks the real JSON 1.1 wire protocol ({@code POST /},
 * {@code X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>}, {@code application/x-amz-json-1.1}), so the
 * real AWS SDK client drives it: signing, retries on throttling, error mapping and paging are all exercised. Services
 * roll out the way the ECS scheduler does: a new PRIMARY deployment starts tasks, tasks move PROVISIONING → PENDING →
 * RUNNING, old tasks stop once the new ones have run steadily for a moment (the deployment is then COMPLETED), and the deployment circuit breaker trips after enough failed tasks.
 * Images the simulator is told are broken fail the way ECS reports it.
 *
 * <p>Operations: CreateCluster, RegisterTaskDefinition, DescribeTaskDefinition, CreateService, DescribeServices
 * (with {@code include: [TAGS]}), UpdateService, ListTasks (with paging), DescribeTasks, and the tagging calls
 * TagResource, UntagResource and ListTagsForResource on service and task definition ARNs. Anything else answers
 * {@code UnknownOperationException}.
 *
 * <p>Not modelled: request signatures are not verified (any credentials work); IAM; capacity, placement and launch
 * types (every task fits); load balancers and their health checks; minimum healthy / maximum percent (all new tasks
 * start at once); the circuit breaker's automatic rollback (only {@code rollback: false} behaviour); service events;
 * task definition deregistration; ARNs use account 000000000000. Tagging: tags given to CreateService and
 * {@code propagateTags} are ignored; the limits (50 tags a resource, key and value lengths, the reserved {@code aws:}
 * prefix) are not checked; an unknown ARN answers ResourceNotFoundException; short (old-format) service ARNs, which
 * real ECS refuses to tag, are not distinguished.
 */
public final class EcsSimulator implements AutoCloseable {

    /** How a broken image fails. */
    public enum Breakage {
        /** The image cannot be pulled: TaskFailedToStart with CannotPullContainerError. */
        PULL,
        /** The essential container exits with code 1 shortly after starting. */
        CRASH,
        /** The task runs but the scheduler replaces it for failing container health checks (not a start failure). */
        UNHEALTHY,
        /** The task stays PENDING: it neither starts nor fails (an image pull that never ends). */
        STALL
    }

    private static final String TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";
    private static final String ACCOUNT = "000000000000";
    private static final Duration PENDING_AT = Duration.ofMillis(50);
    private static final Duration RUNNING_AT = Duration.ofMillis(200);
    private static final Duration FAILED_AT = Duration.ofMillis(350);
    /** A task counts toward a COMPLETED deployment only once it has run this long, as ECS waits for steady state. */
    private static final Duration STEADY_AT = Duration.ofMillis(500);
    private static final long TICK_MILLIS = 25;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpServer server;
    private final ScheduledExecutorService loop;
    private final Clock clock;
    private final String region;
    private final Map<String, ObjectNode> clusters = new LinkedHashMap<>();
    private final Map<String, ObjectNode> services = new LinkedHashMap<>();
    private final Map<String, ObjectNode> taskDefinitions = new LinkedHashMap<>();
    private final Map<String, ArrayNode> taskDefinitionTags = new HashMap<>();
    private final Map<String, ArrayNode> serviceTags = new HashMap<>();
    private final Map<String, Integer> revisions = new HashMap<>();
    private final Map<String, ObjectNode> tasks = new LinkedHashMap<>();
    private final Map<String, Instant> taskCreated = new HashMap<>();
    private final Map<String, Breakage> broken = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> throttles = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Map<String, Instant> failureReported = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong(1_000_000);
    private final AtomicLong passes = new AtomicLong();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile BiConsumer<String, String> serving = (cluster, image) -> { };

    private EcsSimulator(String region, Clock clock) throws IOException {
        this.region = region;
        this.clock = clock;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "ecs-sim-http");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ecs-sim-scheduler");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Asks for a scheduler pass in {@code millis}, unless one is already pending. Idle is idle: the scheduler runs when
     * a service is created or updated or an image breaks, and then every {@value #TICK_MILLIS} ms only while a task or a
     * deployment is still moving (a fixed-rate tick cost CPU with nothing to do).
     */
    private void wake(long millis) {
        if (scheduled.compareAndSet(false, true)) {
            try {
                loop.schedule(this::tick, millis, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // Closing.
            }
        }
    }

    /** How many scheduler passes have run; an idle simulator adds none. */
    long passes() {
        return passes.get();
    }

    /** Starts the simulator on a free loopback port. */
    public static EcsSimulator start(String region) {
        try {
            return new EcsSimulator(region, Clock.systemUTC());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the ECS simulator: " + e.getMessage(), e);
        }
    }

    /** The endpoint to give the SDK, such as {@code http://127.0.0.1:40123}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /**
     * Tells {@code listener} (cluster, image) the image of each service's primary deployment, on every scheduler pass
     * over it: what that cluster is serving from then on. The listener ignores an image it already had.
     */
    public void onServing(BiConsumer<String, String> listener) {
        this.serving = listener;
    }

    /** Makes tasks whose image contains {@code imageOrDigest} fail the given way from now on. */
    public void breakImage(String imageOrDigest, Breakage breakage) {
        broken.put(imageOrDigest, breakage);
        wake(0);
    }

    /** Answers the next {@code count} calls of {@code operation} with a ThrottlingException; 0 stops throttling. */
    public void throttle(String operation, int count) {
        throttles.computeIfAbsent(operation, k -> new AtomicInteger()).set(count);
    }

    /** How many requests for {@code operation} arrived, throttled ones included. */
    public int calls(String operation) {
        return calls.getOrDefault(operation, new AtomicInteger()).get();
    }

    /** When the first task of the image containing {@code imageOrDigest} was stopped for failing, or empty. */
    public Optional<Instant> failureReportedAt(String imageOrDigest) {
        return failureReported.entrySet().stream().filter(e -> e.getKey().contains(imageOrDigest))
                .map(Map.Entry::getValue).min(Instant::compareTo);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            answer(exchange);
        }
    }

    private void answer(HttpExchange exchange) throws IOException {
        try {
            String target = Optional.ofNullable(exchange.getRequestHeaders().getFirst("X-Amz-Target")).orElse("");
            String type = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Content-Type")).orElse("");
            if (!"POST".equals(exchange.getRequestMethod()) || !target.startsWith(TARGET_PREFIX)
                    || !type.startsWith("application/x-amz-json-1.1")) {
                respond(exchange, 400, error("UnknownOperationException", "expected a JSON 1.1 POST with X-Amz-Target"));
                return;
            }
            String operation = target.substring(TARGET_PREFIX.length());
            calls.computeIfAbsent(operation, k -> new AtomicInteger()).incrementAndGet();
            AtomicInteger throttled = throttles.get(operation);
            if (throttled != null && throttled.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                respond(exchange, 400, error("ThrottlingException", "Rate exceeded"));
                return;
            }
            JsonNode request;
            try (InputStream in = exchange.getRequestBody()) {
                request = json.readTree(in.readAllBytes());
            }
            ObjectNode response;
            synchronized (this) {
                response = switch (operation) {
                    case "CreateCluster" -> createCluster(request);
                    case "RegisterTaskDefinition" -> registerTaskDefinition(request);
                    case "DescribeTaskDefinition" -> describeTaskDefinition(request);
                    case "CreateService" -> createService(request);
                    case "DescribeServices" -> describeServices(request);
                    case "UpdateService" -> updateService(request);
                    case "ListTasks" -> listTasks(request);
                    case "DescribeTasks" -> describeTasks(request);
                    case "TagResource" -> tagResource(request);
                    case "UntagResource" -> untagResource(request);
                    case "ListTagsForResource" -> listTagsForResource(request);
                    default -> throw new EcsError("UnknownOperationException", "operation " + operation + " is not simulated");
                };
            }
            if (operation.equals("CreateService") || operation.equals("UpdateService")) {
                wake(0);
            }
            respond(exchange, 200, response);
        } catch (EcsError e) {
            respond(exchange, 400, error(e.type, e.getMessage()));
        } catch (RuntimeException e) {
            respond(exchange, 500, error("ServerException", String.valueOf(e)));
        }
    }

    private ObjectNode createCluster(JsonNode request) {
        String name = request.path("clusterName").asText("default");
        ObjectNode cluster = clusters.computeIfAbsent(name, n -> json.createObjectNode()
                .put("clusterArn", arn("cluster/" + n)).put("clusterName", n).put("status", "ACTIVE"));
        return json.createObjectNode().set("cluster", cluster);
    }

    private ObjectNode registerTaskDefinition(JsonNode request) {
        String family = required(request, "family");
        if (!request.path("containerDefinitions").isArray() || request.path("containerDefinitions").isEmpty()) {
            throw new EcsError("ClientException", "Container list cannot be empty.");
        }
        int revision = revisions.merge(family, 1, Integer::sum);
        ObjectNode definition = ((ObjectNode) request).deepCopy();
        definition.remove("tags");
        String arn = arn("task-definition/" + family + ":" + revision);
        definition.put("taskDefinitionArn", arn).put("revision", revision).put("status", "ACTIVE")
                .put("registeredAt", epoch(clock.instant()));
        definition.set("compatibilities", request.has("requiresCompatibilities")
                ? request.get("requiresCompatibilities").deepCopy() : json.createArrayNode().add("EC2"));
        taskDefinitions.put(arn, definition);
        ArrayNode tags = request.has("tags") ? (ArrayNode) request.get("tags").deepCopy() : json.createArrayNode();
        taskDefinitionTags.put(arn, tags);
        ObjectNode response = json.createObjectNode();
        response.set("taskDefinition", definition);
        response.set("tags", tags);
        return response;
    }

    private ObjectNode describeTaskDefinition(JsonNode request) {
        String arn = taskDefinitionArn(required(request, "taskDefinition"));
        ObjectNode response = json.createObjectNode();
        response.set("taskDefinition", taskDefinitions.get(arn));
        if (includes(request, "TAGS")) {
            response.set("tags", taskDefinitionTags.get(arn));
        }
        return response;
    }

    private ObjectNode createService(JsonNode request) {
        ObjectNode cluster = cluster(request);
        String name = required(request, "serviceName");
        String key = cluster.get("clusterName").asText() + "/" + name;
        if (services.containsKey(key)) {
            throw new EcsError("InvalidParameterException", "Creation of service was not idempotent.");
        }
        String taskDefinition = taskDefinitionArn(required(request, "taskDefinition"));
        ObjectNode service = json.createObjectNode()
                .put("serviceArn", arn("service/" + cluster.get("clusterName").asText() + "/" + name))
                .put("serviceName", name).put("clusterArn", cluster.get("clusterArn").asText())
                .put("status", "ACTIVE").put("desiredCount", request.path("desiredCount").asInt(1))
                .put("runningCount", 0).put("pendingCount", 0).put("launchType", request.path("launchType").asText("FARGATE"))
                .put("taskDefinition", taskDefinition).put("createdAt", epoch(clock.instant()));
        ObjectNode config = request.has("deploymentConfiguration")
                ? ((ObjectNode) request.get("deploymentConfiguration")).deepCopy() : json.createObjectNode();
        if (!config.has("maximumPercent")) {
            config.put("maximumPercent", 200);
        }
        if (!config.has("minimumHealthyPercent")) {
            config.put("minimumHealthyPercent", 100);
        }
        service.set("deploymentConfiguration", config);
        service.set("deployments", json.createArrayNode().add(newDeployment(taskDefinition, service.get("desiredCount").asInt())));
        service.set("events", json.createArrayNode());
        services.put(key, service);
        return json.createObjectNode().set("service", service);
    }

    private ObjectNode describeServices(JsonNode request) {
        ObjectNode cluster = cluster(request);
        ArrayNode found = json.createArrayNode();
        ArrayNode failures = json.createArrayNode();
        for (JsonNode name : request.path("services")) {
            ObjectNode service = services.get(cluster.get("clusterName").asText() + "/" + lastSegment(name.asText()));
            if (service == null) {
                failures.add(json.createObjectNode().put("arn", arn("service/" + lastSegment(name.asText()))).put("reason", "MISSING"));
            } else {
                ObjectNode answer = service.deepCopy();
                if (includes(request, "TAGS")) {
                    answer.set("tags", serviceTags.getOrDefault(service.get("serviceArn").asText(), json.createArrayNode()).deepCopy());
                }
                found.add(answer);
            }
        }
        ObjectNode response = json.createObjectNode();
        response.set("services", found);
        response.set("failures", failures);
        return response;
    }

    private static boolean includes(JsonNode request, String field) {
        for (JsonNode include : request.path("include")) {
            if (field.equals(include.asText())) {
                return true;
            }
        }
        return false;
    }

    /** The tags of a service or task definition, by ARN, as the tagging API addresses them. */
    private ArrayNode tagsOf(JsonNode request) {
        String arn = required(request, "resourceArn");
        if (taskDefinitionTags.containsKey(arn)) {
            return taskDefinitionTags.get(arn);
        }
        boolean service = services.values().stream().anyMatch(s -> arn.equals(s.get("serviceArn").asText()));
        if (!service) {
            throw new EcsError("ResourceNotFoundException", "The specified resource wasn't found.");
        }
        return serviceTags.computeIfAbsent(arn, k -> json.createArrayNode());
    }

    private ObjectNode tagResource(JsonNode request) {
        ArrayNode tags = tagsOf(request);
        for (JsonNode tag : request.path("tags")) {
            String key = tag.path("key").asText();
            for (int i = tags.size() - 1; i >= 0; i--) {
                if (key.equals(tags.get(i).path("key").asText())) {
                    tags.remove(i);
                }
            }
            tags.add(json.createObjectNode().put("key", key).put("value", tag.path("value").asText()));
        }
        return json.createObjectNode();
    }

    private ObjectNode untagResource(JsonNode request) {
        ArrayNode tags = tagsOf(request);
        for (JsonNode key : request.path("tagKeys")) {
            for (int i = tags.size() - 1; i >= 0; i--) {
                if (key.asText().equals(tags.get(i).path("key").asText())) {
                    tags.remove(i);
                }
            }
        }
        return json.createObjectNode();
    }

    private ObjectNode listTagsForResource(JsonNode request) {
        ObjectNode response = json.createObjectNode();
        response.set("tags", tagsOf(request).deepCopy());
        return response;
    }

    private ObjectNode updateService(JsonNode request) {
        ObjectNode cluster = cluster(request);
        String name = lastSegment(required(request, "service"));
        ObjectNode service = services.get(cluster.get("clusterName").asText() + "/" + name);
        if (service == null) {
            throw new EcsError("ServiceNotFoundException", "Service not found.");
        }
        if (request.has("desiredCount")) {
            service.put("desiredCount", request.get("desiredCount").asInt());
        }
        if (request.has("taskDefinition")) {
            String taskDefinition = taskDefinitionArn(request.get("taskDefinition").asText());
            if (!taskDefinition.equals(service.get("taskDefinition").asText()) || request.path("forceNewDeployment").asBoolean()) {
                service.put("taskDefinition", taskDefinition);
                ArrayNode deployments = (ArrayNode) service.get("deployments");
                deployments.forEach(d -> ((ObjectNode) d).put("status", "ACTIVE"));
                deployments.insert(0, newDeployment(taskDefinition, service.get("desiredCount").asInt()));
            }
        }
        return json.createObjectNode().set("service", service);
    }

    private ObjectNode listTasks(JsonNode request) {
        ObjectNode cluster = cluster(request);
        String serviceName = request.path("serviceName").asText(null);
        String startedBy = request.path("startedBy").asText(null);
        String desired = request.path("desiredStatus").asText("RUNNING");
        List<String> arns = new ArrayList<>();
        for (ObjectNode task : tasks.values()) {
            if (task.get("clusterArn").asText().equals(cluster.get("clusterArn").asText())
                    && desired.equals(task.get("desiredStatus").asText())
                    && (serviceName == null || task.get("group").asText().equals("service:" + serviceName))
                    && (startedBy == null || startedBy.equals(task.path("startedBy").asText()))) {
                arns.add(task.get("taskArn").asText());
            }
        }
        int max = Math.min(100, request.path("maxResults").asInt(100));
        int from = request.has("nextToken") ? Integer.parseInt(request.get("nextToken").asText()) : 0;
        ArrayNode page = json.createArrayNode();
        arns.subList(Math.min(from, arns.size()), Math.min(from + max, arns.size())).forEach(page::add);
        ObjectNode response = json.createObjectNode();
        response.set("taskArns", page);
        if (from + max < arns.size()) {
            response.put("nextToken", Integer.toString(from + max));
        }
        return response;
    }

    private ObjectNode describeTasks(JsonNode request) {
        cluster(request);
        if (request.path("tasks").size() > 100) {
            throw new EcsError("InvalidParameterException", "Tasks cannot be longer than 100.");
        }
        ArrayNode found = json.createArrayNode();
        ArrayNode failures = json.createArrayNode();
        for (JsonNode arn : request.path("tasks")) {
            ObjectNode task = tasks.get(arn.asText());
            if (task == null) {
                failures.add(json.createObjectNode().put("arn", arn.asText()).put("reason", "MISSING"));
            } else {
                found.add(task);
            }
        }
        ObjectNode response = json.createObjectNode();
        response.set("tasks", found);
        response.set("failures", failures);
        return response;
    }

    private ObjectNode newDeployment(String taskDefinition, int desired) {
        String id = "ecs-svc/" + (8_000_000_000_000_000_000L + ids.incrementAndGet());
        return json.createObjectNode().put("id", id).put("status", "PRIMARY").put("taskDefinition", taskDefinition)
                .put("desiredCount", desired).put("pendingCount", 0).put("runningCount", 0).put("failedTasks", 0)
                .put("createdAt", epoch(clock.instant())).put("updatedAt", epoch(clock.instant()))
                .put("rolloutState", "IN_PROGRESS").put("rolloutStateReason", "ECS deployment " + id + " in progress.");
    }

    /** One scheduler pass over every service; it asks for the next while anything is still moving. */
    private void tick() {
        scheduled.set(false);
        passes.incrementAndGet();
        boolean moving;
        synchronized (this) {
            try {
                services.values().forEach(this::schedule);
                moving = services.values().stream().anyMatch(this::moving);
            } catch (RuntimeException e) {
                moving = true; // the scheduler must outlive any single bad pass: try again
            }
        }
        if (moving) {
            wake(TICK_MILLIS);
        }
    }

    /** Whether a service's deployment is still rolling out or one of its tasks has yet to start, fail or settle. */
    private boolean moving(ObjectNode service) {
        for (JsonNode d : service.get("deployments")) {
            ObjectNode deployment = (ObjectNode) d;
            if ("IN_PROGRESS".equals(deployment.get("rolloutState").asText())) {
                return true;
            }
            for (ObjectNode task : liveTasks(deployment)) {
                Duration age = Duration.between(taskCreated.get(task.get("taskArn").asText()), clock.instant());
                if (!"RUNNING".equals(task.get("lastStatus").asText()) || age.compareTo(STEADY_AT) < 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private void schedule(ObjectNode service) {
        ArrayNode deployments = (ArrayNode) service.get("deployments");
        ObjectNode primary = (ObjectNode) deployments.get(0);
        int desired = service.get("desiredCount").asInt();
        ObjectNode served = taskDefinitions.get(primary.get("taskDefinition").asText());
        if (served != null && served.path("containerDefinitions").size() > 0) {
            serving.accept(lastSegment(service.get("clusterArn").asText()),
                    served.get("containerDefinitions").get(0).path("image").asText());
        }
        primary.put("desiredCount", desired);
        for (JsonNode d : deployments) {
            ObjectNode deployment = (ObjectNode) d;
            List<ObjectNode> live = liveTasks(deployment);
            live.forEach(task -> advance(task, deployment));
        }
        boolean failed = "FAILED".equals(primary.get("rolloutState").asText());
        List<ObjectNode> live = liveTasks(primary);
        if (!failed) {
            for (int i = live.size(); i < desired; i++) {
                startTask(service, primary);
            }
        }
        JsonNode breaker = service.path("deploymentConfiguration").path("deploymentCircuitBreaker");
        int threshold = Math.min(200, Math.max(3, (int) Math.ceil(desired / 2.0)));
        if (!failed && breaker.path("enable").asBoolean() && primary.get("failedTasks").asInt() >= threshold) {
            primary.put("rolloutState", "FAILED").put("rolloutStateReason", "ECS deployment circuit breaker: tasks failed to start.");
        }
        long steady = liveTasks(primary).stream().filter(t -> "RUNNING".equals(t.get("lastStatus").asText()))
                .filter(t -> Duration.between(taskCreated.get(t.get("taskArn").asText()), clock.instant()).compareTo(STEADY_AT) >= 0)
                .count();
        if (steady >= desired && !"FAILED".equals(primary.get("rolloutState").asText())) {
            for (int i = deployments.size() - 1; i >= 1; i--) {
                ObjectNode old = (ObjectNode) deployments.get(i);
                liveTasks(old).forEach(t -> stop(t, "ServiceSchedulerInitiated",
                        "Scaling activity initiated by (deployment " + primary.get("id").asText() + ")", null));
                deployments.remove(i);
            }
            if (!"COMPLETED".equals(primary.get("rolloutState").asText())) {
                primary.put("rolloutState", "COMPLETED").put("rolloutStateReason", "ECS deployment " + primary.get("id").asText() + " completed.");
            }
        }
        int serviceRunning = 0;
        int servicePending = 0;
        for (JsonNode d : deployments) {
            ObjectNode deployment = (ObjectNode) d;
            int r = count(deployment, "RUNNING");
            int p = liveTasks(deployment).size() - r;
            if (deployment.get("runningCount").asInt() != r || deployment.get("pendingCount").asInt() != p) {
                deployment.put("runningCount", r).put("pendingCount", p).put("updatedAt", epoch(clock.instant()));
            }
            serviceRunning += r;
            servicePending += p;
        }
        service.put("runningCount", serviceRunning).put("pendingCount", servicePending);
    }

    private void startTask(ObjectNode service, ObjectNode deployment) {
        String cluster = lastSegment(service.get("clusterArn").asText());
        String id = String.format("%032x", ids.incrementAndGet());
        String arn = arn("task/" + cluster + "/" + id);
        ObjectNode definition = taskDefinitions.get(deployment.get("taskDefinition").asText());
        ObjectNode task = json.createObjectNode().put("taskArn", arn).put("clusterArn", service.get("clusterArn").asText())
                .put("taskDefinitionArn", deployment.get("taskDefinition").asText())
                .put("group", "service:" + service.get("serviceName").asText())
                .put("startedBy", deployment.get("id").asText()).put("lastStatus", "PROVISIONING")
                .put("desiredStatus", "RUNNING").put("launchType", service.get("launchType").asText())
                .put("createdAt", epoch(clock.instant()));
        ArrayNode containers = json.createArrayNode();
        for (JsonNode definitionContainer : definition.get("containerDefinitions")) {
            containers.add(json.createObjectNode().put("containerArn", arn("container/" + cluster + "/" + id + "/"
                            + definitionContainer.get("name").asText()))
                    .put("taskArn", arn).put("name", definitionContainer.get("name").asText())
                    .put("image", definitionContainer.get("image").asText()).put("lastStatus", "PENDING"));
        }
        task.set("containers", containers);
        tasks.put(arn, task);
        taskCreated.put(arn, clock.instant());
    }

    private void advance(ObjectNode task, ObjectNode deployment) {
        Duration age = Duration.between(taskCreated.get(task.get("taskArn").asText()), clock.instant());
        Breakage breakage = null;
        String brokenImage = null;
        for (JsonNode container : task.get("containers")) {
            for (Map.Entry<String, Breakage> entry : broken.entrySet()) {
                if (container.get("image").asText().contains(entry.getKey())) {
                    breakage = entry.getValue();
                    brokenImage = container.get("image").asText();
                }
            }
        }
        String status = task.get("lastStatus").asText();
        if (age.compareTo(PENDING_AT) >= 0 && "PROVISIONING".equals(status)) {
            task.put("lastStatus", "PENDING");
        }
        if (age.compareTo(RUNNING_AT) >= 0 && "PENDING".equals(task.get("lastStatus").asText())) {
            if (breakage == Breakage.STALL) {
                return;
            }
            if (breakage == Breakage.PULL) {
                failTask(task, deployment, "TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 1 time(s):"
                        + " failed to resolve ref " + brokenImage + ": not found", brokenImage, null);
                return;
            }
            task.put("lastStatus", "RUNNING").put("startedAt", epoch(clock.instant()));
            for (JsonNode c : task.get("containers")) {
                ((ObjectNode) c).put("lastStatus", "RUNNING").put("imageDigest", digestOf(c.get("image").asText()));
            }
        }
        if (age.compareTo(FAILED_AT) >= 0 && "RUNNING".equals(task.get("lastStatus").asText())) {
            if (breakage == Breakage.CRASH) {
                failTask(task, deployment, "EssentialContainerExited", "Essential container in task exited", brokenImage, 1);
            } else if (breakage == Breakage.UNHEALTHY) {
                failTask(task, deployment, "ServiceSchedulerInitiated", "Task failed container health checks", brokenImage, 137);
            }
        }
    }

    private void failTask(ObjectNode task, ObjectNode deployment, String stopCode, String reason, String image, Integer exitCode) {
        stop(task, stopCode, reason, exitCode);
        deployment.put("failedTasks", deployment.get("failedTasks").asInt() + 1);
        failureReported.putIfAbsent(image, clock.instant());
    }

    private void stop(ObjectNode task, String stopCode, String reason, Integer exitCode) {
        task.put("lastStatus", "STOPPED").put("desiredStatus", "STOPPED").put("stopCode", stopCode)
                .put("stoppedReason", reason).put("stoppedAt", epoch(clock.instant()));
        for (JsonNode c : task.get("containers")) {
            ObjectNode container = (ObjectNode) c;
            container.put("lastStatus", "STOPPED");
            if (exitCode != null) {
                container.put("exitCode", exitCode);
            }
            if ("TaskFailedToStart".equals(stopCode)) {
                container.put("reason", reason);
            }
        }
    }

    private List<ObjectNode> liveTasks(ObjectNode deployment) {
        String id = deployment.get("id").asText();
        return tasks.values().stream().filter(t -> id.equals(t.path("startedBy").asText()))
                .filter(t -> !"STOPPED".equals(t.get("desiredStatus").asText())).toList();
    }

    private int count(ObjectNode deployment, String lastStatus) {
        return (int) liveTasks(deployment).stream().filter(t -> lastStatus.equals(t.get("lastStatus").asText())).count();
    }

    private ObjectNode cluster(JsonNode request) {
        String name = lastSegment(request.path("cluster").asText("default"));
        ObjectNode cluster = clusters.get(name);
        if (cluster == null) {
            throw new EcsError("ClusterNotFoundException", "Cluster not found.");
        }
        return cluster;
    }

    private String taskDefinitionArn(String reference) {
        String familyRevision = reference.startsWith("arn:") ? lastSegment(reference) : reference;
        if (!familyRevision.contains(":")) {
            Integer latest = revisions.get(familyRevision);
            familyRevision = familyRevision + ":" + (latest == null ? 0 : latest);
        }
        String arn = arn("task-definition/" + familyRevision);
        if (!taskDefinitions.containsKey(arn)) {
            throw new EcsError("ClientException", "Unable to describe task definition.");
        }
        return arn;
    }

    /** The digest a registry would report for an image: its own if pinned, else one derived from the reference. */
    static String digestOf(String image) {
        int at = image.indexOf("@sha256:");
        return at > 0 ? image.substring(at + 1) : "sha256:" + KubernetesSimulator.sha256(image);
    }

    private String arn(String resource) {
        return "arn:aws:ecs:" + region + ":" + ACCOUNT + ":" + resource;
    }

    private static String lastSegment(String nameOrArn) {
        return nameOrArn.substring(nameOrArn.lastIndexOf('/') + 1);
    }

    private static String required(JsonNode request, String field) {
        if (!request.hasNonNull(field) || request.get(field).asText().isEmpty()) {
            throw new EcsError("InvalidParameterException", field + " is required");
        }
        return request.get(field).asText();
    }

    private static double epoch(Instant instant) {
        return instant.toEpochMilli() / 1000.0;
    }

    private ObjectNode error(String type, String message) {
        return json.createObjectNode().put("__type", type).put("message", message);
    }

    private void respond(HttpExchange exchange, int status, ObjectNode body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
        exchange.getResponseHeaders().set("x-amzn-RequestId", java.util.UUID.randomUUID().toString());
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

    /** An ECS error answer: the {@code __type} the SDK maps to a typed exception, and its message. */
    private static final class EcsError extends RuntimeException {
        private final String type;

        EcsError(String type, String message) {
            super(message);
            this.type = type;
        }
    }
}
