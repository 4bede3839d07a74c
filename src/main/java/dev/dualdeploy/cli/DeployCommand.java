package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.pipeline.Deploy;
import dev.dualdeploy.pipeline.PlatformTargets;
import dev.dualdeploy.pipeline.StageReport;
import dev.dualdeploy.target.Sleeper;
import java.time.Clock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dualdeploy deploy}: releases to the enabled sides of one stage in parallel and holds them to parity. */
@Command(name = "deploy", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = {"Deploy the release to the enabled sides of one stage, in parallel.",
                "The stage succeeds only when every enabled side runs the release digest (parity); otherwise every side"
                        + " that changed is rolled back to its previous release."})
final class DeployCommand extends BaseCommand {

    @Option(names = "--stage", required = true, paramLabel = "NAME", description = "The stage to deploy to.")
    String stage;

    @Option(names = "--no-rollback", description = "Leave a failed release in place instead of rolling back.")
    boolean noRollback;

    @Mixin
    ReleaseOptions release;

    @Mixin
    ToggleOptions toggle;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        StageSpec stageSpec = stage(config, stage);
        StageReport report;
        try (PlatformTargets targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM)) {
            report = new Deploy(targets, reporter()).run(stageSpec, release.release(config), toggle.apply(stageSpec), !noRollback);
        }
        int code = report.outcome().exitCode();
        Print.stage(out(), "deploy", report, code, json());
        return code;
    }
}
