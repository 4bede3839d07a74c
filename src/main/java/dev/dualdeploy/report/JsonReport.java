package dev.dualdeploy.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.release.RegistryClient;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.text.Text;
import java.time.Duration;
import java.util.List;

/**
 * The CLI's machine-readable results ({@code --output json}) and their parts. The shape is a contract documented in
 * the README: fields are added, never renamed or removed; absent values are JSON null, not missing keys. It reads no
 * engine type: the results of the engine's commands are put together in {@code cli/JsonResults} from these parts.
 */
public final class JsonReport {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReport() {
    }

    /** The result of {@code validate}, valid or not. */
    public static ObjectNode validation(String file, List<ConfigProblem> problems, int stages) {
        ObjectNode root = header("validate", problems.isEmpty() ? 0 : 2).put("file", Text.escape(file)).put("valid", problems.isEmpty());
        if (problems.isEmpty()) {
            root.put("stages", stages);
        }
        ArrayNode list = root.putArray("problems");
        // Each problem names its own file: a kubeconfig's or Docker config's problem is not in the config file.
        // A ConfigProblem's fields are escaped when it is made, so they are printed as they are.
        problems.forEach(p -> list.addObject().put("file", p.file()).put("path", p.path()).put("problem", p.problem())
                .put("example", p.example()));
        return root;
    }

    /** The result of {@code stages}: the chain a branch deploys to, with the approval that guards each stage's entry. */
    public static ObjectNode stages(String service, String image, String branch, String changeId, String pattern,
                                    List<StageSpec> stages, String message) {
        ObjectNode root = header("stages", 0).put("service", service).put("image", image).put("branch", branch)
                .put("changeId", changeId.isEmpty() ? null : changeId).put("matched", pattern).put("message", message);
        ArrayNode list = root.putArray("stages");
        for (StageSpec stage : stages) {
            ObjectNode node = list.addObject().put("name", stage.name());
            node.set("approval", stage.approval().map(a -> {
                ObjectNode approval = JSON.createObjectNode().put("submitter", String.join(",", a.submitters()))
                        .put("timeoutMinutes", Math.max(1, a.timeout().toMinutes()));
                a.submitters().forEach(approval.putArray("submitters")::add);
                return approval;
            }).orElse(null));
        }
        return root;
    }

    /** The result of {@code release}: the reference pinned to the digest every stage deploys. */
    public static ObjectNode release(RegistryClient.Resolved resolved, int exitCode) {
        return header("release", exitCode).put("image", resolved.pinned()).put("repository", resolved.ref().repository())
                .put("tag", resolved.ref().tag().orElse(null)).put("digest", resolved.digest())
                .put("mediaType", resolved.mediaType()).put("index", resolved.index());
    }

    /**
     * An error that stopped a command before it produced a result. {@code error} is one line with control characters
     * escaped ({@link Text#line}), as the CLI prints it: a caller shows it as it is.
     */
    public static ObjectNode error(String command, int exitCode, String message) {
        return header(command, exitCode).put("error", Text.line(message == null ? "unknown error" : message));
    }

    /**
     * Bad input found in a config or a file read after it (exit code 2), for any command: {@code error} is one line
     * (the first problem, and how many more), {@code problems} every problem, as {@code validate} reports them.
     */
    public static ObjectNode invalid(String command, String file, List<ConfigProblem> problems) {
        ObjectNode root = validation(file, problems, 0).put("command", command).put("exitCode", 2);
        String first = problems.isEmpty() ? "invalid input" : problems.get(0).render();
        root.put("error", Text.line(first) + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems)" : ""));
        return root;
    }

    /** An empty JSON object, for a result's parts. */
    public static ObjectNode object() {
        return JSON.createObjectNode();
    }

    public static String write(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A result's first fields, {@code command} and {@code exitCode}, which every result has. */
    public static ObjectNode header(String command, int exitCode) {
        return JSON.createObjectNode().put("command", command).put("exitCode", exitCode);
    }

    /** A release: image, repository, digest, version. */
    public static ObjectNode release(Release release) {
        return JSON.createObjectNode().put("image", release.image()).put("repository", release.repository())
                .put("digest", release.digest()).put("version", release.version());
    }

    /** How a rollout or a rollback ended. */
    public static ObjectNode rollout(RolloutResult result) {
        return JSON.createObjectNode().put("status", result.outcome().name()).put("reason", result.reason())
                .put("seconds", seconds(result.took()));
    }

    /** What a side runs and records, as read back. */
    public static ObjectNode state(TargetState state) {
        ObjectNode node = JSON.createObjectNode();
        node.put("image", state.image().orElse(null)).put("digest", state.digest().orElse(null))
                .put("version", state.version().orElse(null)).put("lastGoodImage", state.lastGoodImage().orElse(null))
                // Kept for readers of earlier versions: the image `rollback` would return to.
                .put("previousImage", state.rollbackImage().orElse(null))
                .put("previousGoodImage", state.previousGoodImage().orElse(null))
                .put("health", state.health().name()).put("readable", state.readable()).put("detail", state.detail());
        ArrayNode sides = node.putArray("lastGoodSides");
        state.lastGoodSides().forEach(side -> sides.add(side.label()));
        return node;
    }

    /** A duration in seconds, to a tenth. */
    public static double seconds(Duration duration) {
        return Math.round(duration.toMillis() / 100.0) / 10.0;
    }
}
