package dev.dualdeploy.journal;

import java.util.List;

/**
 * One run's journal as read back.
 *
 * @param run the run id
 * @param events every whole event, in the order written
 * @param torn whether the file ended in a partly written line (the process died while writing it), which was left out
 */
public record RunLog(String run, List<Event> events, boolean torn) {

    public RunLog {
        events = List.copyOf(events);
    }

    /** Whether the run never said it ended: it was killed, or it is still running. */
    public boolean interrupted() {
        return events.stream().noneMatch(Event.RunEnded.class::isInstance);
    }
}
