package dev.dualdeploy.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.text.Text;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code dualdeploy approval}: journals a person's consent asked before a stage changes, or its answer, as a run of its
 * own, so that the audit trail (`history`) says who was asked, who answered and how. The Jenkins step calls it around
 * its {@code input}; it changes nothing and reads no platform.
 */
@Command(name = "approval", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = {"Journal that a stage's approval was asked (--asked) or answered (--approved or --rejected).",
                "It changes nothing and reads no platform: the Jenkins step calls it around its input, for the audit trail."})
final class ApprovalCommand extends BaseCommand {

    @Option(names = "--stage", required = true, paramLabel = "NAME", description = "The stage the approval guards.")
    String stage;

    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    static final class What {
        @Option(names = "--asked", required = true, description = "The approval was asked (with --submitters and --timeout).")
        boolean asked;

        @Option(names = "--approved", required = true, description = "The approval was given (with --by).")
        boolean approved;

        @Option(names = "--rejected", required = true, description = "The approval was refused, aborted or timed out (--by when"
                + " someone answered).")
        boolean rejected;
    }

    @Option(names = "--submitters", paramLabel = "LIST", description = "Who may answer, comma-separated (with --asked).")
    String submitters;

    @Option(names = "--timeout", paramLabel = "DURATION", description = "How long the question stays open, such as 30m (with"
            + " --asked).")
    String timeout;

    @Option(names = "--plan", paramLabel = "TEXT", description = "What will change, in one line (with --asked).")
    String plan;

    @Option(names = "--by", paramLabel = "USER", description = "Who answered (with --approved or --rejected).")
    String by;

    @Option(names = "--reason", paramLabel = "TEXT", description = "What the answer or the timeout said.")
    String reason;

    @Mixin
    JournalOption journal;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        stage(config, stage);
        String said = what.asked ? "asked" : what.approved ? "approved" : "rejected";
        List<String> who = List.of();
        Duration open = Duration.ZERO;
        if (what.asked) {
            if (by != null) {
                throw new UsageException("--by goes with --approved or --rejected, not --asked");
            }
            who = submitters == null ? List.of() : Arrays.stream(submitters.split(",")).map(String::strip)
                    .filter(s -> !s.isEmpty()).map(Text::foreign).toList();
            if (who.isEmpty()) {
                throw new UsageException("--asked needs --submitters: who may answer, such as --submitters alice,release-managers");
            }
            open = Optional.ofNullable(timeout).flatMap(Durations::parse).orElseThrow(() -> new UsageException(
                    "--asked needs --timeout: how long the question stays open, such as --timeout 30m (digits and ms, s, m, h)"));
        } else if (submitters != null || timeout != null || plan != null) {
            throw new UsageException("--submitters, --timeout and --plan go with --asked");
        }
        // Every value a person or the Jenkins step gave is escaped and capped, as every value from outside is journaled.
        EventSink events = begin(journal.journal, List.of(stage), Optional.empty());
        events.accept(what.asked
                ? new Event.ApprovalAsked(events.run(), events.now(), Optional.of(stage), Optional.empty(), who, open,
                        plan == null ? "" : Text.foreign(plan))
                : new Event.ApprovalAnswered(events.run(), events.now(), Optional.of(stage), Optional.empty(), what.approved,
                        Optional.ofNullable(by).filter(b -> !b.isBlank()).map(Text::foreign),
                        Optional.ofNullable(reason).filter(r -> !r.isBlank()).map(Text::foreign)));
        end("SUCCEEDED", ExitCodes.OK, "approval " + said);
        if (json()) {
            ObjectNode result = JsonReport.header("approval", ExitCodes.OK).put("stage", stage).put("approval", said)
                    .put("run", runId());
            out().println(JsonReport.write(result));
        } else {
            out().println("approval " + said + " for stage " + stage + " (run " + runId() + ")");
        }
        return ExitCodes.OK;
    }
}
