package dev.dualdeploy.cli;

import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.Interrupted;
import dev.dualdeploy.journal.Journal;
import dev.dualdeploy.journal.LeaseKeeper;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JUnitReport;
import dev.dualdeploy.targets.kubernetes.Kubeconfig;
import dev.dualdeploy.text.EscapingWriter;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Abort;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** What every config-reading subcommand shares: the config file, the output format, and how progress is printed. */
abstract class BaseCommand implements Callable<Integer> {

    /** The output formats. */
    enum Output { text, json }

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--file"}, defaultValue = "dualdeploy.yaml", paramLabel = "FILE",
            description = "The config file (default: ${DEFAULT-VALUE}).")
    Path file;

    @Option(names = "--override", paramLabel = "JSON",
            description = "A JSON object of config keys merged over the file before validation (the Jenkins step's parameters).")
    String override;

    @Option(names = "--allow-outside-manifests",
            description = "Let the config's kubernetes.manifests be absolute or outside the config file's directory."
                    + " Only for configs from trusted branches.")
    boolean allowOutsideManifests;

    @Option(names = "--output", defaultValue = "text", paramLabel = "FORMAT",
            description = "text (for people) or json (a stable result on stdout; progress stays on stderr).")
    Output output;

    /** The real time, chosen here (the engine takes the time it is given). */
    static final Clock CLOCK = Clock.systemUTC();

    private String runId;
    private RunRecorder recorder;
    private PrintWriter textOut;

    boolean json() {
        return output == Output.json;
    }

    /**
     * The config, validated as {@code validate} does before any network call: the file, and the kubeconfigs it names
     * that can be read now (a local read). So every command refuses with exit 2 what validate refuses, before it
     * reaches a platform (a context the kubeconfig lacks would otherwise surface only after another side was asked).
     */
    DualDeploySpec config() {
        DualDeploySpec config = new ConfigLoader(allowOutsideManifests).load(file, override);
        List<ConfigProblem> kubeconfig = Kubeconfig.validate(config, file, System.getenv(), Path.of(System.getProperty("user.home")));
        if (!kubeconfig.isEmpty()) {
            throw new ConfigException(kubeconfig);
        }
        return config;
    }

    StageSpec stage(DualDeploySpec config, String name) {
        return config.stage(name).orElseThrow(() -> new UsageException("no stage '" + name + "' in " + file + "; stages are "
                + config.stages().stream().map(StageSpec::name).toList()));
    }

    /**
     * Where the command's result goes: stdout as it is for JSON, which escapes its own values, and for text through an
     * {@link EscapingWriter}, so that no value a text result quotes (a version a platform holds, a reason from another
     * party) can move the terminal's cursor, reorder what it shows or forge a line. Every command's text result is
     * printed through here (and {@link Print}).
     */
    PrintWriter out() {
        if (json()) {
            return spec.commandLine().getOut();
        }
        if (textOut == null) {
            textOut = new EscapingWriter(spec.commandLine().getOut());
        }
        return textOut;
    }

    /** This invocation's run id, made once (and only when asked for) from the clock. */
    String runId() {
        if (runId == null) {
            runId = RunIds.next(CLOCK);
        }
        return runId;
    }

    /**
     * Begins this invocation's run: prints {@code run <id>} first on stderr, journals that the run started in
     * {@code journal}, and returns the sink that journals each event and prints it as a progress line on stderr (so
     * that stdout carries only the result, text or JSON).
     *
     * @throws UsageException if the journal directory cannot be written: exit 2, before anything changed
     */
    EventSink begin(Path journal, List<String> stages, Optional<Release> release) {
        // A directory the user named with --journal is theirs to choose, links and all; the default one lies in a
        // workspace a branch fills, so a link anywhere in it is refused (see Journal.refusingLinks).
        boolean named = spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption("--journal");
        recorder = new RunRecorder(runId(), CLOCK, named ? new Journal(journal) : Journal.refusingLinks(journal),
                spec.commandLine().getErr());
        recorder.begin(new Event.RunStarted(runId(), recorder.now(), Optional.empty(), Optional.empty(), spec.name(), stages,
                release.map(Release::image), release.map(Release::version), by(System.getenv(), System.getProperty("user.name", ""))));
        return recorder;
    }

    /**
     * Who or what starts a run: the Jenkins {@code BUILD_TAG}, else the user name, else empty. Both come from outside,
     * so they are escaped and capped ({@link Text#foreign}) here, where they enter an event.
     */
    static Optional<String> by(Map<String, String> env, String userName) {
        String by = Optional.ofNullable(env.get("BUILD_TAG")).filter(t -> !t.isBlank()).orElse(userName == null ? "" : userName);
        return Optional.of(by).filter(b -> !b.isBlank()).map(Text::foreign);
    }

    /**
     * Writes the {@code --junit} report of the run's events before the run ends, so that the run's end, the JSON and the
     * process carry one exit code. A report that cannot be written is journaled (and so printed) as a notice, and the
     * exit code becomes {@link ExitCodes#NEEDS_ATTENTION} when it was {@link ExitCodes#OK}: the command did its work, but
     * the report the build publishes is missing. A code that already says a failure is kept.
     *
     * @return the exit code the run ends with
     */
    int junit(Path junit, String stage, int code) {
        try {
            JUnitReport.write(junit, events());
            return code;
        } catch (UncheckedIOException e) {
            int ends = code == ExitCodes.OK ? ExitCodes.NEEDS_ATTENTION : code;
            recorder.accept(new Event.Notice(runId(), recorder.now(), Optional.of(stage), Optional.empty(),
                    Text.line(e.getMessage(), 500) + "; the run ends with exit code " + ends));
            return ends;
        }
    }

    /**
     * Says on stderr (journaling nothing) which run of the stage did not journal its end, if its last run did not.
     * Called only once this run holds the stage's lease: a run that still held it would have refused this one, so the
     * run named is not a live one.
     */
    void sayInterrupted(Path journal, String stage) {
        Interrupted.line(journal, stage, runId()).ifPresent(line -> RunRecorder.say(spec.commandLine().getErr(), "[" + stage + "] " + line));
    }

    /**
     * Ends the work of a run aborted before it changed anything in the stage (while it waited for the lease, or before
     * its engine began): journals the {@code aborted} event and says so, and returns the stage's ABORTED result.
     *
     * @param where where the abort found the run, such as {@code while waiting for the stage lease}
     */
    static StageResult abortedBeforeAnyChange(EventSink events, String stage, Optional<Release> release, Abort abort, String where) {
        String reason = "aborted (" + abort.reason().orElse("abort") + ") " + where + ": nothing was changed";
        events.accept(new Event.Aborted(events.run(), events.now(), Optional.of(stage), Optional.empty(), abort.reason().orElse("abort")));
        // The sides were not read: their parity is unknown, though this run changed nothing on them.
        Parity unread = new Parity(Parity.Outcome.UNREADABLE, "parity unknown: the sides were not read (the run was aborted"
                + " before it read them; it changed nothing)");
        // The stage ends in the events too: the results (the JSON) are read from them.
        events.accept(new Event.StageEnded(events.run(), events.now(), Optional.of(stage), Optional.empty(),
                StageOutcome.ABORTED.name(), reason, Optional.of(Event.ParityStatus.UNREADABLE), Optional.of(unread.reason()),
                List.of()));
        return new StageResult(stage, release, StageOutcome.ABORTED, reason, unread, List.of());
    }

    /** Where an abort found a run that changed nothing yet: waiting for the lease, or after it, before {@code what}. */
    static String where(LeaseKeeper held, String what) {
        return held.stoppedWaiting() ? "while waiting for the stage lease" : "before " + what + " began";
    }

    /** Journals the end of the run, if one began and did not end yet (an error that stopped the command). */
    void end(String outcome, int exitCode, String reason) {
        if (recorder != null) {
            recorder.end(outcome, exitCode, reason);
        }
    }

    /** The events of the run this invocation began, in order; empty if it began none. */
    List<Event> events() {
        return recorder == null ? List.of() : recorder.events();
    }

    /** The id of the run this invocation began, or empty if it began none (it stopped before, on bad input). */
    Optional<String> startedRun() {
        return recorder == null || !recorder.started() ? Optional.empty() : Optional.of(recorder.run());
    }
}
