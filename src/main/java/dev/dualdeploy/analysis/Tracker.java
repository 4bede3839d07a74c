package dev.dualdeploy.analysis;

import dev.dualdeploy.config.Side;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The running state of one gate check on one side (or pair of sides) over a gate run: it takes the soak's windows one
 * at a time, may FAIL early, and gives its verdict when the gate ends. The gate's soak loop ({@code pipeline/Gate})
 * owns the order of things; a tracker owns what one check knows. Make them with {@link Trackers#of}.
 */
public interface Tracker {

    /** The check with its sides, as its verdict will name it, such as {@code slo error_rate [kubernetes]}. */
    String name();

    /** Adds the metrics this check reads in each window, by side (idempotent; a probe adds nothing). */
    void needs(Map<Side, Set<String>> needs);

    /**
     * Reads once what the check needs before it can take a window (a before-deploy baseline); idempotent once it
     * succeeded. Empty when ready; otherwise why it could not read, and the window is lost.
     */
    Optional<String> prepare();

    /** Takes one window's reading; a FAIL stops the gate, empty means go on. */
    Optional<Verdict> window(WindowReading reading);

    /**
     * The check when the gate ends: its FAIL if it failed; not decided if the gate stopped early and the check judges
     * only at the end; else its own judgement.
     *
     * @param stoppedAfter how far the gate got ({@code 3 of 6 windows}) if it stopped early; empty if the soak ran out
     * @param took how long the gate ran
     */
    Result finish(Optional<String> stoppedAfter, Duration took);

    /**
     * What a check came to.
     *
     * @param name stable across runs, such as {@code compare error_rate [kubernetes vs legacy]}
     * @param verdict its verdict
     * @param samples the per-window values it judged, by series ({@code kubernetes}, {@code legacy before-deploy})
     */
    record Result(String name, Verdict verdict, Map<String, List<Double>> samples) {
    }
}
