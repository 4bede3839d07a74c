package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.text.Text;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Makes the events the engine's classes emit alike, from engine types to the journal's plain ones, stamped with the
 * sink's run and clock. The engine says what it did through these and nothing else.
 */
final class Emit {

    private Emit() {
    }

    /** The longest image a read-back journals: an image reference is at most 640 characters (see the config). */
    private static final int MAX_IMAGE = 700;

    /**
     * A target's progress on one side: each line it says becomes a {@link Event.RolloutProgress}. A line may quote the
     * platform's own words (an event's message), so it is escaped and capped where the event is made.
     */
    static Progress progress(EventSink events, String stage, Side side) {
        return detail -> events.accept(new Event.RolloutProgress(events.run(), events.now(), Optional.of(stage), Optional.of(side),
                Text.foreign(detail)));
    }

    static void notice(EventSink events, String stage, Side side, String text) {
        events.accept(new Event.Notice(events.run(), events.now(), Optional.of(stage), Optional.ofNullable(side), text));
    }

    static void stageStarted(EventSink events, String stage, String action, List<Side> sides, Optional<String> image,
                             Optional<String> version, Map<Side, TargetState> before) {
        List<String> images = sides.stream().map(s -> Optional.ofNullable(before.get(s)).flatMap(TargetState::image).orElse("")).toList();
        events.accept(new Event.StageStarted(events.run(), events.now(), Optional.of(stage), Optional.empty(), action, sides, image,
                version, images));
    }

    /**
     * The stage ended as its result says: its outcome, reason and parity, and the sides it covers (each one's own
     * events say how it ended), so that a reader of the events (the JSON result) says what the result says.
     */
    static void stageEnded(EventSink events, StageResult result) {
        events.accept(new Event.StageEnded(events.run(), events.now(), Optional.of(result.stage()), Optional.empty(),
                result.outcome().name(), result.reason(), Optional.of(Event.ParityStatus.valueOf(result.parity().outcome().name())),
                Optional.of(result.parity().reason()), result.sides().stream().map(SideResult::side).toList()));
    }

    static void rolloutEnded(EventSink events, String stage, Side side, RolloutResult result) {
        events.accept(new Event.RolloutEnded(events.run(), events.now(), Optional.of(stage), Optional.of(side), status(result),
                result.reason(), result.took(), result.supersededBy()));
    }

    /** @param error why the rollback could not be started, or empty */
    static void rollbackEnded(EventSink events, String stage, Side side, RolloutResult result, String prefix, Optional<String> error) {
        events.accept(new Event.RollbackEnded(events.run(), events.now(), Optional.of(stage), Optional.of(side), status(result),
                prefix + result.reason(), result.took(), error));
    }

    static void rollbackStarted(EventSink events, String stage, Side side, List<Side> sides, String reason, Optional<String> to) {
        events.accept(new Event.RollbackStarted(events.run(), events.now(), Optional.of(stage), Optional.ofNullable(side), sides,
                reason, to));
    }

    /**
     * What each side runs, as read back: one {@link Event.ReadBack} per side. Everything read is what a platform (or
     * another writer) says, so it is escaped and capped where the event is made.
     */
    static void readBack(EventSink events, String stage, Map<Side, String> targets, Map<Side, TargetState> states) {
        states.forEach((side, state) -> events.accept(new Event.ReadBack(events.run(), events.now(), Optional.of(stage),
                Optional.of(side), targets.getOrDefault(side, side.label()), state.image().map(i -> Text.line(i, MAX_IMAGE)),
                state.digest().map(Text::foreign), state.version().map(Text::foreign),
                state.lastGoodImage().map(i -> Text.line(i, MAX_IMAGE)), Event.Health.valueOf(state.health().name()),
                Text.foreign(state.detail()), state.previousGoodImage().map(i -> Text.line(i, MAX_IMAGE)),
                List.copyOf(state.lastGoodSides()))));
    }

    static void parity(EventSink events, String stage, Parity parity) {
        events.accept(new Event.Parity(events.run(), events.now(), Optional.of(stage), Optional.empty(),
                Event.ParityStatus.valueOf(parity.outcome().name()), parity.reason()));
    }

    static void lastGood(EventSink events, String stage, List<Side> sides, String version) {
        events.accept(new Event.LastGoodRecorded(events.run(), events.now(), Optional.of(stage), Optional.empty(), sides, version));
    }

    private static Event.RolloutStatus status(RolloutResult result) {
        return Event.RolloutStatus.valueOf(result.outcome().name());
    }
}
