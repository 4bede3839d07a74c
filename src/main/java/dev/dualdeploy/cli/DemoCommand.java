package dev.dualdeploy.cli;

import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.local.Demo;
import dev.dualdeploy.report.ProgressLines;
import dev.dualdeploy.text.Text;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dualdeploy demo}: the scripted demo in the embedded local environment; exits 0 only if every check held. */
@Command(name = "demo", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        // The first line is the summary 'dualdeploy --help' lists, so it must be a whole sentence (issue 8 item 29).
        description = {"Run a sample service through sandbox, preprod, beta and prod on ECS and Kubernetes in the"
                + " embedded local environment, then two broken releases that must be caught and rolled back.",
                "Exits 0 only if everything behaved as it should."})
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to write the environment's files (default: a temporary directory).")
    Path dir;

    @Option(names = "--quiet", description = "Print only the account, not every progress event.")
    boolean quiet;

    @Override
    public Integer call() throws IOException {
        if (dir != null && Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UsageException("--dir: '" + dir + "' is a file, not a directory; name a directory for the environment's files");
        }
        Path where = dir != null ? dir : Files.createTempDirectory("dualdeploy-demo");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // The demo's own events are printed, not journaled: it runs in a throwaway environment.
        EventSink events = EventSink.of(RunIds.next(Clock.systemUTC()), Clock.systemUTC(), quiet ? event -> { } : event -> {
            synchronized (err) {
                err.println("    " + Text.line(ProgressLines.line(event)));
                err.flush();
            }
        });
        List<Demo.Claim> checks = new Demo(out, events).run(where);
        out.flush();
        return checks.stream().allMatch(Demo.Claim::held) ? ExitCodes.OK : ExitCodes.FAILED;
    }
}
