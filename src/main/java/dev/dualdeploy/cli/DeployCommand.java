package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.LeaseKeeper;
import dev.dualdeploy.pipeline.Promotion;
import dev.dualdeploy.pipeline.StageReport;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JUnitReport;
import dev.dualdeploy.targets.GuardedTargets;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.time.Sleeper;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Consumer;
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

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        StageSpec stageSpec = stage(config, stage);
        Release releasing = release.release(config);
        ToggleSpec sides = toggle.apply(stageSpec);
        Consumer<Event> events = event -> reporter().event(stage, null, event.message());
        StageReport report;
        try (PlatformTargets platforms = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM);
             LeaseKeeper held = lease.hold(platforms, config.service(), stageSpec, sides.kubernetes(), runId(), events, reporter());
             GateFactory gates = new GateFactory(config.service(), reporter())) {
            report = new Promotion(new GuardedTargets(platforms, held::lost), reporter(), gates, Clock.systemUTC())
                    .run(stageSpec, releasing, sides, !noRollback, !noGate);
        }
        if (junit != null && !report.gates().isEmpty()) {
            JUnitReport.write(junit, report.gates());
        }
        int code = ExitCodes.of(report);
        Print.stage(out(), "deploy", report, code, json());
        return code;
    }
}
