package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.LeaseKeeper;
import dev.dualdeploy.pipeline.Deploy;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JUnitReport;
import dev.dualdeploy.targets.GuardedTargets;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dualdeploy deploy}: releases to the enabled sides of one stage, holds them to parity and runs the gate. */
@Command(name = "deploy", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = {"Deploy the release to the enabled sides of one stage, verify parity, and run the stage's gate.",
                "The stage succeeds only when every enabled side runs the release digest (parity) and the gate passes;"
                        + " otherwise every enabled side not on the stage's last good release is rolled back to it.",
                "With gate.canary, the canary side goes first and is judged against the other side; a canary that fails is"
                        + " rolled back to the last good release alone, and the other side, still on it, is never written."})
final class DeployCommand extends BaseCommand {

    @Option(names = "--stage", required = true, paramLabel = "NAME", description = "The stage to deploy to.")
    String stage;

    @Option(names = "--no-rollback", description = "Leave a failed release in place instead of rolling back.")
    boolean noRollback;

    @Option(names = "--no-gate", description = "Deploy and verify parity, but do not run the stage's gate.")
    boolean noGate;

    @Option(names = "--junit", paramLabel = "FILE", description = "Write the gate's checks as JUnit XML to FILE (one testcase per check), when the gate ran.")
    Path junit;

    @Mixin
    ReleaseOptions release;

    @Mixin
    ToggleOptions toggle;

    @Mixin
    LeaseOptions lease;

    @Mixin
    JournalOption journal;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        StageSpec stageSpec = stage(config, stage);
        Release pinned = release.release(config);
        ToggleSpec sides = toggle.apply(stageSpec);
        Abort abort = Abort.create();
        // The handlers are in place before the run begins and until its result is printed: a signal at any moment after
        // "run started" ends the run in a defined state (exit 6, its end journaled, one JSON document), never as 143.
        try (AbortSignals signals = new AbortSignals(abort, stage, spec.commandLine().getErr(), "putting back what this run"
                + " changed in the stage, each side followed for at most " + Durations.format(Abort.putBack(stageSpec.timeout())))) {
            EventSink events = begin(journal.journal, List.of(stage), Optional.of(pinned));
            StageResult report;
            try (PlatformTargets platforms = new PlatformTargets(CLOCK, Sleeper.SYSTEM);
                 LeaseKeeper held = lease.hold(platforms, config.service(), stageSpec, sides.kubernetes(), events, abort);
                 GateFactory gates = new GateFactory(config.service(), events, abort)) {
                if (abort.requested()) {
                    report = abortedBeforeAnyChange(events, stage, Optional.of(pinned), abort, where(held, "the deploy"));
                } else {
                    // Which run a kill stopped in this stage, and where: said only (journaled nothing); the platforms decide.
                    sayInterrupted(journal.journal, stage);
                    report = new Deploy(new GuardedTargets(platforms, held::lost), events, gates, CLOCK, abort)
                            .run(stageSpec, pinned, sides, !noRollback, !noGate);
                }
            }
            int code = ExitCodes.of(report);
            // The report is written before the run ends, so that the journal's exit code is the one the process returns.
            if (junit != null && JUnitReport.hasGates(events())) {
                code = junit(junit, stage, code);
            }
            end(report.outcome().name(), code, report.reason());
            Print.stage(out(), "deploy", report, events(), code, json(), runId());
            return code;
        }
    }
}
