package dev.dualdeploy.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.CutoverSpec;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.Journal;
import dev.dualdeploy.journal.Judged;
import dev.dualdeploy.journal.LeaseHeldException;
import dev.dualdeploy.journal.LeaseKeeper;
import dev.dualdeploy.pipeline.Cutover;
import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.report.JUnitReport;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.Routers;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficRouter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dualdeploy cutover}: moves a stage's live traffic to Kubernetes in judged steps, or back to legacy. */
@Command(name = "cutover", mixinStandardHelpOptions = true, footer = CutoverCommand.HELP,
        description = {"Move the share of a stage's live traffic that Kubernetes serves up its cutover steps, each set, read back"
                + " from the router and judged (kubernetes against legacy) before the next; or put it all back on legacy.",
                "Traffic moves only while both sides run the same release, healthy. A FAIL or ERROR at any step, or an abort,"
                        + " sets 0%% on kubernetes at once and reads it back. A run starts where the router holds traffic: a run"
                        + " that was stopped is resumed by running it again."})
final class CutoverCommand extends BaseCommand {

    static final String HELP = "%nExit codes:%n"
            + "  0   traffic is at the goal, every step moved to passed its gate (--revert: traffic is on legacy, read back)%n"
            + "  1   a step FAILED and traffic is back on legacy, read back at 0%% on kubernetes%n"
            + "  2   bad input (config, flags, a credential variable that is not set); nothing was changed%n"
            + "  3   the sides run different releases (DRIFT); no traffic moved%n"
            + "  4   needs a person: the router could not be read or written or did not hold what was set (the message"
            + " says where traffic is), a side is unhealthy or cannot be read, or the --junit report could not be written%n"
            + "  5   the stage is leased by another run (named, with since when); nothing was changed%n"
            + "  6   aborted (SIGTERM/SIGINT): traffic is back on legacy, read back (a failed revert is 4)%n"
            + "  70  internal error (rerun with --stacktrace and report it)%n";

    @Option(names = "--stage", required = true, paramLabel = "NAME", description = "The stage whose traffic moves.")
    String stage;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Goal goal = new Goal();

    /** Where the traffic goes: one of --to, --next and --revert; the last step when none is given. */
    static final class Goal {
        @Option(names = "--to", paramLabel = "PERCENT", description = "Go up (or down) to this step of the cutover, judging each"
                + " step on the way. Default: the last step.")
        Integer to;

        @Option(names = "--next", description = "Go one step up from where the router holds traffic.")
        boolean next;

        @Option(names = "--revert", description = "Put all traffic back on legacy now (0%% on kubernetes), read back; no gate.")
        boolean revert;
    }

    @Option(names = "--junit", paramLabel = "FILE", description = "Write each step's gate checks as JUnit XML to FILE (one"
            + " testcase per check and step).")
    Path junit;

    @Mixin
    LeaseOptions lease;

