package dev.dualdeploy.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.Journal;
import dev.dualdeploy.journal.JournalException;
import dev.dualdeploy.journal.JournalJson;
import dev.dualdeploy.journal.RunLog;
import dev.dualdeploy.journal.RunSummary;
import dev.dualdeploy.report.ProgressLines;
import dev.dualdeploy.text.Text;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dualdeploy history}: past runs from the journal, for audit (who ran what, when, with which verdicts). Reads
 * the journal directory only: no config, no platform, no lease.
 */
@Command(name = "history", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = "Show past runs from the journal, newest first, or one run's events with --run (reads the journal only).")
final class HistoryCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--stage", paramLabel = "NAME",
            description = "Only runs that worked on this stage; with --run, only this stage's events.")
    String stage;

    @Option(names = "--run", paramLabel = "ID", description = "Show this run's events, one per line, as its progress lines said them.")
    String run;

    @Option(names = "--output", defaultValue = "text", paramLabel = "FORMAT",
            description = "text (for people) or json (a stable result on stdout).")
    BaseCommand.Output output;

    @Option(names = "--journal", defaultValue = ".dualdeploy/journal", paramLabel = "DIR",
            description = "The journal directory (default: ${DEFAULT-VALUE}, under the working directory).")
    Path journal;

    @Override
    public Integer call() {
        if (Files.exists(journal) && !Files.isDirectory(journal)) {
            throw new UsageException("--journal " + Text.line(journal.toString()) + " is not a directory: give the journal"
                    + " directory (default .dualdeploy/journal)");
        }
        Journal runs = new Journal(journal);
        try {
            if (run != null) {
                return show(runs.read(run));
            }
            return list(runs.list());
        } catch (JournalException e) {
            // A bad or unknown run id, or a journal file that cannot be read: bad input to this command (exit 2);
            // the message names the file and the line.
            throw new UsageException(e.getMessage());
        }
    }

    private int list(List<RunSummary> all) {
        // A run whose file cannot be read may have worked on the stage: it is flagged, not hidden.
        List<RunSummary> shown = stage == null ? all
                : all.stream().filter(r -> r.unreadable().isPresent() || r.stages().contains(stage)).toList();
        PrintWriter out = spec.commandLine().getOut();
        if (output == BaseCommand.Output.json) {
            ObjectNode root = header();
            ArrayNode list = root.putArray("runs");
            for (RunSummary r : shown) {
                ObjectNode node = list.addObject().put("run", r.run()).put("started", r.started().map(Object::toString).orElse(null))
                        .put("command", r.command().orElse(null));
                ArrayNode stages = node.putArray("stages");
                r.stages().forEach(stages::add);
                node.put("by", r.by().orElse(null)).put("outcome", r.outcome().orElse(null))
                        .put("exitCode", r.exitCode().orElse(null)).put("interrupted", r.interrupted()).put("events", r.events())
                        .put("cut", r.cut()).put("unreadable", r.unreadable().orElse(null));
            }
            out.println(JournalJson.pretty(root));
            return ExitCodes.OK;
        }
        if (shown.isEmpty()) {
            out.println(Text.line("no runs " + (stage == null ? "" : "of stage '" + stage + "' ") + "recorded in " + journal));
            return ExitCodes.OK;
        }
        for (RunSummary r : shown) {
            if (r.unreadable().isPresent()) {
                // One line naming the file and why; the other runs are still listed.
                out.println(Text.line(r.run() + "  unreadable: " + r.unreadable().get()));
                continue;
            }
            out.println(Text.line(r.run() + "  " + r.started().map(Object::toString).orElse("-") + "  " + r.command().orElse("?") + "  "
                    + (r.stages().isEmpty() ? "-" : String.join(",", r.stages())) + "  "
                    + r.outcome().map(o -> o + " (exit " + r.exitCode().map(String::valueOf).orElse("?") + ")").orElse("interrupted")
                    + r.by().map(b -> "  by " + b).orElse("")
                    + (r.cut() ? "  (cut: only the first " + Journal.MAX_FILE + " bytes of its journal were read)" : "")));
        }
        return ExitCodes.OK;
    }

    private int show(RunLog log) {
        List<Event> events = stage == null ? log.events()
                : log.events().stream().filter(e -> e.stage().filter(stage::equals).isPresent()).toList();
        PrintWriter out = spec.commandLine().getOut();
        if (output == BaseCommand.Output.json) {
            ObjectNode root = header().put("run", log.run()).put("interrupted", log.interrupted()).put("torn", log.torn())
                    .put("cut", log.cut());
            ArrayNode list = root.putArray("events");
            events.forEach(e -> list.add(JournalJson.tree(e)));
            out.println(JournalJson.pretty(root));
            return ExitCodes.OK;
        }
        for (Event e : events) {
            out.println(Text.line(e.at() + " " + ProgressLines.line(e)));
        }
        if (log.cut()) {
            out.println(Text.line("cut: only the first " + Journal.MAX_FILE + " bytes of the journal of " + log.run() + " were read"));
        }
        if (log.interrupted()) {
            out.println(Text.line("interrupted: the journal of " + log.run() + " ends after " + log.events().size() + " events"
                    + (log.torn() ? " and a line cut short" : "") + ", without the run's end"));
        }
        return ExitCodes.OK;
    }

    private ObjectNode header() {
        ObjectNode root = JournalJson.object().put("command", "history").put("exitCode", ExitCodes.OK);
        return root.put("journal", journal.toString());
    }
}
