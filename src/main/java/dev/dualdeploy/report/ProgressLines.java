package dev.dualdeploy.report;

import dev.dualdeploy.journal.Event;

/**
 * The progress lines people read in a Jenkins log, one event per line: a reader of the events, as the JSON summary and
 * the JUnit XML are.
 */
public final class ProgressLines {

    private ProgressLines() {
    }

    /** An event as one progress line: {@code [preprod/kubernetes] message}, or {@code [run] message} without a stage. */
    public static String line(Event event) {
        return "[" + event.stage().orElse("run") + event.side().map(s -> "/" + s.label()).orElse("") + "] " + event.message();
    }
}
