package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.pipeline.Status;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.time.Sleeper;
import java.time.Clock;
import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.traffic.Routers;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import dev.dualdeploy.traffic.TrafficRouter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dualdeploy status}: what runs per stage and side, and PARITY or DRIFT. */
@Command(name = "status", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = {"Show per stage and side the digest, version and health, and PARITY or DRIFT between the enabled sides.",
                "For a stage with a cutover, also the share of its traffic on Kubernetes, read from its router."})
final class StatusCommand extends BaseCommand {

    @Option(names = "--stage", paramLabel = "NAME", description = "Only this stage (default: every stage).")
    String stage;

    @Option(names = "--check", description = "Exit 3 if any stage shows DRIFT, 4 if a side or a router cannot be read.")
    boolean check;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        List<StageSpec> stages = stage == null ? config.stages() : List.of(stage(config, stage));
        List<Status.StageStatus> result;
        try (PlatformTargets targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM)) {
            result = new Status(targets).read(stages);
        }
        Map<String, Traffic> traffic = new LinkedHashMap<>();
        stages.forEach(s -> s.cutover().ifPresent(c -> traffic.put(s.name(), traffic(c.router()))));
        int code = ExitCodes.OK;
        if (check) {
            boolean unreadable = result.stream().flatMap(s -> s.sides().stream()).anyMatch(s -> !s.readable())
                    || traffic.values().stream().anyMatch(t -> t.error().isPresent());
            boolean drift = result.stream().anyMatch(s -> s.parity().outcome() == Parity.Outcome.DRIFT);
            code = unreadable ? ExitCodes.NEEDS_ATTENTION : drift ? ExitCodes.DRIFT : ExitCodes.OK;
        }
        if (json()) {
            out().println(JsonReport.write(JsonResults.status(result, traffic, code)));
            return code;
        }
        for (Status.StageStatus s : result) {
            out().println(s.stage() + ": " + s.state() + " (" + s.parity().reason() + ")");
            Traffic t = traffic.get(s.stage());
            if (t != null) {
                out().println("  traffic    " + t.split().map(Split::toString).orElse("cannot be read: " + t.error().orElse("")) + " at " + t.router());
            }
            for (Status.SideStatus side : s.sides()) {
                out().println(String.format("  %-10s %-8s %-12s %-12s %-11s %s", side.side().label(), side.toggledOn() ? "on" : "off",
                        side.state().version().orElse("-"), side.state().digest().map(Release::shortDigest).orElse("-"),
                        side.health(), side.error().orElse(side.target() + ", " + side.state().detail() + lastGood(side.state()))));
            }
        }
        return code;
    }

    /**
     * Where a stage's traffic is, as its router says.
     *
     * @param router the router, as it describes itself (the config's kind when it could not be opened)
     * @param split the split read, or empty
     * @param error why it could not be read, or empty
     */
    record Traffic(String router, Optional<Split> split, Optional<String> error) {
    }

    /** Reads one router; a router that cannot be opened or read is the stage's error, never the command's. */
    private static Traffic traffic(RouterSpec spec) {
        String where = spec.kind();
        try (TrafficRouter router = Routers.open(spec, System::getenv)) {
            where = router.describe();
            return new Traffic(where, Optional.of(router.read()), Optional.empty());
        } catch (RuntimeException e) {
            String why = e instanceof TrafficException || e instanceof IllegalArgumentException ? e.getMessage()
                    : e.getClass().getSimpleName() + ": " + e.getMessage();
            return new Traffic(where, Optional.empty(), Optional.of(Text.oneLine(String.valueOf(why))));
        }
    }

    /** What failure recovery returns the side to, for the person deciding whether the stage is where it should be. */
    private static String lastGood(TargetState state) {
        if (state.lastGoodImage().isEmpty()) {
            return state.readable() ? ", no last good release recorded" : "";
        }
        String image = state.lastGoodImage().get();
        return state.onLastGood() ? ", on its last good release"
                : ", last good " + Release.shortImage(image);
    }
}
