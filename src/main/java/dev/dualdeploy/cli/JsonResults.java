package dev.dualdeploy.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.pipeline.GateResult;
import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.pipeline.Plan;
import dev.dualdeploy.pipeline.SideResult;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.pipeline.Status;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JsonReport;
import java.util.List;

/**
 * The JSON results of the commands that run the engine ({@code deploy}, {@code rollback}, {@code gate}, {@code status},
 * {@code plan}), from the engine's results, in the shapes the README documents; {@code report/JsonReport} gives the
 * parts and reads no engine type.
 */
final class JsonResults {

    private JsonResults() {
    }

    /** The result of {@code deploy} or {@code rollback}. */
    static ObjectNode stage(String command, StageResult report, int exitCode) {
        ObjectNode root = JsonReport.header(command, exitCode);
        root.put("stage", report.stage()).put("outcome", report.outcome().name()).put("reason", report.reason());
        root.set("release", report.release().map(JsonReport::release).orElse(null));
        root.set("parity", parity(report.parity()));
        ArrayNode sides = root.putArray("sides");
        for (SideResult side : report.sides()) {
            ObjectNode node = sides.addObject().put("side", side.side().label()).put("target", side.target());
            node.set("rollout", side.rollout().map(JsonReport::rollout).orElse(null));
            node.set("rollback", side.rollback().map(JsonReport::rollout).orElse(null));
            node.put("rollbackError", side.rollbackError().orElse(null));
            node.set("running", JsonReport.state(side.after()));
            node.put("seconds", JsonReport.seconds(side.took()));
        }
        ArrayNode gates = root.putArray("gates");
        report.gates().forEach(g -> gates.add(gateBody(g)));
        return root;
    }

    /** The result of {@code gate}. */
    static ObjectNode gate(GateResult report, int exitCode) {
        ObjectNode root = JsonReport.header("gate", exitCode).put("stage", report.stage());
        root.setAll(gateBody(report));
        return root;
    }

    private static ObjectNode gateBody(GateResult report) {
        ObjectNode node = JsonReport.object().put("phase", report.phase());
        report.judged().forEach(s -> node.withArray("judged").add(s.label()));
        node.put("outcome", report.outcome().name()).put("decision", report.decision().name()).put("reason", report.reason())
                .put("windows", report.windows()).put("plannedWindows", report.plannedWindows())
                .put("started", report.started().toString()).put("seconds", JsonReport.seconds(report.took()));
        ArrayNode checks = node.putArray("checks");
        for (GateResult.CheckResult check : report.checks()) {
            ObjectNode c = checks.addObject().put("name", check.name()).put("check", check.verdict().check())
                    .put("outcome", check.verdict().outcome().name()).put("reason", check.verdict().reason());
            ObjectNode samples = c.putObject("samples");
            check.samples().forEach((series, values) -> values.forEach(samples.withArray(series)::add));
        }
        return node;
    }

    /** The result of {@code status}. */
    static ObjectNode status(List<Status.StageStatus> stages, int exitCode) {
        ObjectNode root = JsonReport.header("status", exitCode);
        ArrayNode list = root.putArray("stages");
        for (Status.StageStatus stage : stages) {
            ObjectNode node = list.addObject().put("stage", stage.stage()).put("state", stage.state());
            // An unreadable side makes parity unknown: its status says UNREADABLE, never DRIFT.
            node.set("parity", parity(stage.parity()));
            ArrayNode sides = node.putArray("sides");
            for (Status.SideStatus side : stage.sides()) {
                ObjectNode s = sides.addObject().put("side", side.side().label()).put("enabled", side.toggledOn())
                        .put("target", side.target());
                s.setAll(JsonReport.state(side.state()));
                s.put("health", side.health()).put("readable", side.readable());
                s.put("error", side.error().orElse(null));
            }
        }
        return root;
    }

    /** The result of {@code plan}. */
    static ObjectNode plan(String stage, Release release, List<Plan.Step> steps) {
        ObjectNode root = JsonReport.header("plan", 0).put("stage", stage);
        root.set("release", JsonReport.release(release));
        ArrayNode list = root.putArray("sides");
        for (Plan.Step step : steps) {
            ObjectNode node = list.addObject().put("side", step.side().label()).put("target", step.target())
                    .put("action", step.action().name()).put("summary", step.summary());
            node.set("current", step.action() == Plan.Action.SKIP ? null : JsonReport.state(step.current()));
        }
        return root;
    }

    private static ObjectNode parity(Parity parity) {
        return JsonReport.object().put("status", parity.outcome().name()).put("reason", parity.reason());
    }
}
