package dev.dualdeploy.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.pipeline.Plan;
import dev.dualdeploy.pipeline.Status;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JsonReport;
import java.util.List;
import java.util.Map;

/**
 * The JSON results of the read-only commands that ask the engine ({@code status}, {@code plan}), from the engine's
 * answers, in the shapes the README documents; {@code report/JsonReport} gives the parts and reads no engine type.
 * These two journal nothing (they change and judge nothing, so they begin no run), so there are no events to read
 * them from; the results of {@code deploy}, {@code rollback} and {@code gate} are read from their runs' events
 * ({@code JsonReport.stage}, {@code JsonReport.gate}).
 */
final class JsonResults {

    private JsonResults() {
    }

    /** The result of {@code status} without routers. */
    static ObjectNode status(List<Status.StageStatus> stages, int exitCode) {
        return status(stages, Map.of(), exitCode);
    }

    /**
     * The result of {@code status}: each stage's sides, and for a stage with a cutover its {@code traffic} as its router
     * says ({@code null} for a stage without one).
     */
    static ObjectNode status(List<Status.StageStatus> stages, Map<String, StatusCommand.Traffic> traffic, int exitCode) {
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
            StatusCommand.Traffic t = traffic.get(stage.stage());
            if (t == null) {
                node.putNull("traffic");
            } else {
                ObjectNode split = node.putObject("traffic").put("router", t.router());
                if (t.split().isPresent()) {
                    split.put("kubernetes", t.split().get().kubernetes()).put("reported", t.split().get().reported());
                } else {
                    split.putNull("kubernetes").putNull("reported");
                }
                split.put("error", t.error().orElse(null));
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
