package dev.dualdeploy.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.pipeline.GateReport;
import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.pipeline.Plan;
import dev.dualdeploy.pipeline.SideReport;
import dev.dualdeploy.pipeline.StageReport;
import dev.dualdeploy.pipeline.Status;
import dev.dualdeploy.release.RegistryClient;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.text.Text;
import java.time.Duration;
import java.util.List;

/**
 * The CLI's machine-readable results ({@code --output json}). The shape is a contract documented in the README:
 * fields are added, never renamed or removed; absent values are JSON null, not missing keys.
 */
public final class JsonReport {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReport() {
    }

    /** The result of {@code deploy} or {@code rollback}. */
    public static ObjectNode stage(String command, StageReport report, int exitCode) {
        ObjectNode root = header(command, exitCode);
        root.put("stage", report.stage()).put("outcome", report.outcome().name()).put("reason", report.reason());
        root.set("release", report.release().map(JsonReport::release).orElse(null));
        root.set("parity", parity(report.parity()));
        ArrayNode sides = root.putArray("sides");
        for (SideReport side : report.sides()) {
            ObjectNode node = sides.addObject().put("side", side.side().label()).put("target", side.target());
            node.set("rollout", side.rollout().map(JsonReport::rollout).orElse(null));
            node.set("rollback", side.rollback().map(JsonReport::rollout).orElse(null));
            node.put("rollbackError", side.rollbackError().orElse(null));
            node.set("running", state(side.after()));
            node.put("seconds", seconds(side.took()));
        }
        ArrayNode gates = root.putArray("gates");
        report.gates().forEach(g -> gates.add(gateBody(g)));
        return root;
    }

    /** The result of {@code gate}. */
    public static ObjectNode gate(GateReport report, int exitCode) {
        ObjectNode root = header("gate", exitCode).put("stage", report.stage());
        root.setAll(gateBody(report));
        return root;
    }

    private static ObjectNode gateBody(GateReport report) {
        ObjectNode node = JSON.createObjectNode().put("phase", report.phase());
        report.judged().forEach(s -> node.withArray("judged").add(s.label()));
        node.put("outcome", report.outcome().name()).put("decision", report.decision().name()).put("reason", report.reason())
                .put("windows", report.windows()).put("plannedWindows", report.plannedWindows())
                .put("started", report.started().toString()).put("seconds", seconds(report.took()));
        ArrayNode checks = node.putArray("checks");
        for (GateReport.Check check : report.checks()) {
            ObjectNode c = checks.addObject().put("name", check.name()).put("check", check.verdict().check())
                    .put("outcome", check.verdict().outcome().name()).put("reason", check.verdict().reason());
            ObjectNode samples = c.putObject("samples");
            check.samples().forEach((series, values) -> values.forEach(samples.withArray(series)::add));
        }
        return node;
    }

    /** The result of {@code status}. */
    public static ObjectNode status(List<Status.StageStatus> stages, int exitCode) {
        ObjectNode root = header("status", exitCode);
        ArrayNode list = root.putArray("stages");
        for (Status.StageStatus stage : stages) {
            ObjectNode node = list.addObject().put("stage", stage.stage()).put("state", stage.state());
            // An unreadable side makes parity unknown: its status says UNREADABLE, never DRIFT.
            node.set("parity", parity(stage.parity()));
            ArrayNode sides = node.putArray("sides");
            for (Status.SideStatus side : stage.sides()) {
                ObjectNode s = sides.addObject().put("side", side.side().label()).put("enabled", side.enabled())
                        .put("target", side.target());
                s.setAll(state(side.state()));
                s.put("health", side.health()).put("readable", side.readable());
                s.put("error", side.error().orElse(null));
            }
        }
        return root;
    }

    /** The result of {@code plan}. */
    public static ObjectNode plan(String stage, Release release, List<Plan.Step> steps) {
        ObjectNode root = header("plan", 0).put("stage", stage);
        root.set("release", release(release));
        ArrayNode list = root.putArray("sides");
        for (Plan.Step step : steps) {
            ObjectNode node = list.addObject().put("side", step.side().label()).put("target", step.target())
                    .put("action", step.action().name()).put("summary", step.summary());
            node.set("current", step.action() == Plan.Action.SKIP ? null : state(step.current()));
        }
        return root;
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

    public static String write(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode header(String command, int exitCode) {
        return JSON.createObjectNode().put("command", command).put("exitCode", exitCode);
    }

    private static ObjectNode release(Release release) {
        return JSON.createObjectNode().put("image", release.image()).put("repository", release.repository())
                .put("digest", release.digest()).put("version", release.version());
    }

    private static ObjectNode parity(Parity parity) {
        return JSON.createObjectNode().put("status", parity.status().name()).put("reason", parity.reason());
    }

    private static ObjectNode rollout(RolloutResult result) {
        return JSON.createObjectNode().put("status", result.status().name()).put("reason", result.reason())
                .put("seconds", seconds(result.took()));
    }

    private static ObjectNode state(TargetState state) {
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

    private static double seconds(Duration duration) {
        return Math.round(duration.toMillis() / 100.0) / 10.0;
    }
}
