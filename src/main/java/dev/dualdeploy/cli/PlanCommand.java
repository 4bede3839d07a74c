package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.pipeline.Plan;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.time.Sleeper;
import java.time.Clock;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dualdeploy plan}: what a deploy would change on each side; reads the platforms, writes nothing. */
@Command(name = "plan", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = "Show what a deploy of the release to a stage would change on each side. Changes nothing.")
final class PlanCommand extends BaseCommand {

    @Option(names = "--stage", required = true, paramLabel = "NAME", description = "The stage to plan for.")
    String stage;

    @Mixin
    ReleaseOptions release;

    @Mixin
    ToggleOptions toggle;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        StageSpec stageSpec = stage(config, stage);
        Release r = release.release(config);
        try (PlatformTargets targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM)) {
            List<Plan.Step> steps = new Plan(targets).of(stageSpec, r, toggle.apply(stageSpec));
            if (json()) {
                out().println(JsonReport.write(JsonResults.plan(stage, r, steps)));
            } else {
                out().println("plan for " + stage + ": release " + r.version() + " (" + r.image() + ")");
                steps.forEach(s -> out().println("  " + s.side().label() + " (" + s.target() + "): " + s.summary()));
            }
        }
        return ExitCodes.OK;
    }
}
