package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.LeaseKeeper;
import dev.dualdeploy.pipeline.Rollback;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.targets.GuardedTargets;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dualdeploy rollback}: returns one or both sides of a stage to the last good release (or the one before it). */
@Command(name = "rollback", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = "Return a stage to its last good release, on one side or both; a side that already runs it goes"
                + " back to the good release before it.")
final class RollbackCommand extends BaseCommand {

    /** Which sides to roll back. */
    enum Which { legacy, kubernetes, both }

    @Option(names = "--stage", required = true, paramLabel = "NAME", description = "The stage to roll back.")
    String stage;

    @Option(names = "--side", paramLabel = "SIDE",
            description = "legacy, kubernetes or both (every configured side). Default: the sides the stage deploys to (its"
                    + " deploy toggle), as a deploy and its recovery do.")
    Which side;

    @Mixin
    LeaseOptions lease;

    @Mixin
    JournalOption journal;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        StageSpec stageSpec = stage(config, stage);
        // Without --side, the sides the stage deploys to: a side toggled off (a legacy side being decommissioned) is
        // not one a deploy or its recovery touches, and its platform need not answer for the others to go back.
        List<Side> sides = List.of(Side.values()).stream()
                .filter(s -> side == null ? stageSpec.toggle().on(s) : side == Which.both || s.label().equals(side.name()))
                .filter(stageSpec::configured)
                .toList();
        if (sides.isEmpty()) {
            throw new UsageException(side == null ? "stage " + stage + " deploys to no side; name one with --side"
                    : "stage " + stage + " has no " + side + " side to roll back");
        }
        Abort abort = Abort.create();
        // In place before the run begins and until its result is printed (see DeployCommand).
        try (AbortSignals signals = new AbortSignals(abort, stage, spec.commandLine().getErr(), "finishing the rollback under way"
                + " (it is the way back to a good release, so it is not undone), each side followed for at most the stage's"
                + " timeout (" + Durations.format(stageSpec.timeout()) + ")")) {
            EventSink events = begin(journal.journal, List.of(stage), Optional.empty());
            StageResult report;
            try (PlatformTargets platforms = new PlatformTargets(CLOCK, Sleeper.SYSTEM);
                 LeaseKeeper held = lease.hold(platforms, config.service(), stageSpec, sides.contains(Side.KUBERNETES), events, abort)) {
                if (abort.requested()) {
                    report = abortedBeforeAnyChange(events, stage, Optional.empty(), abort, where(held, "the rollback"));
                } else {
                    // As deploy does: which run a kill stopped in this stage, said once this run holds the lease.
                    sayInterrupted(journal.journal, stage);
                    report = new Rollback(new GuardedTargets(platforms, held::lost), events, abort).run(stageSpec, sides);
                }
            }
            int code = ExitCodes.of(report);
            end(report.outcome().name(), code, report.reason());
            Print.stage(out(), "rollback", report, events(), code, json(), runId());
            return code;
        }
    }
}
