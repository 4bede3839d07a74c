package dev.dualdeploy.journal;

import java.util.List;

/**
 * One run's journal as read back.
 *
 * @param run the run id
 * @param events every whole event, in the order written
 * @param torn whether the file ended in a partly written line (the process died while writing it), which was left out
 * @param cut whether the file is longer than {@link Journal#MAX_FILE} and was read only that far
 */
public record RunLog(String run, List<Event> events, boolean torn, boolean cut) {

    public RunLog {
        events = List.copyOf(events);
    }

    /** A run's journal read whole. */
    public RunLog(String run, List<Event> events, boolean torn) {
        this(run, events, torn, false);
    }

    /** Whether the run never said it ended: it was killed, or it is still running. */
    public boolean interrupted() {
        return events.stream().noneMatch(Event.RunEnded.class::isInstance);
    }
}
