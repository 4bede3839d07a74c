package dev.dualdeploy.pipeline;

import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.config.Side;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What one gate run judged and decided.
 *
 * @param stage the stage name
 * @param phase {@code gate}, or for a canary {@code canary} and then {@code follow}
 * @param judged the sides judged (those that run the release)
 * @param outcome the worst of the checks' outcomes
 * @param decision what the outcome means under the gate's on_inconclusive and on_error
 * @param reason one line a person can act on
 * @param checks every check, with its verdict and samples
 * @param windows the windows measured
 * @param plannedWindows the windows the soak holds; fewer were measured if the gate stopped early
 * @param started when the gate began
 * @param took how long it ran
 */
public record GateResult(String stage, String phase, List<Side> judged, Verdict.Outcome outcome, Decision decision, String reason,
                         List<CheckResult> checks, int windows, int plannedWindows, Instant started, Duration took) {

    /** What the gate decided. */
    public enum Decision {
        /** The stage may be promoted. */
        PASS,
        /** The release is rolled back. */
        FAIL,
        /** The metrics could not be had and on_error is pause: the release stays, a person decides. */
        PAUSE
    }

    /**
     * One check on one side (or pair of sides).
     *
     * @param name stable across runs, such as {@code compare error_rate [kubernetes vs legacy]}
     * @param verdict its verdict
     * @param samples the per-window values it judged, by series ({@code kubernetes}, {@code legacy before-deploy})
     */
    public record CheckResult(String name, Verdict verdict, Map<String, List<Double>> samples) {
    }

    public GateResult {
        judged = List.copyOf(judged);
        checks = List.copyOf(checks);
    }

    /** Whether the gate stopped before its soak ended. */
    public boolean early() {
        return windows < plannedWindows;
    }
}
