package dev.dualdeploy.cli;

import dev.dualdeploy.journal.Event;
import dev.dualdeploy.pipeline.GateResult;
import dev.dualdeploy.pipeline.SideResult;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JsonReport;
import java.io.PrintWriter;
import java.util.List;

/** Prints a stage result as text for people, or as JSON for machines, read from the run's events. */
final class Print {

    private Print() {
    }

    /**
     * @param events the run's events, which the JSON result is read from (as the progress lines and the JUnit XML are)
     * @param run the run id, which the JSON result carries
     */
    static void stage(PrintWriter out, String command, StageResult report, List<Event> events, int code, boolean json, String run) {
        if (json) {
            out.println(JsonReport.write(JsonReport.stage(command, events, code).put("run", run)));
            return;
        }
        out.println(command + " " + report.stage() + ": " + report.outcome() + " - " + report.reason());
        for (SideResult side : report.sides()) {
            // A side that could not be read has no version, digest or health to show: say so and why, once.
            out.println("  " + side.side().label() + " (" + side.target() + "): " + (side.after().readable()
                    ? "runs " + side.after().version().orElse("?") + " " + side.after().digest().map(Release::shortDigest).orElse("unknown digest")
                    + ", " + side.after().health()
                    : side.after().health() + ", cannot be read: " + side.after().detail()));
        }
        out.println("  parity: " + report.parity().outcome() + " (" + report.parity().reason() + ")");
        for (GateResult gate : report.gates()) {
            out.println("  gate " + gate.phase() + ": " + gate.outcome() + " → " + gate.decision() + " after " + gate.windows() + " of "
                    + gate.plannedWindows() + " windows");
            gate.checks().forEach(c -> out.println("    " + c.verdict().outcome() + "  " + c.name() + ": " + c.verdict().reason()));
        }
    }
}