    @Mixin
    JournalOption journal;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        StageSpec stageSpec = stage(config, stage);
        CutoverSpec cutover = stageSpec.cutover().orElseThrow(() -> new UsageException("stage " + stage + " has no cutover: section in "
                + file + "; add one to move its traffic (see \"Cutover\" in the README)"));
        Cutover.Goal to = goal(cutover);
        Abort abort = Abort.create();
        String putBack = to.revert() ? "the revert goes on (it is the put-back)" : "putting traffic back on legacy (0% on kubernetes),"
                + " read back";
        try (AbortSignals signals = new AbortSignals(abort, stage, spec.commandLine().getErr(), putBack)) {
            EventSink events = begin(journal.journal, List.of(stage), Optional.empty());
            Cutover.Result result;
            try (TrafficRouter router = Routers.open(cutover.router(), System::getenv);
                 PlatformTargets platforms = new PlatformTargets(CLOCK, Sleeper.SYSTEM);
                 LeaseKeeper held = to.revert() ? leaseIfFree(platforms, config.service(), stageSpec, events)
                         : lease.hold(platforms, config.service(), stageSpec, true, events, abort);
                 GateFactory gates = new GateFactory(config.service(), events, abort)) {
                if (abort.requested() && !to.revert()) {
                    String reason = abortedBeforeAnyChange(events, stage, Optional.empty(), abort, where(held, "the cutover")).reason();
                    int code = ExitCodes.ABORTED;
                    end("ABORTED", code, reason);
                    print(code, Optional.empty());
                    return code;
                }
                sayInterrupted(journal.journal, stage);
                Optional<Judged.Verdict> judged = Judged.share(new Journal(journal.journal), stage, runId());
                result = new Cutover(platforms, router, gates, events, CLOCK, abort, held::lost).run(stageSpec, to, judged);
            }
            int code = code(result);
            // The report is written before the run ends, so that the journal's exit code is the one the process returns.
            if (junit != null && JUnitReport.hasGates(events())) {
                code = junit(junit, stage, code);
            }
            end(result.outcome().name(), code, result.reason());
            print(code, Optional.of(result));
            return code;
        }
    }

    /**
     * The stage's lease for a revert, if it can be had at once; else none, said as a notice. Putting traffic back on
     * legacy is the one write that is always safe, and it is needed most when the lease cannot be had: a run killed
     * mid-step left it behind, another run is stuck, or the Kubernetes API is down. Waiting for the lease there would
     * keep live traffic on a failing side.
     */
    private LeaseKeeper leaseIfFree(PlatformTargets platforms, String service, StageSpec stage, EventSink events) {
        try {
            lease.waitLock = Duration.ZERO;
            return lease.hold(platforms, service, stage, true, events, Abort.none());
        } catch (LeaseHeldException | TargetException e) {
            events.accept(new Event.Notice(events.run(), events.now(), Optional.of(stage.name()), Optional.empty(),
                    "reverting without the stage lease, which cannot be had now (" + Text.oneLine(e.getMessage()) + "): putting traffic"
                            + " back on legacy is always safe"));
            return LeaseKeeper.none(events.run(), stage.name());
        }
    }

    /** The goal the flags name; a --to that is not a step is bad input, before anything is read. */
    private Cutover.Goal goal(CutoverSpec cutover) {
        if (goal.revert) {
            return Cutover.Goal.toLegacy();
        }
        if (goal.next) {
            return Cutover.Goal.nextStep();
        }
        if (goal.to != null) {
            if (!cutover.steps().contains(goal.to)) {
                throw new UsageException("--to " + goal.to + " is not a step of stage " + stage + "'s cutover " + cutover.steps()
                        + "; use one of them, or --revert for 0%");
            }
            return Cutover.Goal.to(goal.to);
        }
        return Cutover.Goal.to(cutover.last());
    }

    /** The exit code that says how the cutover ended; the engine carries none. */
    static int code(Cutover.Result result) {
        return switch (result.outcome()) {
            case SUCCEEDED -> ExitCodes.OK;
            case REVERTED -> ExitCodes.FAILED;
            case REFUSED -> result.parity().map(Parity::outcome).filter(o -> o == Parity.Outcome.DRIFT).isPresent() ? ExitCodes.DRIFT
                    : ExitCodes.NEEDS_ATTENTION;
            case UNREADABLE, ROUTER_FAILED -> ExitCodes.NEEDS_ATTENTION;
            case ABORTED -> ExitCodes.ABORTED;
        };
    }

    private void print(int code, Optional<Cutover.Result> result) {
        if (json()) {
            ObjectNode node = JsonReport.cutover(events(), code).put("run", runId());
            out().println(JsonReport.write(node));
            return;
        }
        if (result.isEmpty()) {
            events().stream().filter(Event.RunEnded.class::isInstance).map(Event.RunEnded.class::cast).reduce((a, b) -> b)
                    .ifPresent(e -> out().println("cutover " + stage + ": " + e.outcome() + " - " + e.reason()));
            return;
        }
        Cutover.Result r = result.get();
        out().println("cutover " + stage + ": " + r.outcome() + " - " + r.reason());
        r.before().ifPresent(b -> out().println("  before: " + b));
        r.after().ifPresent(a -> out().println("  after:  " + a));
        r.steps().forEach(s -> out().println("  step " + new Split(s.kubernetes(), "").percent() + ": "
                + s.gate().outcome() + " → " + s.gate().decision() + " - " + s.gate().reason()));
    }
}
