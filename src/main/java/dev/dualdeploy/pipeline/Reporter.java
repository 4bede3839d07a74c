package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.targets.Progress;

/** Where the engine reports progress for people: one event per line, prefixed with stage and side. */
@FunctionalInterface
public interface Reporter {

    /** Reports one event; {@code side} is null for stage-wide events. */
    void event(String stage, Side side, String message);

    /** The progress sink for one side of one stage. */
    default Progress side(String stage, Side side) {
        return message -> event(stage, side, message);
    }

    /** Formats an event the way the CLI prints it: {@code [preprod/kubernetes] message}. */
    static String line(String stage, Side side, String message) {
        return "[" + stage + (side == null ? "" : "/" + side.label()) + "] " + message;
    }
}
