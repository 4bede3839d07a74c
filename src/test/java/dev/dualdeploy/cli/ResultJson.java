package dev.dualdeploy.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.pipeline.GateResult;
import dev.dualdeploy.pipeline.SideResult;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.targets.RolloutResult;

/**
 * The JSON results of {@code deploy}, {@code rollback} and {@code gate} as the CLI built them from the engine's result
 * records before they were read from the run's events (issue 9): kept as the oracle that {@link JsonFromEventsTest}
 * holds the event-derived JSON to, byte for byte. The one change since: a rollout's {@code supersededBy}.
 */
final class ResultJson {

    private ResultJson() {
    }

    static ObjectNode stage(String command, StageResult report, int exitCode) {
        ObjectNode root = JsonReport.header(command, exitCode);
        root.put("stage", report.stage()).put("outcome", report.outcome().name()).put("reason", report.reason());
        root.set("release", report.release().map(JsonReport::release).orElse(null));
        root.set("parity", JsonReport.object().put("status", report.parity().outcome().name()).put("reason", report.parity().reason()));
        ArrayNode sides = root.putArray("sides");
        for (SideResult side : report.sides()) {
            ObjectNode node = sides.addObject().put("side", side.side().label()).put("target", side.target());
            node.set("rollout", side.rollout().map(r -> rollout(r).put("supersededBy", r.supersededBy().orElse(null))).orElse(null));
            node.set("rollback", side.rollback().map(ResultJson::rollout).orElse(null));
            node.put("rollbackError", side.rollbackError().orElse(null));
            node.set("running", JsonReport.state(side.after()));
            node.put("seconds", JsonReport.seconds(side.took()));
        }
        ArrayNode gates = root.putArray("gates");
        report.gates().forEach(g -> gates.add(gateBody(g)));
        return root;
    }

    static ObjectNode gate(GateResult report, int exitCode) {
        ObjectNode root = JsonReport.header("gate", exitCode).put("stage", report.stage());
        root.setAll(gateBody(report));
        return root;
    }

    private static ObjectNode rollout(RolloutResult result) {
        return JsonReport.object().put("status", result.outcome().name()).put("reason", result.reason())
                .put("seconds", JsonReport.seconds(result.took()));
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
}
