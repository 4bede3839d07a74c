package dev.dualdeploy.testing;

import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.report.ProgressLines;
import java.time.Clock;
import java.util.List;
import java.util.function.Consumer;

/** Event sinks for tests: the engine's events as the progress lines the CLI prints, or as they are. */
public final class ProgressRecorder {

    private ProgressRecorder() {
    }

    /** A sink that adds each event's progress line ({@code [prod/kubernetes] message}) to {@code lines}. */
    public static EventSink lines(List<String> lines) {
        return EventSink.of(RunIds.next(Clock.systemUTC()), Clock.systemUTC(), e -> lines.add(ProgressLines.line(e)));
    }

    /** A sink that adds each event's progress line to {@code lines} and hands the event to {@code also}. */
    public static EventSink lines(List<String> lines, Consumer<Event> also) {
        return EventSink.of(RunIds.next(Clock.systemUTC()), Clock.systemUTC(), e -> {
            lines.add(ProgressLines.line(e));
            also.accept(e);
        });
    }

    /** A sink that records nothing. */
    public static EventSink none() {
        return EventSink.discarding(Clock.systemUTC());
    }
}
