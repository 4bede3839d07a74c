package dev.dualdeploy.cli;

import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.Journal;
import dev.dualdeploy.journal.JournalException;
import dev.dualdeploy.journal.JournalFullException;
import dev.dualdeploy.report.ProgressLines;
import dev.dualdeploy.text.Text;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The sink of a CLI run: each event is appended to the run's journal file (fsynced) and then printed as its progress
 * line on stderr, before the engine goes on. The run's first event must reach the journal, or the run does not begin
 * (exit 2: nothing was changed); a later event that cannot be journaled for an I/O error (a disk that filled up) is
 * said once on stderr and the run goes on without its journal, because stopping in the middle of a rollout or a
 * rollback would leave the stage in a worse state than a gap in the audit trail. An event too long for a line is
 * journaled cut, and a full file still takes the run's end: neither turns the journal off.
 */
final class RunRecorder implements EventSink {

    private final String run;
    private final Clock clock;
    private final Journal journal;
    private final PrintWriter err;
    private final List<Event> recorded = new ArrayList<>();
    private boolean started;
    private boolean broken;
    private boolean full;
    private boolean ended;

    RunRecorder(String run, Clock clock, Journal journal, PrintWriter err) {
        this.run = run;
        this.clock = clock;
        this.journal = journal;
        this.err = err;
    }

    @Override
    public String run() {
        return run;
    }

    @Override
    public Clock clock() {
        return clock;
    }

    /**
     * Begins the run: prints {@code run <id>} first on stderr and journals its first event.
     *
     * @throws UsageException if the journal directory cannot be written (exit 2, before anything changed)
     */
    void begin(Event.RunStarted first) {
        synchronized (err) {
            err.println("run " + run);
            err.flush();
        }
        try {
            journal.append(first);
        } catch (JournalException e) {
            // Only an I/O error is the directory's fault; a link in the way says so itself.
            throw new UsageException(e.getCause() instanceof IOException
                    ? "the journal directory " + journal.directory() + " cannot be written (" + e.getMessage()
                            + "); nothing was changed: make it writable or choose another with --journal DIR"
                    : e.getMessage() + "; nothing was changed");
        }
        started = true;
        recorded.add(first);
        print(first);
    }

    @Override
    public synchronized void accept(Event event) {
        if (!broken) {
            try {
                journal.append(event);
            } catch (JournalFullException e) {
                // Not broken: the file keeps room for the run's end, which is still journaled.
                if (!full) {
                    full = true;
                    warn(e.getMessage() + "; the run's later events are printed, not journaled, except its end");
                }
            } catch (JournalException e) {
                // Only an I/O error (a disk that filled up, a directory gone) turns the journal off; an event too long
                // for a line is journaled cut by the journal itself.
                broken = true;
                warn(e.getMessage() + "; the run goes on without its journal");
            }
        }
        recorded.add(event);
        print(event);
        if (event instanceof Event.RunEnded) {
            ended = true;
        }
    }

    /** The events of this run so far, in order: what the reports of the run read. */
    synchronized List<Event> events() {
        return List.copyOf(recorded);
    }

    /** Whether the run began: its first event is in the journal. */
    boolean started() {
        return started;
    }

    /** Ends the run once, if it began and has not ended yet: what an error that stopped the command journals. */
    void end(String outcome, int exitCode, String reason) {
        if (started && !ended) {
            accept(new Event.RunEnded(run, now(), Optional.empty(), Optional.empty(), outcome, exitCode, reason));
        }
    }

    private void warn(String message) {
        say(err, "warning: " + message);
    }

    private void print(Event event) {
        say(err, ProgressLines.line(event));
    }

    /**
     * The one printer of the lines a person reads on stderr (progress, warnings, the signal and interrupted-run lines):
     * one escaped line, whole, even when a signal handler's thread prints beside the engine's.
     */
    static void say(PrintWriter err, String line) {
        synchronized (err) {
            err.println(Text.line(line));
            err.flush();
        }
    }
}
