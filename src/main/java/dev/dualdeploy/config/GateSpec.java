package dev.dualdeploy.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What must hold before a stage counts as done and the next one may start: metric analysis over a soak (the
 * {@code checks}). A person's approval is not part of the gate: it guards a stage's entry ({@link StageSpec#approval()}).
 *
 * @param canary the side that gets the release first and is judged against the other side, which still runs the
 *               previous release; empty to deploy every enabled side at once and judge them together
 * @param soak how long the gate watches before it may PASS
 * @param interval the length of one window: one measurement of every metric on every side
 * @param followSoak with a canary, how long the short gate after the other side followed watches
 * @param checks what is judged in each window and at the end; empty for no metric analysis
 * @param metrics where the metrics come from; empty when no check needs one
 * @param minRequests a window with fewer requests than this on a side is too thin to judge (INCONCLUSIVE, not PASS)
 * @param errorLimit how many windows in a row may fail to be measured before the gate is ERROR
 * @param onError what an ERROR gate does: fail (roll back) or pause (leave the release for a person)
 * @param onInconclusive what a gate still INCONCLUSIVE at the end of the soak does: fail (roll back) or pass
 */
public record GateSpec(Optional<Side> canary, Duration soak, Duration interval, Duration followSoak, List<CheckSpec> checks,
                       Optional<MetricsSpec> metrics, long minRequests, int errorLimit, OnError onError,
                       OnInconclusive onInconclusive) {

    public static final Duration DEFAULT_SOAK = Duration.ofMinutes(10);
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final long DEFAULT_MIN_REQUESTS = 100;
    public static final int DEFAULT_ERROR_LIMIT = 2;

    /** What an ERROR gate (the metrics could not be had) does. */
    public enum OnError { FAIL, PAUSE }

    /** What a gate that is still INCONCLUSIVE at the end of the soak does. */
    public enum OnInconclusive { FAIL, PASS }

    public GateSpec {
        checks = List.copyOf(checks);
    }

    /** No gate: the stage is done when its deploy succeeds. */
    public static GateSpec none() {
        return new GateSpec(Optional.empty(), DEFAULT_SOAK, DEFAULT_INTERVAL, DEFAULT_INTERVAL.multipliedBy(3), List.of(),
                Optional.empty(), DEFAULT_MIN_REQUESTS, DEFAULT_ERROR_LIMIT, OnError.FAIL, OnInconclusive.FAIL);
    }

    /** Whether the gate analyses anything (it has checks). */
    public boolean analyses() {
        return !checks.isEmpty();
    }
}
