package dev.dualdeploy.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.pipeline.Gate;
import dev.dualdeploy.pipeline.GateResult;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.time.Abort;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dualdeploy gate}: runs a stage's gate alone against what runs now; it changes nothing. */
@Command(name = "gate", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = {"Run the gate of one stage alone: watch the enabled sides for the soak and judge every check.",
                "It deploys and rolls back nothing; exit 0 is PASS, 1 is FAIL, 4 is an ERROR with on_error: pause."})
final class GateCommand extends BaseCommand {

    @Option(names = "--stage", required = true, paramLabel = "NAME", description = "The stage whose gate runs.")
    String stage;

    @Option(names = "--side", paramLabel = "SIDE", description = "Judge only this side (legacy or kubernetes), as a canary"
            + " against the other.")
    String side;

    @Option(names = "--deployed-at", paramLabel = "INSTANT", description = "When the release was deployed (ISO-8601, such as"
            + " 2026-11-22T10:15:30Z): before-deploy baselines end there. Default: now.")
    String deployedAt;

    @Option(names = "--junit", paramLabel = "FILE", description = "Write the checks as JUnit XML to FILE (one testcase per check).")
    Path junit;

    // Its own --legacy and --kubernetes, not the ToggleOptions mixin: gate deploys nothing, so "Deploy to the legacy
    // side" would tell a person the wrong thing (issue 8 item 29).
    @Option(names = "--legacy", arity = "0..1", paramLabel = "BOOL", fallbackValue = "true",
            description = "Judge the legacy side (true/false; overrides the config's toggle). Nothing is deployed.")
    Boolean legacy;

    @Option(names = "--kubernetes", arity = "0..1", paramLabel = "BOOL", fallbackValue = "true",
            description = "Judge the Kubernetes side (true/false; overrides the config's toggle). Nothing is deployed.")
    Boolean kubernetes;

    @Mixin
    JournalOption journal;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        StageSpec stageSpec = stage(config, stage);
        if (!stageSpec.gate().analyses()) {
            throw new UsageException("stage " + stage + " has no gate checks in " + file + "; add gate.checks to judge it");
        }
        List<Side> judged;
        if (side != null) {
            Side chosen = Side.fromLabel(side);
            if (!stageSpec.configured(chosen)) {
                throw new UsageException("stage " + stage + " has no " + side + " side");
            }
            judged = List.of(chosen);
        } else {
            ToggleSpec on = ToggleOptions.apply(stageSpec, legacy, kubernetes);
            judged = List.of(Side.values()).stream().filter(on::on).toList();
            if (judged.isEmpty()) {
                throw new UsageException("no side of stage " + stage + " is enabled; nothing to judge");
            }
        }
        Instant deployed;
        try {
            deployed = deployedAt == null ? Instant.now() : Instant.parse(deployedAt);
        } catch (DateTimeParseException e) {
            throw new UsageException("--deployed-at '" + deployedAt + "' is not an ISO-8601 instant such as 2026-11-22T10:15:30Z");
        }
        Map<Side, Instant> at = new EnumMap<>(Side.class);
        judged.forEach(s -> at.put(s, deployed));
        Abort abort = Abort.create();
        // The gate changes nothing, so a signal only ends it: no new window starts, and the run ends ABORTED (exit 6) with
        // its result printed, the handlers in place from before the run begins until then.
        try (AbortSignals signals = new AbortSignals(abort, stage, spec.commandLine().getErr(), "ending the gate at its next"
                + " window (it changed nothing, so nothing is put back)")) {
            EventSink events = begin(journal.journal, List.of(stage), Optional.empty());
            // The gate changes nothing: its stage starts with no before-images, and ends as the gate decided.
            events.accept(new Event.StageStarted(events.run(), events.now(), Optional.of(stage), Optional.empty(), "gate", judged,
                    Optional.empty(), Optional.empty(), List.of()));
            GateResult report;
            try (GateFactory gates = new GateFactory(config.service(), events, abort)) {
                Gate gate = gates.apply(stageSpec);
                report = gate.run(new Gate.Phase("gate", judged, stageSpec.gate().soak(), at));
            }
            boolean aborted = abort.requested();
            int code = aborted ? ExitCodes.ABORTED : switch (report.decision()) {
                case PASS -> ExitCodes.OK;
                case FAIL -> ExitCodes.FAILED;
                case PAUSE -> ExitCodes.NEEDS_ATTENTION;
            };
            String outcome = aborted ? "ABORTED" : switch (report.decision()) {
                case PASS -> "SUCCEEDED";
                case FAIL -> "FAILED";
                case PAUSE -> "PAUSED";
            };
            String reason = aborted ? "aborted (" + abort.reason().orElse("abort") + ") during the gate, after " + report.windows()
                    + " of " + report.plannedWindows() + " windows: not judged; nothing was changed" : report.reason();
            if (aborted) {
                events.accept(new Event.Aborted(events.run(), events.now(), Optional.of(stage), Optional.empty(),
                        abort.reason().orElse("abort")));
            }
            events.accept(new Event.StageEnded(events.run(), events.now(), Optional.of(stage), Optional.empty(), outcome, reason,
                    Optional.empty()));
            // The report is written before the run ends, so that the journal's exit code is the one the process returns.
            if (junit != null) {
                code = junit(junit, stage, code);
            }
            end(outcome, code, reason);
            if (json()) {
                ObjectNode result = JsonReport.gate(events(), code).put("run", runId());
                // The gate's own outcome and decision stay as it reached them; an abort is said beside them (null when none:
                // absent values are null, never missing keys).
                result.put("aborted", aborted ? reason : null);
                out().println(JsonReport.write(result));
            } else if (aborted) {
                out().println("gate " + stage + ": ABORTED - " + reason);
            } else {
                out().println("gate " + stage + ": " + report.outcome() + " → " + report.decision() + " - " + report.reason());
                report.checks().forEach(c -> out().println("  " + c.verdict().outcome() + "  " + c.name() + ": " + c.verdict().reason()));
            }
            return code;
        }
    }
}
